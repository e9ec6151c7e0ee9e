"""Settle an event (versioned, idempotent): lock, load, compute, supersede, store.

:func:`event_settle` locks the event, gathers its inputs (:func:`~apps.settlement.inputs.settlement_inputs`),
computes the figures (:func:`~apps.settlement.calculation.settlement_figures`) and stores them as a
:class:`~apps.settlement.models.SettlementRun` with its rows. The inputs are fingerprinted: the same inputs find
the current run and write nothing; different inputs (meter data that arrived late) write version n+1 and
supersede the old one. This module only copies figures into rows; it computes none.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from apps.accounts.audit import audit_record
from apps.accounts.models import AuditAction
from apps.accounts.principal import Principal
from apps.accounts.selectors import aggregator_organisation
from apps.core import clock
from apps.core.errors import ConflictError
from apps.markets.choices import EventStatus
from apps.markets.models import Event
from apps.markets.selectors import award_get_for_bidder, event_get_locked

from ..calculation import IntervalFigures, SettlementFigures, settlement_figures
from ..choices import RunStatus
from ..inputs import settlement_inputs
from ..models import RunInterval, SettlementRun, SiteInterval, SiteSettlement


def event_settle(
    *, event_id: int, reason: str = "", principal: Principal | None = None
) -> tuple[SettlementRun, bool]:
    """Settle ``event_id`` (idempotent): returns ``(current run, created)``.

    ``principal`` is the staff member who asked for it (API ``settle/``), or ``None`` for the scheduled jobs; a
    staff request is written to the audit log (settle or re-settle, with the version and whether it changed).

    The figures and their rules (baselines, called kW, performance, money, the PJM regulation score, the revenue
    split and fees, savings) are :func:`~apps.settlement.calculation.settlement_figures`.

    Raises:
        Event.DoesNotExist: unknown event.
        ConflictError: the event is cancelled, not over yet, or has no award for the aggregator.
    """
    now = clock.now()
    with transaction.atomic():
        event = event_get_locked(event_id=event_id)
        if event.status == EventStatus.CANCELLED:
            raise ConflictError("a cancelled event is not settled.")
        if event.end > now:
            raise ConflictError("the event has not ended yet.")
        aggregator = aggregator_organisation()
        award = award_get_for_bidder(event_id=event.pk, bidder=aggregator) if aggregator is not None else None
        if award is None:
            raise ConflictError("the event has no award for the aggregator; there is nothing to settle.")
        figures = settlement_figures(settlement_inputs(event=event, award=award))
        current = SettlementRun.objects.filter(event=event, status=RunStatus.CURRENT).first()
        if current is not None and current.fingerprint == figures.fingerprint:
            _audit_settle(principal, event, current, created=False, previous=current)
            return current, False
        version = (current.version if current else 0) + 1
        if current is not None:
            SettlementRun.objects.filter(pk=current.pk).update(status=RunStatus.SUPERSEDED, superseded_at=now)
        run = run_store(
            event=event, figures=figures, version=version, now=now, reason=reason or _reason(current)
        )
        _audit_settle(principal, event, run, created=True, previous=current)
    return run, True


def _audit_settle(
    principal: Principal | None,
    event: Event,
    run: SettlementRun,
    *,
    created: bool,
    previous: SettlementRun | None,
) -> None:
    """Audit a staff (re-)settlement: a re-settle when a version existed before the request."""
    if principal is None:
        return
    resettle = previous is not None
    audit_record(
        actor=principal,
        action=AuditAction.SETTLEMENT_RESETTLE if resettle else AuditAction.SETTLEMENT_SETTLE,
        target=event,
        reason=run.reason,
        details={
            "run": run.pk,
            "version": run.version,
            "previous_version": previous.version if previous is not None else None,
            "created": created,
        },
    )


def _reason(previous: SettlementRun | None) -> str:
    return "first settlement" if previous is None else f"inputs changed since v{previous.version}"


def _interval_fields(row: IntervalFigures) -> dict:
    """The columns an interval row shares between the portfolio and a site."""
    return {
        "start": row.start,
        "end": row.end,
        "baseline_kw": row.baseline_kw,
        "metered_kw": row.metered_kw,
        "delivered_kw": row.delivered_kw,
        "awarded_kw": row.awarded_kw,
        "called_kw": row.called_kw,
        "performance_factor": row.performance_factor,
        "capacity_payment": row.capacity_payment,
        "energy_payment": row.energy_payment,
        "penalty": row.penalty,
    }


def run_store(
    *, event: Event, figures: SettlementFigures, version: int, now: datetime, reason: str
) -> SettlementRun:
    """Write ``figures`` as version ``version`` of the event's run (current), with its portfolio intervals, site
    settlements and site intervals. Values are copied as computed."""
    score = figures.regulation
    run = SettlementRun.objects.create(
        event=event,
        version=version,
        status=RunStatus.CURRENT,
        fingerprint=figures.fingerprint,
        settled_at=now,
        reason=reason,
        currency=figures.currency,
        baseline_method=figures.baseline_method,
        interval_minutes=figures.interval_minutes,
        awarded_kwh=figures.awarded_kwh,
        called_kwh=figures.called_kwh,
        delivered_kwh=figures.delivered_kwh,
        performance_factor=figures.performance_factor,
        capacity_payment=figures.capacity_payment,
        energy_payment=figures.energy_payment,
        penalty=figures.penalty,
        net_revenue=figures.net_revenue,
        aggregator_fees=figures.aggregator_fees,
        regulation_correlation=score.correlation if score else None,
        regulation_delay=score.delay if score else None,
        regulation_precision=score.precision if score else None,
        regulation_score=score.composite if score else None,
        metering_complete=figures.metering_complete,
        inputs=figures.provenance,
    )
    RunInterval.objects.bulk_create(
        RunInterval(run=run, price_per_mwh=row.price_per_mwh, **_interval_fields(row))
        for row in figures.intervals
    )
    for site in figures.sites:
        sv = site.savings
        settlement = SiteSettlement.objects.create(
            run=run,
            site_id=site.site_id,
            owner_id=site.owner_id,
            month=figures.month,
            awarded_kwh=site.awarded_kwh,
            delivered_kwh=site.delivered_kwh,
            performance_factor=site.performance_factor,
            capacity_payment=site.capacity_payment,
            energy_payment=site.energy_payment,
            penalty=site.penalty,
            revenue_share=site.revenue_share,
            fee_pct=site.fee_pct,
            fee=site.fee,
            owner_payout=site.owner_payout,
            metered_kwh=sv.metered_kwh,
            baseline_kwh=sv.baseline_kwh,
            metered_cost=sv.metered_cost,
            baseline_cost=sv.baseline_cost,
            cost_saving=sv.cost_saving,
            metered_emissions_kg=sv.metered_emissions_kg,
            baseline_emissions_kg=sv.baseline_emissions_kg,
            pv_kwh=sv.pv_kwh,
            consumption_kwh=sv.consumption_kwh,
            low_carbon_kwh=sv.low_carbon_kwh,
            pv_share_pct=sv.pv_share_pct,
            low_carbon_share_pct=sv.low_carbon_share_pct,
            baseline_detail=site.baseline_detail,
        )
        SiteInterval.objects.bulk_create(
            SiteInterval(site_settlement=settlement, **_interval_fields(row)) for row in site.intervals
        )
    return run
