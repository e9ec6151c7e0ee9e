"""Fixtures for the simulators: the dispatch fixtures (two active sites, an activated event, a webhook sink),
shared with tests/apps/dispatch."""

from __future__ import annotations

from tests.apps.dispatch.conftest import STEP, activate, activation, sink, sites

__all__ = ["STEP", "activate", "activation", "sink", "sites"]
