"""``python -m flexibility``: see :mod:`flexibility.cli`."""

import sys

from flexibility.cli import main

sys.exit(main())
