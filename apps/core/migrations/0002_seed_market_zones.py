"""Seed the market zones of the demo and the real datasets (prices in ../shared/data/wholesale_prices_hourly)."""

from django.db import migrations

ZONES = [
    # code, name, IANA time zone, currency
    ("CAISO_NP15", "CAISO NP15 (Northern California)", "America/Los_Angeles", "USD"),
    ("ERCOT_HUB", "ERCOT Hub Average (Texas)", "America/Chicago", "USD"),
    ("PJM_DOM", "PJM Dominion zone (Virginia)", "America/New_York", "USD"),
    ("NYISO_CAPITL", "NYISO Capital zone (Albany)", "America/New_York", "USD"),
    ("DE_LU", "Germany-Luxembourg bidding zone", "Europe/Berlin", "EUR"),
]


def seed(apps, schema_editor):
    MarketZone = apps.get_model("core", "MarketZone")
    for code, name, tz, currency in ZONES:
        MarketZone.objects.update_or_create(code=code, defaults={"name": name, "timezone": tz, "currency": currency})


def unseed(apps, schema_editor):
    apps.get_model("core", "MarketZone").objects.filter(code__in=[z[0] for z in ZONES]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
