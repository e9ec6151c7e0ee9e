"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


@pytest.fixture
def wsgi_app():  # type: ignore[no-untyped-def]
    """The project's WSGI application, called in-process inside the test's transaction: like Django's test
    client, requests must not close the database connection at their start and end."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
