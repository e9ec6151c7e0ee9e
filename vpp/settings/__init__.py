"""Settings package: ``base`` (shared), ``local`` (dev/demo), ``test`` and ``production``."""
