"""Reads of settlement, scoped to the caller, and the owners' monthly statements.

Scoping: aggregator members see every run and site settlement; a site owner sees only the site settlements of
its own sites (:func:`apps.assets.selectors.site_list`) and its own statements; a market operator sees the
portfolio-level runs of events of its own programs (no site or owner figures). Statements and summaries use the
current version of each event's settlement only.

- :mod:`.runs`: scoped runs and site settlements, and their summaries;
- :mod:`.statements`: the owners' monthly statements;
- :mod:`.figures`: figures shown on several pages (event figures, period savings, settled totals).

The public names are re-exported here, so callers keep ``from apps.settlement import selectors`` and
``from apps.settlement.selectors import ...``.
"""

from __future__ import annotations

from .figures import (
    BACKLOG_SERIES,
    COUNTERFACTUAL_SERIES,
    EventFigures,
    PeriodSavings,
    SettledTotals,
    event_figures,
    period_savings,
    savings_period,
    settled_totals,
    site_called_kwh,
)
from .runs import ZERO, run_list, settlement_summary, site_settlement_list
from .statements import (
    Statement,
    StatementLine,
    StatementTotal,
    owner_statement,
    statement_months,
    statement_owner_list,
)

__all__ = [
    "BACKLOG_SERIES",
    "COUNTERFACTUAL_SERIES",
    "ZERO",
    "EventFigures",
    "PeriodSavings",
    "SettledTotals",
    "Statement",
    "StatementLine",
    "StatementTotal",
    "event_figures",
    "owner_statement",
    "period_savings",
    "run_list",
    "savings_period",
    "settled_totals",
    "settlement_summary",
    "site_called_kwh",
    "site_settlement_list",
    "statement_months",
    "statement_owner_list",
]
