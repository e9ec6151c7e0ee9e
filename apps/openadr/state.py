"""From a VEN's report to the site's live state (:func:`apps.telemetry.services.site_state_report`).

Payload types (openadr3 ``valuesMap.type``: an enumerated string or a privately defined one):

- ``STORAGE_CHARGE_LEVEL`` (standard, Definition.md §"Report Enumerations"): a battery's charge level as a
  fraction 0…1 of full (the enumeration's schema: ``minimum 0``, ``maximum 1``), on a resource whose
  ``resourceName`` is the battery's name at the site; stored as ``soc_kwh = level × energy capacity``;
- ``X_VPP_IT_LOAD_KW`` (private): the IT power the site runs, kW, one value, once per report;
- ``X_VPP_QUEUE`` (private): one interval per queued entry of deferred work, whose single value is a
  JSON-encoded object ``{"workload_class": id or name, "energy_kwh", "arrived_at", "deadline", "job_id"?}``
  (the schema allows string values; an object keeps the fields named).

The state's time (``reported_at``) is the start of the intervals carrying these payloads (resolved like any
report interval, :func:`apps.openadr.timing.resolve_windows`); they must all start at the same time. A report
without these payloads carries no state. A refusal names the path into the report
(``resources[0].intervals[2].payloads[0].values[0].deadline``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from apps.assets.models import Site

from .timing import resolve_windows

STORAGE_CHARGE_LEVEL = "STORAGE_CHARGE_LEVEL"
IT_LOAD = "X_VPP_IT_LOAD_KW"
QUEUE = "X_VPP_QUEUE"
STATE_PAYLOADS = frozenset({STORAGE_CHARGE_LEVEL, IT_LOAD, QUEUE})
_ENTRY_FIELDS = frozenset({"workload_class", "energy_kwh", "arrived_at", "deadline", "job_id"})


def _entry(raw: Any, path: str, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError as exc:
        errors.setdefault(path, []).append(f"not JSON: {exc}.")
        return None
    if not isinstance(entry, Mapping):
        errors.setdefault(path, []).append("must be a JSON-encoded object (a string).")
        return None
    unknown = sorted(set(entry) - _ENTRY_FIELDS)
    for key in unknown:
        errors.setdefault(f"{path}.{key}", []).append(
            f"unknown field; accepted: {', '.join(sorted(_ENTRY_FIELDS))}."
        )
    out = dict(entry)
    for key in ("arrived_at", "deadline"):
        value = entry.get(key)
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            errors.setdefault(f"{path}.{key}", []).append("must be an ISO 8601 date-time with a UTC offset.")
        out[key] = parsed
    return None if unknown else out


def report_state(report: dict[str, Any], site: Site) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The state carried by a validated report body, as ``site_state_report`` data, with the map from its field
    paths (``queue[0]``, ``batteries[1]``, ``it_load_kw``, ``reported_at``) to paths in the report; ``None``
    when the report carries no state payload.

    Raises:
        ValidationError: an unknown battery name, a value of the wrong kind, state intervals with different or
            unresolvable starts, or the IT load missing or given twice.
    """
    batteries = {b.name: b for b in site.batteries.all()}
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {"batteries": [], "queue": []}
    paths: dict[str, str] = {}
    starts: dict[datetime, str] = {}
    for r, resource in enumerate(report["resources"]):
        windows = resolve_windows(resource.get("intervalPeriod"), resource["intervals"])
        for i, (interval, window) in enumerate(zip(resource["intervals"], windows, strict=True)):
            path = f"resources[{r}].intervals[{i}]"
            for j, payload in enumerate(interval["payloads"]):
                kind, values = payload["type"], payload["values"]
                if kind not in STATE_PAYLOADS:
                    continue
                here = f"{path}.payloads[{j}].values"
                if isinstance(window.start, datetime):
                    starts.setdefault(window.start, f"{path}.intervalPeriod.start")
                else:
                    errors.setdefault(f"{path}.intervalPeriod.start", []).append(
                        "a state needs its absolute time."
                    )
                if len(values) != 1:
                    errors.setdefault(here, []).append(f"{kind} takes exactly one value.")
                    continue
                if kind == STORAGE_CHARGE_LEVEL:
                    battery = batteries.get(resource["resourceName"])
                    if battery is None:
                        errors.setdefault(f"resources[{r}].resourceName", []).append(
                            f"'{resource['resourceName']}' is not a battery of this site; name the resource "
                            "after the battery."
                        )
                        continue
                    paths[f"batteries[{len(data['batteries'])}]"] = f"{here}[0]"
                    level = values[0]
                    soc = level * battery.energy_capacity_kwh if isinstance(level, int | float) else level
                    data["batteries"].append({"battery": battery, "soc_kwh": soc})
                elif kind == IT_LOAD:
                    if "it_load_kw" in data:
                        errors.setdefault(here, []).append(f"{IT_LOAD} is given twice.")
                    data["it_load_kw"] = values[0]
                    paths["it_load_kw"] = f"{here}[0]"
                else:
                    entry = _entry(values[0], f"{here}[0]", errors)
                    if entry is not None:
                        paths[f"queue[{len(data['queue'])}]"] = f"{here}[0]"
                        data["queue"].append(entry)
    if not starts and not errors:
        return None
    if len(starts) > 1:
        for start_path in list(starts.values())[1:]:
            errors.setdefault(start_path, []).append(
                "every state payload of a report must start at the same time."
            )
    if "it_load_kw" not in data and not errors:
        errors.setdefault("resources", []).append(f"a state report needs the site's IT load ({IT_LOAD}, kW).")
    if errors:
        raise ValidationError(errors)
    data["reported_at"] = next(iter(starts))
    paths["reported_at"] = next(iter(starts.values()))
    return data, paths


def report_state_errors(exc: ValidationError, paths: dict[str, str]) -> ValidationError:
    """``exc`` of ``site_state_report`` with each field path replaced by its path in the report
    (``queue[0].deadline`` → ``resources[0].intervals[0].payloads[0].values[0].deadline``)."""
    renamed: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        head, _, rest = key.partition(".")
        target = paths.get(head) or paths.get(key) or "resources"
        if head.startswith("batteries["):
            rest = ""  # the value is the charge level; the battery is the resource
        renamed.setdefault(f"{target}.{rest}" if rest else target, []).extend(messages)
    return ValidationError(renamed)
