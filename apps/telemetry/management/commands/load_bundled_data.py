"""``manage.py load_bundled_data [--zones CODE ...] [--site ID|NAME] [--pv-array ID] [--skip-sites]``

Creates the market-zone series (price, carbon intensity, low-carbon and renewable shares, weather, system
load) and loads the real-data slices shipped in ``data/`` (see ``data/SOURCE.md``); needs nothing outside the
project. Idempotent: loading again changes nothing (upserts).

Site-bound slices go to sites of the demo portfolio when it is seeded (``manage.py seed_demo``), or to the
site / PV array given: the Google PDU traces (cell a, America/New_York) become ``utilization_fraction`` series
of ``Ashburn DC1``; the NREL POA irradiance (Golden CO, a proxy) a ``poa_irradiance_w_per_m2`` series of the
rooftop PV array of ``San Jose DC1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.assets.demo_portfolio import SITES as DEMO_SITES
from apps.assets.models import PVArray, Site
from apps.assets.selectors import pv_array_first_of_site_named, pv_array_get_by_id, site_get_by_reference
from apps.core.errors import DomainError
from apps.core.models import MarketZone
from apps.core.selectors import market_zone_require
from apps.telemetry.bundled import DATA_DIR, PDU_FILE, POA_FILE, ZONE_CODES, BundledFile, zone_file
from apps.telemetry.importer import ImportRefused, Owner, csv_import

_DEMO_NAMES = {spec.key: spec.name for spec in DEMO_SITES}


def _zone_or_fail(code: str) -> MarketZone:
    try:
        return market_zone_require(code=code)
    except DomainError as exc:
        raise CommandError(exc.reason) from exc


class Command(BaseCommand):
    help = "Create the zone series and load the bundled real-data slices of data/ (prices, carbon, weather, load, PDU, PV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data-dir", type=Path, default=DATA_DIR, help="folder of the slices (default: data/)"
        )
        parser.add_argument("--zones", nargs="+", choices=ZONE_CODES, default=list(ZONE_CODES))
        parser.add_argument(
            "--site", help="site (id or name) for the PDU traces (default: demo 'Ashburn DC1')"
        )
        parser.add_argument(
            "--pv-array",
            dest="pv_array",
            help="PV array id for the irradiance (default: demo San Jose rooftop)",
        )
        parser.add_argument("--skip-sites", action="store_true", help="load only the zone slices")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data_dir"]
        if not data_dir.is_dir():
            raise CommandError(f"{data_dir}: no such folder (the bundled slices live in data/).")
        jobs: list[tuple[BundledFile, Owner]] = [
            (zone_file(code), _zone_or_fail(code)) for code in options["zones"]
        ]
        if not options["skip_sites"]:
            site = self._site(options["site"])
            if site is not None:
                jobs.append((PDU_FILE, site))
            else:
                self.stdout.write(
                    "PDU traces skipped: no --site and the demo site 'Ashburn DC1' does not exist."
                )
            array = self._pv_array(options["pv_array"])
            if array is not None:
                jobs.append((POA_FILE, array))
            else:
                self.stdout.write("PV irradiance skipped: no --pv-array and no demo San Jose rooftop array.")
        show = options["verbosity"] > 0
        totals = {"series": 0, "new_series": 0, "created": 0, "updated": 0, "unchanged": 0}
        with tqdm(desc="bundled data", unit="rows", disable=not show, leave=False) as bar:
            for bundled, owner in jobs:
                try:
                    outcome = csv_import(
                        path=data_dir / bundled.path,
                        owner=owner,
                        mappings=bundled.mappings,
                        time_column=bundled.time_column,
                        source=bundled.source,
                        progress=bar.update,
                    )
                except ImportRefused as exc:
                    raise CommandError(str(exc)) from exc
                for column in outcome.columns:
                    totals["series"] += 1
                    totals["new_series"] += int(column.series_created)
                    totals["created"] += column.created
                    totals["updated"] += column.updated
                    totals["unchanged"] += column.unchanged
                if options["verbosity"] > 1:
                    self.stdout.write(f"{bundled.path} → {owner}: {len(outcome.columns)} series")
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            f"Bundled data: {len(jobs)} files, {totals['series']} series ({totals['new_series']} new), "
            f"{totals['created']} points created, {totals['updated']} updated, {totals['unchanged']} unchanged."
        )

    def _site(self, ref: str | None) -> Site | None:
        if ref:
            site = site_get_by_reference(reference=ref)
            if site is None:
                raise CommandError(f"no site '{ref}'.")
            return site
        return site_get_by_reference(reference=_DEMO_NAMES.get("ash1", "Ashburn DC1"))

    def _pv_array(self, ref: str | None) -> PVArray | None:
        if ref:
            array = pv_array_get_by_id(pv_array_id=int(ref)) if ref.isdigit() else None
            if array is None:
                raise CommandError(f"no PV array with id '{ref}'.")
            return array
        return pv_array_first_of_site_named(site_name=_DEMO_NAMES.get("sj1", "San Jose DC1"))
