"""The schedule result (frozen dataclasses + JSON).

JSON format (issue 5; extended, never renamed)::

    {"status": "optimal", "objective": 123.4, "currency": "USD",
     "cost": {"energy", "carbon", "degradation", "shortfall_penalty"}, "baseline_cost": {...same keys},
     "savings_pct": 12.3 (null when the baseline costs nothing), "emissions_kg", "baseline_emissions_kg",
     "late_kwh_hours": Σ_workloads Σ_t late_kwh × Δt (kWh × hours behind deadlines; 0 with hard deadlines),
     "sites": {site_id: {"grid_kw": [..T], "it_kw": [..T], "battery_kw": [..T] (charge − discharge),
                         "soc_kwh": [..T] or null (summed over the site's batteries), "import_kw", "export_kw",
                         "pv_used_kw", "baseline_grid_kw",
                         "workloads": {workload_id: {"served_kw": [..T], "late_kwh": [..T] (flexible only)},
                                       "<origin>/<workload_id>": {"served_kw": [..T], "origin": "<origin>"}}}},
     "migrations": [{"workload": id, "from": origin, "to": site, "kw": [..T], "kwh": total}],
     "commitments": {id: {"delivered_kw": [..window], "shortfall_kwh": x}},
     "timings": {"build_seconds", "solve_seconds"}, "lp": {"rows", "cols", "nonzeros"},
     "green": {...} (only when the problem has green contracts or a min_green_share; see below)}

Green extension: ``cost`` and ``baseline_cost`` gain ``"green_contracts"`` (contract cost net of the market
energy it displaces) and ``"green_shortfall"``; ``"green"`` is ``{"sites": {site_id: {"matched_kw": [..T],
"clean_kw": [..T], "hourly_share": [..T], "hourly_matched_share", "annual_matched_share", "min_green_share",
"shortfall_kwh", "baseline_hourly_matched_share"}}, "contracts": {id: {"profile_kwh", "matched_kwh",
"cost"}}}`` (:mod:`flexibility.green` defines the shares).

``served_kw`` is work served *at that site*: a workload's own entry is what runs at its origin; work
migrated in from another site appears at the destination under ``"<origin>/<workload_id>"`` (the site's
``it_kw`` adds ``migration_overhead`` × that work). With a ``lateness_penalty_per_mwh`` ``cost`` and
``baseline_cost`` gain ``"lateness_penalty"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _arr(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _list(a: np.ndarray | None) -> list[float] | None:
    return None if a is None else [float(x) for x in a]


@dataclass(frozen=True, eq=False)
class WorkloadResult:
    """Work of one workload served at one site, kW, shape ``(T,)``; ``origin`` set for migrated-in work.
    ``late_kwh`` ``(T,)`` (a flexible workload's own entry only; zeros with hard deadlines): kWh behind its
    deadlines at the end of each step (``lateness_penalty_per_mwh``)."""

    served_kw: np.ndarray
    origin: str | None = None
    late_kwh: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (see the module docstring)."""
        out: dict[str, Any] = {"served_kw": _list(self.served_kw)}
        if self.origin is not None:
            out["origin"] = self.origin
        if self.late_kwh is not None:
            out["late_kwh"] = _list(self.late_kwh)
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> WorkloadResult:
        """Read the dict written by ``to_json``."""
        late = d.get("late_kwh")
        return cls(
            served_kw=_arr(d["served_kw"]),
            origin=d.get("origin"),
            late_kwh=None if late is None else _arr(late),
        )


@dataclass(frozen=True, eq=False)
class SiteResult:
    """Per-site schedule, every series ``(T,)`` in kW (``soc_kwh`` in kWh, ``None`` without a battery)."""

    grid_kw: np.ndarray
    it_kw: np.ndarray
    battery_kw: np.ndarray
    soc_kwh: np.ndarray | None
    import_kw: np.ndarray
    export_kw: np.ndarray
    pv_used_kw: np.ndarray
    baseline_grid_kw: np.ndarray
    workloads: dict[str, WorkloadResult]

    _SERIES = ("grid_kw", "it_kw", "battery_kw", "import_kw", "export_kw", "pv_used_kw", "baseline_grid_kw")

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (see the module docstring)."""
        out: dict[str, Any] = {k: _list(getattr(self, k)) for k in self._SERIES}
        out["soc_kwh"] = _list(self.soc_kwh)
        out["workloads"] = {k: w.to_json() for k, w in self.workloads.items()}
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SiteResult:
        """Read the dict written by ``to_json``."""
        kw: dict[str, Any] = {k: _arr(d[k]) for k in cls._SERIES}
        return cls(
            soc_kwh=None if d.get("soc_kwh") is None else _arr(d["soc_kwh"]),
            workloads={k: WorkloadResult.from_json(w) for k, w in d["workloads"].items()},
            **kw,
        )


@dataclass(frozen=True, eq=False)
class Migration:
    """IT power of workload ``workload`` (arriving at site ``from_site``) served at ``to_site``, kW per step."""

    workload: str
    from_site: str
    to_site: str
    kw: np.ndarray
    kwh: float

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (see the module docstring)."""
        return {
            "workload": self.workload,
            "from": self.from_site,
            "to": self.to_site,
            "kw": _list(self.kw),
            "kwh": self.kwh,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Migration:
        """Read the dict written by ``to_json``."""
        return cls(
            workload=d["workload"],
            from_site=d["from"],
            to_site=d["to"],
            kw=_arr(d["kw"]),
            kwh=float(d["kwh"]),
        )


@dataclass(frozen=True, eq=False)
class CommitmentResult:
    """Reduction below baseline grid power delivered by the commitment's sites in its window (kW per step),
    and the shortfall energy (kWh) that was penalised."""

    delivered_kw: np.ndarray
    shortfall_kwh: float

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (see the module docstring)."""
        return {"delivered_kw": _list(self.delivered_kw), "shortfall_kwh": self.shortfall_kwh}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CommitmentResult:
        """Read the dict written by ``to_json``."""
        return cls(delivered_kw=_arr(d["delivered_kw"]), shortfall_kwh=float(d["shortfall_kwh"]))


@dataclass(frozen=True, eq=False)
class Result:
    """Outcome of :func:`flexibility.solve`. Costs in the problem's currency, emissions in kg CO2."""

    status: str
    objective: float
    cost: dict[str, float]
    baseline_cost: dict[str, float]
    savings_pct: float | None
    emissions_kg: float
    baseline_emissions_kg: float
    sites: dict[str, SiteResult]
    migrations: tuple[Migration, ...]
    commitments: dict[str, CommitmentResult]
    timings: dict[str, float]
    currency: str = "USD"
    lp: dict[str, int] = field(default_factory=dict)
    green: dict[str, Any] | None = None
    late_kwh_hours: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (see module docstring)."""
        return {
            "status": self.status,
            "objective": self.objective,
            "currency": self.currency,
            "cost": dict(self.cost),
            "baseline_cost": dict(self.baseline_cost),
            "savings_pct": self.savings_pct,
            "emissions_kg": self.emissions_kg,
            "baseline_emissions_kg": self.baseline_emissions_kg,
            "sites": {k: s.to_json() for k, s in self.sites.items()},
            "migrations": [m.to_json() for m in self.migrations],
            "commitments": {k: c.to_json() for k, c in self.commitments.items()},
            "timings": dict(self.timings),
            "lp": dict(self.lp),
            "late_kwh_hours": self.late_kwh_hours,
            **({"green": self.green} if self.green is not None else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Result:
        """Read a result dict written by :meth:`to_json`."""
        return cls(
            status=d["status"],
            objective=float(d["objective"]),
            currency=d.get("currency", "USD"),
            cost={k: float(v) for k, v in d["cost"].items()},
            baseline_cost={k: float(v) for k, v in d["baseline_cost"].items()},
            savings_pct=None if d.get("savings_pct") is None else float(d["savings_pct"]),
            emissions_kg=float(d["emissions_kg"]),
            baseline_emissions_kg=float(d["baseline_emissions_kg"]),
            sites={k: SiteResult.from_json(s) for k, s in d["sites"].items()},
            migrations=tuple(Migration.from_json(m) for m in d.get("migrations", ())),
            commitments={k: CommitmentResult.from_json(c) for k, c in d.get("commitments", {}).items()},
            timings={k: float(v) for k, v in d.get("timings", {}).items()},
            lp={k: int(v) for k, v in d.get("lp", {}).items()},
            green=d.get("green"),
            late_kwh_hours=float(d.get("late_kwh_hours", 0.0)),
        )
