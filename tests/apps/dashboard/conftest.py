"""Fixtures of the dashboard tests: a browser-like Django test client logged in as each persona."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import World


@pytest.fixture
def page_as(world: World) -> Callable[[str], Client]:
    """``page_as(persona)`` → a Django test client (form posts, sessions) logged in as that persona."""

    def make(persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            client.force_login(world.users[persona])
        return client

    return make
