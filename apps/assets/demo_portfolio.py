"""The demo portfolio: an aggregator, two site owners, a market operator and four datacenter sites.

Sites sit in the four US zones of the bundled real data (San Jose in CAISO NP15, Dallas in ERCOT, Ashburn in
PJM Dominion, Albany in NYISO Capital). Workload mixes follow published fleet shares: latency-critical
inference ~40 %, training ~35 % and batch ~25 % of IT load (Google's 2019 cell traces show roughly a third
of usage in best-effort batch tiers; Tirmazi et al., "Borg: the next generation", EuroSys 2020). UPS batteries
keep a backup reserve of 50 % for ride-through; rooftop PV is small next to IT load, as on real datacenters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from apps.accounts.choices import OrganisationKind, Role
from apps.accounts.models import Organisation
from apps.accounts.selectors import organisation_get_by_slug, username_taken
from apps.accounts.services import organisation_create, user_create, user_make_superuser
from apps.core.selectors import market_zone_require

from .choices import EnrolmentStatus, WorkloadKind
from .models import Battery, EnrolmentTransition, PVArray, Site, WorkloadClass


@dataclass(frozen=True)
class DemoSite:
    key: str
    owner: str
    name: str
    zone: str
    timezone: str
    latitude: float
    longitude: float
    it_capacity_kw: float
    pue: float
    grid_import_limit_kw: float
    pv_kwp: float
    battery_kwh: float
    battery_kw: float
    status: str = EnrolmentStatus.ACTIVE
    migrate_to: tuple[str, ...] = field(default_factory=tuple)


ORGANISATIONS = [
    ("GridFlex Aggregator", "gridflex", OrganisationKind.AGGREGATOR),
    ("Northwind Compute", "northwind", OrganisationKind.SITE_OWNER),
    ("Helios Cloud", "helios", OrganisationKind.SITE_OWNER),
    ("Demo Market Operator", "demo-operator", OrganisationKind.MARKET_OPERATOR),
]

USERS = [
    ("staff", "gridflex", Role.ADMIN),
    ("owner_a", "northwind", Role.ADMIN),
    ("owner_b", "helios", Role.ADMIN),
    ("operator", "demo-operator", Role.ADMIN),
]

SITES = [
    DemoSite(
        "sj1",
        "northwind",
        "San Jose DC1",
        "CAISO_NP15",
        "America/Los_Angeles",
        37.37,
        -121.92,
        12000,
        1.25,
        20000,
        800,
        4000,
        2000,
        migrate_to=("dal1",),
    ),
    DemoSite(
        "dal1",
        "northwind",
        "Dallas DC1",
        "ERCOT_HUB",
        "America/Chicago",
        32.90,
        -96.96,
        10000,
        1.35,
        18000,
        1200,
        3000,
        1500,
        migrate_to=("sj1",),
    ),
    DemoSite(
        "ash1",
        "helios",
        "Ashburn DC1",
        "PJM_DOM",
        "America/New_York",
        39.04,
        -77.49,
        15000,
        1.30,
        25000,
        600,
        5000,
        2500,
        migrate_to=("alb1",),
    ),
    DemoSite(
        "alb1",
        "helios",
        "Albany DC1",
        "NYISO_CAPITL",
        "America/New_York",
        42.65,
        -73.76,
        6000,
        1.20,
        10000,
        400,
        2000,
        1000,
        migrate_to=("ash1",),
    ),
    DemoSite(
        "pdx-draft",
        "northwind",
        "Hillsboro DC2 (draft)",
        "CAISO_NP15",
        "America/Los_Angeles",
        45.54,
        -122.94,
        4000,
        1.4,
        6000,
        0,
        0,
        0,
        status=EnrolmentStatus.DRAFT,
    ),
    DemoSite(
        "ny-submitted",
        "helios",
        "Syracuse DC2 (submitted)",
        "NYISO_CAPITL",
        "America/New_York",
        43.05,
        -76.15,
        3000,
        1.3,
        5000,
        200,
        0,
        0,
        status=EnrolmentStatus.SUBMITTED,
    ),
]

#: kind, share of IT load (%), max deferral (h, None = not deferrable), interruptible, min power fraction
WORKLOAD_MIX = [
    ("inference", WorkloadKind.INFERENCE, 40.0, None, False, 1.0),
    ("training", WorkloadKind.TRAINING, 35.0, 8.0, True, 0.3),
    ("batch", WorkloadKind.BATCH, 25.0, 12.0, True, 0.0),
]


@dataclass(frozen=True)
class SeedResult:
    created: bool
    sites: dict[str, Site]
    usernames: list[str]


def demo_portfolio_seed(*, password: str) -> SeedResult:
    """Create the demo organisations, users and sites if missing (idempotent: existing ones are kept)."""
    with transaction.atomic():
        created = organisation_get_by_slug(slug="gridflex") is None
        orgs = {}
        for name, slug, kind in ORGANISATIONS:
            orgs[slug] = organisation_get_by_slug(slug=slug) or organisation_create(
                name=name, kind=kind, slug=slug
            )
        for username, org_slug, role in USERS:
            if not username_taken(username=username):
                user = user_create(
                    username=username, password=password, organisation=orgs[org_slug], role=role
                )
                if org_slug == "gridflex":
                    user_make_superuser(user=user)
        sites: dict[str, Site] = {}
        for spec in SITES:
            sites[spec.key] = _site_seed(spec, orgs[spec.owner])
        for spec in SITES:
            site = sites[spec.key]
            for workload in site.workload_classes.filter(max_delay_h__isnull=False):
                if not workload.migratable_to.exists():
                    workload.migratable_to.set([sites[k] for k in spec.migrate_to])
    return SeedResult(created=created, sites=sites, usernames=[u[0] for u in USERS])


def _site_seed(spec: DemoSite, owner: Organisation) -> Site:
    site = Site.objects.filter(owner=owner, name=spec.name).first()
    if site is not None:
        return site
    site = Site.objects.create(
        owner=owner,
        name=spec.name,
        latitude=spec.latitude,
        longitude=spec.longitude,
        timezone=spec.timezone,
        market_zone=market_zone_require(code=spec.zone),
        grid_import_limit_kw=spec.grid_import_limit_kw,
        grid_export_limit_kw=0.0,
        pue=spec.pue,
        it_capacity_kw=spec.it_capacity_kw,
        enrolment_status=spec.status,
    )
    for name, kind, share, delay, interruptible, min_fraction in WORKLOAD_MIX:
        WorkloadClass.objects.create(
            site=site,
            name=name,
            kind=kind,
            share_pct=share,
            max_delay_h=delay,
            interruptible=interruptible,
            min_power_fraction=min_fraction,
        )
    if spec.battery_kwh:
        Battery.objects.create(
            site=site,
            name="UPS",
            energy_capacity_kwh=spec.battery_kwh,
            max_charge_kw=spec.battery_kw,
            max_discharge_kw=spec.battery_kw,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
            soc_min_kwh=0.1 * spec.battery_kwh,
            soc_max_kwh=spec.battery_kwh,
            backup_reserve_kwh=0.5 * spec.battery_kwh,
            degradation_cost_per_mwh=20.0,
        )
    if spec.pv_kwp:
        PVArray.objects.create(
            site=site,
            name="Rooftop",
            dc_capacity_kwp=spec.pv_kwp,
            ac_limit_kw=round(spec.pv_kwp / 1.2),
            tilt_deg=20.0,
            azimuth_deg=180.0,
            losses_pct=14.0,
        )
    paths: dict[str, list[str]] = {
        EnrolmentStatus.ACTIVE: [EnrolmentStatus.SUBMITTED, EnrolmentStatus.APPROVED, EnrolmentStatus.ACTIVE],
        EnrolmentStatus.SUBMITTED: [EnrolmentStatus.SUBMITTED],
    }
    previous: str = EnrolmentStatus.DRAFT
    path = paths.get(spec.status, [])
    for status in path:
        EnrolmentTransition.objects.create(
            site=site, from_status=previous, to_status=status, actor="seed:demo", reason="demo portfolio"
        )
        previous = status
    return site
