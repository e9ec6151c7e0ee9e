"""Green power reads other apps' data (sites, credentials, PV arrays, series, organisations, zones) through their
selectors: no ``<Model>.objects`` on another app's model in ``apps/greenpower``."""

from __future__ import annotations

from tests.apps.settlement.test_boundaries import foreign_model_queries


def test_greenpower_queries_no_other_apps_models() -> None:
    offenders = foreign_model_queries("greenpower")
    assert not offenders, "\n".join(offenders)
