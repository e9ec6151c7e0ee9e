"""The replay's summary, computed from stored records only, through the same selectors as the pages: the
settled events (:func:`apps.settlement.selectors.settled_totals`), the period savings against running work as
it arrives (:func:`apps.settlement.selectors.period_savings`) and the green ledger; plus counts of the market and
dispatch records. :func:`summary_table` prints it for a person (the JSON stays the machine-readable form)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from apps.accounts.choices import OrganisationKind, Role
from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.dispatch.models import DispatchPlan, ReplanRun, Setpoint
from apps.greenpower.selectors import site_green_ledger
from apps.markets.models import Activation, Award, Bid, Event
from apps.settlement.selectors import event_figures, period_savings, settled_totals
from apps.telemetry.selectors import sla_outcomes

from .oracle import OracleFigures


def aggregator_principal() -> Principal:
    """The aggregator's staff as the summary's reader (it shows the portfolio's figures, as the staff pages)."""
    return Principal(
        organisation=Organisation.objects.filter(kind=OrganisationKind.AGGREGATOR).first(), role=Role.ADMIN
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def replay_summary(
    *,
    start: datetime,
    end: datetime,
    sites: list[Site],
    unserved_it_kwh: dict[int, float] | None = None,
    oracle: OracleFigures | None = None,
    carbon_price_per_tonne: float = 0.0,
) -> dict:
    """Figures of ``[start, end)`` (see the module docstring). ``unserved_it_kwh`` (IT kWh by site id): deferred
    work still waiting at the end; by default what the replay stored
    (:data:`apps.settlement.selectors.BACKLOG_SERIES`). The SLA figures come from the sites' reported queues
    (:func:`apps.telemetry.selectors.sla_outcomes`), delivery per event from
    :func:`apps.settlement.selectors.event_figures`; ``oracle`` (the perfect-foresight solve of
    :mod:`apps.replay.oracle`) adds its cost saving and the share of it the product captured."""
    events = Event.objects.filter(start__gte=start, start__lt=end)
    plans = DispatchPlan.objects.filter(valid_from__gte=start - pd.Timedelta(days=1), valid_from__lt=end)
    settled = settled_totals(principal=aggregator_principal(), start=start, end=end)  # one principal
    savings = period_savings(sites=sites, start=start, end=end, unserved_it_kwh=unserved_it_kwh)
    principal = aggregator_principal()
    per_event = event_figures(principal=principal, event_ids=list(settled.event_ids))
    names = dict(Event.objects.filter(pk__in=per_event).values_list("pk", "program__name"))
    sla = sla_outcomes(sites=sites, start=start, end=end)
    savings_pct = savings.cost_savings_pct
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "sla_late_kwh": round(sla.late_kwh, 1),
        "sla_late_jobs": sla.late_jobs,
        "max_lateness_h": round(sla.max_lateness_h, 2),
        "waiting_past_deadline_kwh": round(sla.waiting_past_deadline_kwh, 1),
        "event_delivery": [
            {
                "event": event_id,
                "program": names.get(event_id, ""),
                "awarded_kwh": round(f.awarded_kwh, 1),
                "delivered_kwh": round(f.delivered_kwh, 1),
                "delivered_over_awarded": _round(f.delivered_kwh / f.awarded_kwh, 3)
                if f.awarded_kwh
                else None,
                "performance_factor": _round(f.performance_factor, 3),
            }
            for event_id, f in sorted(per_event.items())
        ],
        "carbon_price_per_tonne": carbon_price_per_tonne,
        "replans": _replans(start, end),
        "oracle_cost_savings_pct": None if oracle is None else _round(oracle.saving_pct, 2),
        "oracle_energy_only_savings_pct": None
        if oracle is None
        else _round(oracle.energy_only_saving_pct, 2),
        "oracle_share_pct": None
        if oracle is None or not oracle.saving_pct or savings_pct is None
        else round(100 * savings_pct / oracle.saving_pct, 1),
        "events": events.count(),
        "bids": Bid.objects.filter(event__in=events).count(),
        "awards": Award.objects.filter(bid__event__in=events).count(),
        "activations": Activation.objects.filter(event__in=events).count(),
        "setpoints": Setpoint.objects.filter(plan__in=plans).count(),
        "schedules": plans.filter(kind="schedule").count(),
        "dispatch_plans": plans.filter(kind="activation").count(),
        "settled_events": settled.settled_events,
        "delivered_kwh": round(settled.delivered_kwh, 1),
        "awarded_kwh": round(settled.awarded_kwh, 1),
        "mean_performance_factor": _round(settled.mean_performance_factor, 3),
        "revenue": float(settled.revenue),
        "owner_payouts": float(settled.owner_payouts),
        "energy_kwh": round(savings.energy_kwh, 1),
        "unserved_work_kwh": round(savings.unserved_work_kwh, 1),
        "baseline_energy_kwh": round(savings.baseline_energy_kwh, 1),
        "energy_cost": round(savings.energy_cost, 2),
        "baseline_energy_cost": round(savings.baseline_energy_cost, 2),
        "energy_cost_saved": round(savings.cost_saving, 2),
        "cost_savings_pct": _round(savings.cost_savings_pct, 2),
        "emissions_kg": round(savings.emissions_kg, 1),
        "baseline_emissions_kg": round(savings.baseline_emissions_kg, 1),
        "carbon_savings_pct": _round(savings.carbon_savings_pct, 2),
        "currency": savings.currency,
        "green": _green(sites, start, end),
    }


def _replans(start: datetime, end: datetime) -> dict:
    """The intraday re-plans of the period: how many ran, failed and changed setpoints, and their time (s)."""
    runs = list(
        ReplanRun.objects.filter(slot__gte=start, slot__lt=end).values_list(
            "status", "changed_setpoints", "build_seconds", "solve_seconds", "cpu_seconds"
        )
    )
    wall = [b + s for _, _, b, s, _ in runs if b is not None and s is not None]
    cpu = [c for *_, c in runs if c is not None]
    return {
        "runs": len(runs),
        "failed": sum(1 for status, *_ in runs if status == "failed"),
        "with_changes": sum(1 for _, n, *_ in runs if n),
        "setpoints_changed": sum(n for _, n, *_ in runs),
        "wall_seconds_median": round(float(np.median(wall)), 3) if wall else None,
        "wall_seconds_max": round(max(wall), 3) if wall else None,
        "cpu_seconds_median": round(float(np.median(cpu)), 3) if cpu else None,
    }


def _green(sites: list[Site], start: datetime, end: datetime) -> dict:
    """Per site: the hourly-matched green share (24/7 CFE score), the annual-matching share and the measured
    PUE over the period, from the green ledger (:func:`apps.greenpower.selectors.site_green_ledger`)."""
    out = {}
    for site in sites:
        summary = site_green_ledger(site=site, start=start, end=end).summary
        out[site.name] = {
            key: None if (value := summary.get(key)) is None else round(float(value), 4)
            for key in ("hourly_matched_share", "annual_matched_share", "pue_measured")
        }
    return out


def _money(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{value:,.2f} {currency}"


def _num(value: float | None, unit: str, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f} {unit}"


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} %"


def _replan_line(r: dict) -> str:
    if not r.get("runs"):
        return "—"
    return (
        f"{r['runs']} / {r['failed']} / {r['with_changes']}; {_num(r['wall_seconds_median'], 's', 3)}, "
        f"{_num(r['wall_seconds_max'], 's', 3)} (CPU {_num(r['cpu_seconds_median'], 's', 3)})"
    )


def _event_rows(summary: dict) -> list[tuple[str, str]]:
    """One row per settled event: delivered of awarded energy, their ratio and the performance factor."""
    rows = []
    for e in summary.get("event_delivery", []):
        ratio, pf = e["delivered_over_awarded"], e["performance_factor"]
        rows.append(
            (
                f"  event {e['event']} {e['program']}"[:60],
                f"{_num(e['delivered_kwh'], 'kWh')} of {_num(e['awarded_kwh'], 'kWh')} "
                f"({_pct(None if ratio is None else 100 * ratio, 1)}), "
                f"PF {_pct(None if pf is None else 100 * pf, 1)}",
            )
        )
    return rows


def summary_table(summary: dict) -> str:
    """The summary as an aligned two-column text table (money with thousands separators and 2 decimals,
    percentages as %), then one line per site of the green ledger."""
    cur = summary["currency"]
    pf = summary["mean_performance_factor"]
    delivered, awarded = summary["delivered_kwh"], summary["awarded_kwh"]
    rows = [
        ("Period (UTC)", f"{summary['period']['start'][:16]} – {summary['period']['end'][:16]}"),
        (
            "Events / bids / awards / activations",
            f"{summary['events']} / {summary['bids']} / {summary['awards']} / {summary['activations']}",
        ),
        (
            "Day-ahead schedules / activation plans / setpoints",
            f"{summary['schedules']} / {summary['dispatch_plans']} / {summary['setpoints']:,}",
        ),
        ("Settled events", str(summary["settled_events"])),
        (
            "Delivered vs awarded energy",
            f"{_num(delivered, 'kWh')} of {_num(awarded, 'kWh')}"
            + (f" ({100 * delivered / awarded:.1f} %)" if awarded else ""),
        ),
        ("Mean performance factor", _pct(None if pf is None else 100 * pf, 1)),
        ("Net market revenue", _money(summary["revenue"], cur)),
        ("Paid out to site owners", _money(summary["owner_payouts"], cur)),
        (
            "Energy cost (vs run as it arrives)",
            f"{_money(summary['energy_cost'], cur)} vs {_money(summary['baseline_energy_cost'], cur)}",
        ),
        (
            "Energy cost saved",
            f"{_money(summary['energy_cost_saved'], cur)} ({_pct(summary['cost_savings_pct'])})",
        ),
        (
            "Emissions (vs run as it arrives)",
            f"{_num(summary['emissions_kg'], 'kg')} vs {_num(summary['baseline_emissions_kg'], 'kg')}"
            f" ({_pct(summary['carbon_savings_pct'])} saved)",
        ),
        (
            "Grid energy (vs run as it arrives)",
            f"{_num(summary['energy_kwh'], 'kWh')} vs {_num(summary['baseline_energy_kwh'], 'kWh')}",
        ),
        ("Unserved work at the end (charged)", _num(summary["unserved_work_kwh"], "kWh")),
        (
            "SLA: late kWh / late jobs / max lateness",
            f"{_num(summary.get('sla_late_kwh'), 'kWh')} / {summary.get('sla_late_jobs')} / "
            f"{_num(summary.get('max_lateness_h'), 'h', 2)}",
        ),
        ("SLA: waiting past deadline at the end", _num(summary.get("waiting_past_deadline_kwh"), "kWh")),
        (
            "Intraday re-plans: runs / failed / with changes; time median, max",
            _replan_line(summary.get("replans") or {}),
        ),
        (
            "Perfect-foresight oracle (same awards): cost saving / share captured",
            f"{_pct(summary.get('oracle_cost_savings_pct'))} / {_pct(summary.get('oracle_share_pct'), 1)}",
        ),
        (
            "Perfect-foresight oracle without the awards: cost saving",
            _pct(summary.get("oracle_energy_only_savings_pct")),
        ),
    ]
    rows += _event_rows(summary)
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append("")
    lines.append(f"{'Green power by site':<{width}}  hourly-matched · annual-matched · measured PUE")
    for name, green in summary["green"].items():
        hourly, annual, pue = (
            green.get(k) for k in ("hourly_matched_share", "annual_matched_share", "pue_measured")
        )
        lines.append(
            f"  {name:<{width - 2}}  {_pct(None if hourly is None else 100 * hourly, 1)} · "
            f"{_pct(None if annual is None else 100 * annual, 1)} · {'—' if pue is None else f'{pue:.3f}'}"
        )
    return "\n".join(lines)
