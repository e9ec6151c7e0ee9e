"""Telemetry reads for system jobs (forecast cycles, model refits): no caller scoping, ids in, series out."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from ..models import TimeSeries


def timeseries_get_with_owner(*, series_id: int) -> TimeSeries:
    """The series with the site, battery, PV array and zone that own it (its timezone is read from them).

    Raises:
        TimeSeries.DoesNotExist: unknown series.
    """
    return TimeSeries.objects.select_related("site", "battery__site", "pv_array__site", "market_zone").get(
        pk=series_id
    )


def timeseries_list_active_site_load(*, names: Sequence[str]) -> QuerySet[TimeSeries]:
    """The IT power series named one of ``names`` of the portfolio's active sites."""
    from ..choices import Quantity

    return TimeSeries.objects.filter(
        quantity=Quantity.IT_POWER_KW, name__in=list(names), site__enrolment_status="active"
    )


def timeseries_list_zone_signals() -> QuerySet[TimeSeries]:
    """The main (unnamed) price and carbon-intensity series of the market zones."""
    from ..choices import Quantity

    return TimeSeries.objects.filter(
        quantity__in=[Quantity.PRICE, Quantity.CARBON_INTENSITY_G_PER_KWH], name="", market_zone__isnull=False
    )


def site_ids_with_series(*, quantity: str, name: str | None = None) -> set[int]:
    """Ids of the sites that have a series of ``quantity`` (named ``name``, or any name when ``None``)."""
    series = TimeSeries.objects.filter(quantity=quantity, site__isnull=False)
    if name is not None:
        series = series.filter(name=name)
    return set(series.values_list("site_id", flat=True))
