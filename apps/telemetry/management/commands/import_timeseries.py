"""``manage.py import_timeseries FILE [FILE ...] (--zone CODE | --site ID | --battery ID | --pv-array ID)
--map COLUMN=QUANTITY[:NAME][*FACTOR|/DIVISOR] [--map ...] [--time-column COL] [--tz ZONE] [--ambiguous
infer|dst|standard] [--time-label start|end] [--resolution PT1H] [--where COL=VALUE] [--from T] [--to T]
[--source TEXT] [--dry-run]``

Loads CSV files into time series, creating the series when missing. Each file is all-or-nothing. Examples
with the real datasets in ../shared/data (see each SOURCE.md)::

    # prices: UTC hour starts, USD/MWh
    manage.py import_timeseries ../shared/data/wholesale_prices_hourly/caiso_np15_dam_hourly_2021_2023.csv \\
        --zone CAISO_NP15 --map price_usd_per_mwh=price --source "CAISO OASIS via HPE green-dcc"
    # system load: MW → kW, interval starts in interval_start_utc
    manage.py import_timeseries ../shared/data/system_load_eia930_hourly/pjm_demand_hourly_2021_2023.csv \\
        --zone PJM_DOM --time-column interval_start_utc --map dom_zone_demand_mw_cleaned=system_load_kw*1000
    # weather: several columns in one pass, km/h → m/s
    manage.py import_timeseries ../shared/data/weather_openmeteo_hourly/dallas_tx_us-tex-erco_hourly_2021_2023.csv \\
        --zone ERCOT_HUB --map temperature_2m_c=temperature_c --map relative_humidity_2m_pct=relative_humidity_pct \\
        --map cloud_cover_pct=cloud_cover_pct --map wind_speed_10m_kmh=wind_speed_m_per_s/3.6
    # a long file: one PDU of the Google trace onto a site
    manage.py import_timeseries ../shared/data/datacenter_power_and_utilization/google_powerdata2019_cella_pdu6-8_5min.csv \\
        --site 3 --where pdu=pdu6 --map measured_power_util=utilization_fraction:pdu6
    # a local-time file without offsets (DST days handled; see --ambiguous)
    manage.py import_timeseries meter.csv --site 3 --tz America/New_York --map kw=site_power_kw
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.assets.selectors import (
    battery_get_by_id,
    pv_array_get_by_id,
    site_count_named,
    site_get_by_reference,
)
from apps.core.selectors import market_zone_get
from apps.telemetry.importer import ImportRefused, Owner, csv_import, parse_mapping


def owner_from_options(options: dict[str, Any]) -> Owner:
    """The owner named by exactly one of ``--zone``, ``--site`` (id or name), ``--battery``, ``--pv-array``.

    Raises:
        CommandError: none or several given, or the owner does not exist.
    """
    given = [k for k in ("zone", "site", "battery", "pv_array") if options.get(k)]
    if len(given) != 1:
        raise CommandError("give exactly one owner: --zone CODE, --site ID, --battery ID or --pv-array ID.")
    key = given[0]
    ref = str(options[key])
    if key == "site" and not ref.isdigit() and site_count_named(name=ref) > 1:
        raise CommandError(f"several sites are named '{ref}'; give the id.")
    if key == "zone":
        owner: Any = market_zone_get(code=ref)
    elif key == "site":
        owner = site_get_by_reference(reference=ref)
    elif not ref.isdigit():
        owner = None
    elif key == "battery":
        owner = battery_get_by_id(battery_id=int(ref))
    else:
        owner = pv_array_get_by_id(pv_array_id=int(ref))
    if owner is None:
        raise CommandError(f"no {key.replace('_', ' ')} '{ref}'.")
    return owner


def _utc(text: str | None, flag: str) -> pd.Timestamp | None:
    if not text:
        return None
    stamp = pd.Timestamp(text)
    if stamp.tzinfo is None:
        raise CommandError(f"{flag} needs a UTC offset, e.g. 2022-09-01T00:00:00Z.")
    return stamp.tz_convert("UTC")


def _total_setter(bar: tqdm) -> Any:
    def set_total(total: int) -> None:
        bar.total = total
        bar.refresh()

    return set_total


class Command(BaseCommand):
    help = "Import CSV files into time series (column mapping, scale factors, time zones, progress bar)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="CSV files with a header row")
        owner = parser.add_argument_group("owner (exactly one)")
        owner.add_argument("--zone", help="market zone code, e.g. CAISO_NP15")
        owner.add_argument("--site", help="site id or name")
        owner.add_argument("--battery", help="battery id")
        owner.add_argument("--pv-array", dest="pv_array", help="PV array id")
        parser.add_argument(
            "--map",
            dest="maps",
            action="append",
            required=True,
            help="COLUMN=QUANTITY[:NAME][*FACTOR|/DIVISOR], repeatable (e.g. demand_mw=system_load_kw*1000)",
        )
        parser.add_argument("--time-column", help="column with the timestamps (default: the first column)")
        parser.add_argument(
            "--tz", help="IANA time zone of timestamps written without offset (e.g. Europe/Berlin)"
        )
        parser.add_argument(
            "--ambiguous",
            choices=["infer", "dst", "standard"],
            default="infer",
            help="repeated fall-back hour of local times: infer from row order (default), or force",
        )
        parser.add_argument(
            "--time-label",
            choices=["start", "end"],
            default="start",
            help="whether a timestamp labels the start (default) or the end of its interval (EIA-930 style)",
        )
        parser.add_argument("--resolution", help="ISO 8601 resolution of new series (default: inferred)")
        parser.add_argument(
            "--where", action="append", default=[], help="COLUMN=VALUE row filter, repeatable"
        )
        parser.add_argument("--from", dest="start", help="keep intervals starting at or after (with offset)")
        parser.add_argument("--to", dest="end", help="keep intervals starting before (with offset)")
        parser.add_argument("--source", default="", help="provenance written on new series (origin, licence)")
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        parser.add_argument(
            "--na-value",
            dest="na_values",
            action="append",
            default=[],
            help="cell text meaning 'no value' (a sentinel such as -1000000.0), skipped like an empty cell; repeatable",
        )
        parser.add_argument(
            "--skip-rows-without-time",
            action="store_true",
            help="drop rows with an empty time cell (reported) instead of refusing the file",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = owner_from_options(options)
        try:
            mappings = [parse_mapping(m) for m in options["maps"]]
        except ValueError as exc:
            raise CommandError(f"--map: {exc}") from exc
        where = {}
        for item in options["where"]:
            column, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--where '{item}' is not COLUMN=VALUE.")
            where[column.strip()] = value.strip()
        start, end = _utc(options["start"], "--from"), _utc(options["end"], "--to")
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            show = not options["no_progress"] and options["verbosity"] > 0
            with tqdm(desc=path.name, unit="rows", disable=not show, leave=False) as bar:
                try:
                    outcome = csv_import(
                        path=path,
                        owner=owner,
                        mappings=mappings,
                        time_column=options["time_column"],
                        tz=options["tz"],
                        ambiguous=options["ambiguous"],
                        time_label=options["time_label"],
                        resolution=options["resolution"],
                        where=where,
                        start=start,
                        end=end,
                        source=options["source"],
                        dry_run=options["dry_run"],
                        skip_rows_without_time=options["skip_rows_without_time"],
                        na_values=options["na_values"],
                        progress=bar.update,
                        progress_total=_total_setter(bar),
                    )
                except ImportRefused as exc:
                    raise CommandError(str(exc)) from exc
            verb = "checked (dry run)" if outcome.dry_run else "imported"
            if outcome.skipped_without_time:
                self.stdout.write(f"{path.name}: {outcome.skipped_without_time} rows without a time skipped")
            for column in outcome.columns:
                new = " (new series)" if column.series_created else ""
                self.stdout.write(
                    f"{path.name} {verb}: {column.mapping.column} → series {column.series.pk} {column.series}{new}: "
                    f"{column.rows} rows, {column.created} created, {column.updated} updated, "
                    f"{column.unchanged} unchanged, {column.skipped_empty} empty/NA cells skipped"
                )
