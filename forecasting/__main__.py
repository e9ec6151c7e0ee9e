"""``python -m forecasting`` — see :mod:`forecasting.cli`."""

import sys

from forecasting.cli import main

sys.exit(main())
