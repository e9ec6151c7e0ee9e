"""Import of CSV files into time series: a column mapping (several value columns → several series in one pass,
each with a scale factor), time-zone handling and a progress bar. Used by ``manage.py import_timeseries`` and
``manage.py load_bundled_data``.

Time column: ISO 8601 timestamps *with* an offset are converted to UTC as they are. Local timestamps without an
offset need the IANA zone they were written in (``tz``): on the autumn fall-back day the repeated hour is
resolved from the order of the rows (the first 01:30 is daylight time, the second standard time; pandas'
``ambiguous="infer"``), or forced with ``ambiguous="dst"|"standard"``; on the spring-forward day a time that
does not exist (02:30 in America/Los_Angeles on 2022-03-13) is refused with its line number. ``time_label="end"``
shifts hour-ending labels (EIA-930 style) back by one resolution so that every value is stored at its interval
start. The import of a file is all-or-nothing: every column is validated before anything is written, and all
writes of a file run in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.assets.models import Battery, PVArray, Site
from apps.core.models import MarketZone

from .checks import validate_batch
from .choices import QUANTITY_SPECS
from .durations import duration_iso, resolution_seconds
from .import_times import ImportRefused, infer_resolution_s, parse_times
from .models import TimeSeries
from .selectors import timeseries_find
from .services import datapoints_ingest, timeseries_get_or_create, value_bounds
from .validation import MAX_REPORTED_ERRORS, BatchRefused, from_arrays

_MAPPING_RE = re.compile(
    r"^(?P<column>[^=]+)=(?P<quantity>[a-z0-9_]+)(?::(?P<name>[^*/]*))?(?:(?P<op>[*/])(?P<factor>.+))?$"
)


Owner = Site | Battery | PVArray | MarketZone


@dataclass(frozen=True)
class ColumnMapping:
    """One value column → one series: ``quantity`` (and optional series ``name``), values multiplied by
    ``scale`` (e.g. 1000 for MW → kW, 1/3.6 for km/h → m/s)."""

    column: str
    quantity: str
    name: str = ""
    scale: float = 1.0


def parse_mapping(text: str) -> ColumnMapping:
    """Parse ``COLUMN=QUANTITY[:NAME][*FACTOR|/DIVISOR]``, e.g. ``demand_mw=system_load_kw*1000`` or
    ``wind_kmh=wind_speed_m_per_s/3.6`` or ``pdu6=utilization_fraction:pdu6``.

    Raises:
        ValueError: malformed text, unknown quantity or a factor that is not a positive number.
    """
    match = _MAPPING_RE.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not COLUMN=QUANTITY[:NAME][*FACTOR|/DIVISOR].")
    quantity = match["quantity"]
    if quantity not in QUANTITY_SPECS:
        raise ValueError(f"unknown quantity '{quantity}' (choose from: {', '.join(QUANTITY_SPECS)}).")
    scale = 1.0
    if match["op"]:
        try:
            factor = float(match["factor"])
        except ValueError as exc:
            raise ValueError(f"'{match['factor']}' is not a number.") from exc
        if not np.isfinite(factor) or factor <= 0:
            raise ValueError(f"the factor must be a positive number, not {factor}.")
        scale = factor if match["op"] == "*" else 1.0 / factor
    return ColumnMapping(match["column"].strip(), quantity, (match["name"] or "").strip(), scale)


@dataclass
class ColumnOutcome:
    """What happened to one mapped column."""

    mapping: ColumnMapping
    series: TimeSeries
    series_created: bool
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_empty: int = 0


@dataclass
class FileOutcome:
    path: Path
    columns: list[ColumnOutcome] = field(default_factory=list)
    dry_run: bool = False
    skipped_without_time: int = 0


def csv_import(
    *,
    path: Path | str,
    owner: Owner,
    mappings: Sequence[ColumnMapping],
    time_column: str | None = None,
    tz: str | None = None,
    ambiguous: str = "infer",
    time_label: str = "start",
    resolution: str | None = None,
    where: dict[str, str] | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    source: str = "",
    chunk_rows: int = 100_000,
    dry_run: bool = False,
    skip_rows_without_time: bool = False,
    na_values: Sequence[str] = (),
    progress: Callable[[int], Any] | None = None,
    progress_total: Callable[[int], Any] | None = None,
) -> FileOutcome:
    """Import one CSV file into series of ``owner`` (created if missing), all or nothing.

    Args:
        path: the CSV file (header row required).
        owner: the site, battery, PV array or market zone owning the series.
        mappings: value columns → quantities (with scale factors).
        time_column: the time column (default: the first column).
        tz: IANA zone of timestamps written without offset.
        ambiguous: fall-back hour handling for local times: ``infer`` (from order), ``dst`` or ``standard``.
        time_label: ``start`` (default) or ``end`` when a time labels the end of its interval.
        resolution: ISO 8601 resolution of new series (default: inferred from the times).
        where: keep only rows whose column equals the value (long files, e.g. ``{"pdu": "pdu6"}``).
        start, end: keep only intervals with ``start ≤ t < end`` (UTC).
        source: provenance written on new series.
        chunk_rows: rows per ingestion call (and progress step).
        dry_run: validate only, write nothing.
        na_values: cell texts that mean "no value" in this file (sentinels such as ``-1000000.0``), skipped
            like empty cells.
        skip_rows_without_time: drop rows whose time cell is empty (e.g. DST hours a source could not place)
            instead of refusing the file; their number is reported.
        progress: called with the number of rows written after each chunk (e.g. ``tqdm.update``).
        progress_total: called once with the number of rows to write, before writing.

    Returns:
        per column: the series, whether it was created, and rows created/updated/unchanged/skipped (empty cells).

    Raises:
        ImportRefused: missing columns, bad times (see :func:`parse_times`), non-numeric cells, or values the
            series refuses (line numbers given); nothing is written.
    """
    path = Path(path)
    frame, lines, time_column, skipped_without_time = _read_rows(
        path, time_column, [m.column for m in mappings], where or {}, skip_rows_without_time
    )
    times = parse_times(frame[time_column], tz=tz, ambiguous=ambiguous, line_numbers=lines)
    res_s = resolution_seconds(resolution) if resolution else None
    outcome = FileOutcome(path=path, dry_run=dry_run, skipped_without_time=skipped_without_time)
    with transaction.atomic():  # an ImportRefused raised inside rolls back the series created meanwhile
        plans = _plan_columns(
            path,
            frame,
            lines,
            times,
            owner=owner,
            mappings=mappings,
            res_s=res_s,
            time_label=time_label,
            window=(start, end),
            na_values=na_values,
            source=source,
        )
        if progress_total is not None:
            progress_total(sum(len(plan[3]) for plan in plans))
        _write_plans(plans, outcome, dry_run=dry_run, chunk_rows=chunk_rows, progress=progress)
        if dry_run:
            transaction.set_rollback(True)
    return outcome


#: One column ready to write: mapping, series, whether it was created, values by start, cells left empty.
_Plan = tuple["ColumnMapping", TimeSeries, bool, pd.Series, int]


def _plan_columns(
    path: Path,
    frame: pd.DataFrame,
    lines: np.ndarray,
    times: pd.DatetimeIndex,
    *,
    owner: Owner,
    mappings: Sequence[ColumnMapping],
    res_s: int | None,
    time_label: str,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    na_values: Sequence[str],
    source: str,
) -> list[_Plan]:
    """Every value column checked against its series (found or created).

    Raises:
        ImportRefused: any column has a non-numeric cell or a value its series refuses (all columns' errors).
    """
    plans: list[_Plan] = []
    errors: list[str] = []
    total_errors = 0
    for mapping in mappings:
        series, created = _series_for(owner, mapping, res_s, times, source)
        stamps = times - pd.Timedelta(seconds=series.resolution_s) if time_label == "end" else times
        plan, column_errors, column_total = _plan_column(
            frame, lines, mapping, series, created, stamps, window, na_values
        )
        plans.append(plan)
        errors += column_errors
        total_errors += column_total
    if errors:
        raise ImportRefused(
            f"{path.name}: {total_errors} error(s); nothing was imported:", errors, total_errors
        )
    return plans


def _read_rows(
    path: Path, time_column: str | None, value_columns: list[str], filters: dict[str, str], skip_no_time: bool
) -> tuple[pd.DataFrame, np.ndarray, str, int]:
    """The rows to import as text, their 1-based line numbers, the time column and the number of rows dropped
    for an empty time cell (only with ``skip_no_time``).

    Raises:
        ImportRefused: missing columns, or no row left after the filters.
    """
    header = pd.read_csv(path, nrows=0).columns.tolist()
    time_column = time_column or header[0]
    wanted = [time_column, *value_columns, *filters]
    missing = [c for c in dict.fromkeys(wanted) if c not in header]
    if missing:
        raise ImportRefused(f"{path.name}: no column(s) {missing}; the header has {header}.")
    frame = pd.read_csv(path, usecols=list(dict.fromkeys(wanted)), dtype=str, keep_default_na=False)
    lines = np.arange(len(frame)) + 2  # 1-based, after the header
    for filter_column, value in filters.items():
        keep = (frame[filter_column].str.strip() == value).to_numpy()
        frame, lines = frame[keep], lines[keep]
    no_time = (frame[time_column].str.strip() == "").to_numpy()
    if no_time.any() and skip_no_time:
        frame, lines = frame[~no_time], lines[~no_time]
    if frame.empty:
        raise ImportRefused(f"{path.name}: no rows to import (after filters {filters}).")
    return frame, lines, time_column, int(no_time.sum()) if skip_no_time else 0


def _plan_column(
    frame: pd.DataFrame,
    lines: np.ndarray,
    mapping: ColumnMapping,
    series: TimeSeries,
    created: bool,
    stamps: pd.DatetimeIndex,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    na_values: Sequence[str],
) -> tuple[_Plan, list[str], int]:
    """One value column checked against its series: the plan to write, the error lines (the first ones) and
    the number of errors."""
    errors: list[str] = []
    text = frame[mapping.column].str.strip()
    empty = ((text == "") | text.isin(list(na_values))).to_numpy()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    not_number = np.isnan(numbers) & ~empty & ~text.str.lower().isin(["nan", "-nan"]).to_numpy()
    keep = ~empty & ~np.isnan(numbers)
    start, end = window
    if start is not None:
        keep &= stamps >= start
    if end is not None:
        keep &= stamps < end
    for i in np.flatnonzero(not_number)[:MAX_REPORTED_ERRORS]:
        errors.append(f"line {lines[i]}, {mapping.column}: '{text.iloc[i]}' is not a number.")
    total = int(not_number.sum())
    values = numbers[keep] * mapping.scale
    raw = from_arrays(stamps[keep], values)
    try:
        validate_batch(raw, resolution_s=series.resolution_s, bounds=value_bounds(series=series))
    except BatchRefused as exc:
        kept_lines = lines[keep]
        errors += [f"line {kept_lines[e.row]}, {mapping.column}: {e.reason}" for e in exc.row_errors]
        total += exc.total
    plan = (mapping, series, created, pd.Series(values, index=stamps[keep]), int(empty.sum()))
    return plan, errors, total


def _write_plans(
    plans: list[_Plan],
    outcome: FileOutcome,
    *,
    dry_run: bool,
    chunk_rows: int,
    progress: Callable[[int], Any] | None,
) -> None:
    """Ingest each planned column in chunks of ``chunk_rows`` and count the outcome (only counted on a dry run)."""
    for mapping, series, created, values, skipped in plans:
        column = ColumnOutcome(mapping, series, created, rows=len(values), skipped_empty=skipped)
        outcome.columns.append(column)
        if dry_run:
            continue
        for offset in range(0, len(values), chunk_rows):
            part = values.iloc[offset : offset + chunk_rows]
            result = datapoints_ingest(series=series, rows=part)
            column.created += result.created
            column.updated += result.updated
            column.unchanged += result.unchanged
            if progress is not None:
                progress(len(part))


def _series_for(
    owner: Owner, mapping: ColumnMapping, res_s: int | None, times: pd.DatetimeIndex, source: str
) -> tuple[TimeSeries, bool]:
    """The owner's series for ``mapping`` (its resolution wins), or a new one at ``res_s`` or the inferred step."""
    existing = timeseries_find(owner=owner, quantity=mapping.quantity, name=mapping.name)
    if existing is not None and res_s is None:
        return existing, False
    seconds = res_s or infer_resolution_s(times)
    try:
        return timeseries_get_or_create(
            owner=owner,
            quantity=mapping.quantity,
            name=mapping.name,
            resolution=duration_iso(seconds),
            source=source,
        )
    except ValidationError as exc:
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise ImportRefused(f"column {mapping.column}: {reasons}") from exc
