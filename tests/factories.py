"""factory_boy factories for the domain models, shared by every test module."""

from __future__ import annotations

import factory

from apps.accounts.choices import OrganisationKind, Role
from apps.accounts.models import Membership, Organisation, User
from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from apps.core.models import MarketZone


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganisationKind.SITE_OWNER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.ADMIN


def zone(code: str = "CAISO_NP15") -> MarketZone:
    """A seeded market zone (re-seeded if a transactional test's flush removed the migration's rows)."""
    from apps.core.services import market_zones_ensure

    market_zones_ensure()
    return MarketZone.objects.get(code=code)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    owner = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    latitude = 37.37
    longitude = -121.92
    timezone = "America/Los_Angeles"
    market_zone = factory.LazyFunction(zone)
    grid_import_limit_kw = 20000.0
    grid_export_limit_kw = 0.0
    pue = 1.3
    it_capacity_kw = 10000.0
    enrolment_status = EnrolmentStatus.DRAFT


class WorkloadClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkloadClass
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"workload-{n}")
    kind = WorkloadKind.TRAINING
    share_pct = 30.0
    max_delay_h = 8.0
    interruptible = True


class BatteryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Battery

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"battery-{n}")
    energy_capacity_kwh = 1000.0
    max_charge_kw = 500.0
    max_discharge_kw = 500.0
    charge_efficiency = 0.95
    discharge_efficiency = 0.95
    soc_min_kwh = 100.0
    soc_max_kwh = 1000.0
    backup_reserve_kwh = 300.0


class PVArrayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PVArray

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"pv-{n}")
    dc_capacity_kwp = 500.0
    ac_limit_kw = 420.0
    tilt_deg = 20.0
    azimuth_deg = 180.0
    losses_pct = 14.0


class TimeSeriesFactory(factory.django.DjangoModelFactory):
    """A site's IT-power series at 15 min by default; pass ``site=None`` with another owner for the others."""

    class Meta:
        model = "telemetry.TimeSeries"

    site = factory.SubFactory(SiteFactory)
    quantity = "it_power_kw"
    name = ""
    unit = "kW"
    resolution = "PT15M"
    resolution_s = 900
    source = "tests"


class ZoneSeriesFactory(TimeSeriesFactory):
    """An hourly price series of CAISO NP15 (USD/MWh)."""

    site = None
    market_zone = factory.LazyFunction(zone)
    quantity = "price"
    unit = "USD/MWh"
    resolution = "PT1H"
    resolution_s = 3600


class OwnerContractFactory(factory.django.DjangoModelFactory):
    """The aggregator's contract with a site owner (fee in percent)."""

    class Meta:
        model = "settlement.OwnerContract"

    owner = factory.SubFactory(OrganisationFactory)
    fee_pct = 20
    reference = factory.Sequence(lambda n: f"contract-{n}")
