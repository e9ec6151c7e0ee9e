"""Time series ("sensors") and their data points.

A :class:`TimeSeries` belongs to exactly one owner — a site, a battery, a PV array or a market zone — and
measures one :class:`~apps.telemetry.choices.Quantity` at a fixed resolution (ISO 8601 duration). Its values
are :class:`DataPoint` rows ``(series, start, value)``, one per interval ``[start, start + resolution)``,
unique on ``(series, start)``; writing the same start again replaces the value (an upsert).

Times are timezone-aware UTC; ``start`` is aligned to the resolution counted from 1970-01-01T00:00Z.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from apps.assets.models import Battery, PVArray, Site
from apps.core.models import MarketZone, TimeStampedModel

from .choices import QUANTITY_SPECS, OwnerKind, Quantity, unit_for
from .durations import duration_iso, resolution_seconds

_OWNER_FIELDS = ("site", "battery", "pv_array", "market_zone")


def _exactly_one_owner() -> models.Q:
    """``Q`` that holds when exactly one of the owner foreign keys is set."""
    cases = []
    for chosen in _OWNER_FIELDS:
        q = models.Q(**{f"{chosen}__isnull": False})
        for other in _OWNER_FIELDS:
            if other != chosen:
                q &= models.Q(**{f"{other}__isnull": True})
        cases.append(q)
    result = cases[0]
    for q in cases[1:]:
        result |= q
    return result


def owner_kind_of(owner: Any) -> str:
    """:class:`OwnerKind` of a would-be owner.

    Raises:
        TypeError: not a Site, Battery, PVArray or MarketZone.
    """
    for model, kind in ((Site, OwnerKind.SITE), (Battery, OwnerKind.BATTERY), (PVArray, OwnerKind.PV_ARRAY)):
        if isinstance(owner, model):
            return kind
    if isinstance(owner, MarketZone):
        return OwnerKind.ZONE
    raise TypeError(
        f"a series is owned by a Site, Battery, PVArray or MarketZone, not {type(owner).__name__}"
    )


def owner_field_of(owner: Any) -> str:
    """The :class:`TimeSeries` foreign key that holds ``owner`` (``site``, ``battery``, ``pv_array``,
    ``market_zone``)."""
    kind = owner_kind_of(owner)
    return "market_zone" if kind == OwnerKind.ZONE else kind


class TimeSeries(TimeStampedModel):
    """A sensor: one quantity of one owner at a fixed resolution, e.g. the IT power of a site every 5 min, or
    the day-ahead price of a zone every hour.

    ``owner_key`` (``"site:12"``, ``"battery:3"``, ``"pv_array:7"``, ``"zone:CAISO_NP15"``) is derived from the
    owner on save, so that ``(owner_key, quantity, name)`` is unique on every database (a unique constraint
    over nullable foreign keys would not be). ``name`` tells apart several series of the same quantity and
    owner (e.g. two meters, or ``day_ahead`` and ``real_time`` prices). ``unit`` follows the quantity
    (``price`` is in the zone's currency per MWh). ``source`` records provenance (origin, licence).
    """

    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="time_series", verbose_name="site"
    )
    battery = models.ForeignKey(
        Battery,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_series",
        verbose_name="battery",
    )
    pv_array = models.ForeignKey(
        PVArray,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_series",
        verbose_name="PV array",
    )
    market_zone = models.ForeignKey(
        MarketZone,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_series",
        verbose_name="market zone",
    )
    owner_key = models.CharField(max_length=64, editable=False, db_index=True, verbose_name="owner key")
    quantity = models.CharField(max_length=40, choices=Quantity.choices, verbose_name="quantity")
    name = models.CharField(max_length=100, blank=True, default="", verbose_name="name")
    unit = models.CharField(max_length=20, verbose_name="unit")
    resolution = models.CharField(max_length=16, verbose_name="resolution (ISO 8601 duration)")
    resolution_s = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name="resolution (s)"
    )
    source = models.CharField(max_length=300, blank=True, default="", verbose_name="source / provenance")

    class Meta:
        ordering = ["owner_key", "quantity", "name"]
        verbose_name = "time series"
        verbose_name_plural = "time series"
        constraints = [
            models.CheckConstraint(condition=_exactly_one_owner(), name="timeseries_exactly_one_owner"),
            models.CheckConstraint(
                condition=models.Q(resolution_s__gt=0), name="timeseries_resolution_positive"
            ),
            models.UniqueConstraint(
                fields=["owner_key", "quantity", "name"], name="timeseries_unique_quantity_name_per_owner"
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.owner_key} {self.quantity}"
        return f"{label} ({self.name})" if self.name else label

    @property
    def owner_kind(self) -> str:
        """:class:`OwnerKind` of the owner."""
        if self.site_id is not None:
            return OwnerKind.SITE
        if self.battery_id is not None:
            return OwnerKind.BATTERY
        if self.pv_array_id is not None:
            return OwnerKind.PV_ARRAY
        return OwnerKind.ZONE

    @property
    def owner(self) -> Site | Battery | PVArray | MarketZone:
        """The owning object."""
        getters: dict[str, Any] = {
            OwnerKind.SITE: lambda: self.site,
            OwnerKind.BATTERY: lambda: self.battery,
            OwnerKind.PV_ARRAY: lambda: self.pv_array,
            OwnerKind.ZONE: lambda: self.market_zone,
        }
        return getters[self.owner_kind]()

    @property
    def owner_site_id(self) -> int | None:
        """The site a site or asset series belongs to (``None`` for a zone series)."""
        if self.site_id is not None:
            return self.site_id
        if self.battery_id is not None:
            return self.battery.site_id  # type: ignore[union-attr]
        if self.pv_array_id is not None:
            return self.pv_array.site_id  # type: ignore[union-attr]
        return None

    @property
    def aggregation(self) -> str:
        """How the quantity resamples (mean, sum or last); see :class:`~apps.telemetry.choices.Aggregation`."""
        return QUANTITY_SPECS[self.quantity].aggregation

    def compute_owner_key(self) -> str:
        """``"<kind>:<id>"`` of the owner, e.g. ``"site:12"`` or ``"zone:CAISO_NP15"``."""
        kind = self.owner_kind
        idents: dict[str, Any] = {
            OwnerKind.SITE: self.site_id,
            OwnerKind.BATTERY: self.battery_id,
            OwnerKind.PV_ARRAY: self.pv_array_id,
            OwnerKind.ZONE: self.market_zone_id,
        }
        return f"{kind}:{idents[kind]}"

    def clean(self) -> None:
        """Exactly one owner, a quantity that fits the owner kind, a resolution dividing a day; derives
        ``owner_key``, ``resolution_s`` and ``unit`` (so the admin refuses what the API refuses)."""
        owners = [f for f in ("site_id", "battery_id", "pv_array_id", "market_zone_id") if getattr(self, f)]
        if len(owners) != 1:
            raise ValidationError("A series belongs to exactly one of: site, battery, PV array, market zone.")
        spec = QUANTITY_SPECS.get(self.quantity)
        if spec is None:
            raise ValidationError({"quantity": f"unknown quantity '{self.quantity}'."})
        if self.owner_kind not in spec.owners:
            allowed = ", ".join(sorted(spec.owners))
            raise ValidationError(
                {"quantity": f"a {self.quantity} series belongs to a {allowed}, not a {self.owner_kind}."}
            )
        try:
            self.resolution_s = resolution_seconds(self.resolution or "")
        except ValueError as exc:
            raise ValidationError({"resolution": str(exc)}) from exc
        self.resolution = duration_iso(self.resolution_s)
        currency = self.market_zone.currency if self.market_zone_id else None  # type: ignore[union-attr]
        self.unit = unit_for(self.quantity, currency=currency)
        self.owner_key = self.compute_owner_key()
        # the unique constraint involves owner_key, which forms exclude (not editable): check it here
        clash = TimeSeries.objects.filter(owner_key=self.owner_key, quantity=self.quantity, name=self.name)
        if clash.exclude(pk=self.pk).exists():
            raise ValidationError(
                {"name": f"{self.owner_key} already has a {self.quantity} series named '{self.name}'."}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.owner_key = self.compute_owner_key()
        if self.resolution_s and not self.resolution:
            self.resolution = duration_iso(self.resolution_s)
        super().save(*args, **kwargs)


class DataPoint(models.Model):
    """One value of a series for the interval ``[start, start + resolution)`` (UTC), in the series' unit.

    Unique on ``(series, start)``; that index also serves every time-range read. Written in bulk by
    :func:`apps.telemetry.services.datapoints_ingest` (COPY + upsert on PostgreSQL). On PostgreSQL the table is
    partitioned by month on ``start`` and ``(series_id, start)`` is its primary key, ``id`` an unindexed
    sequence the ORM still uses (migration 0004, :mod:`apps.telemetry.partitions`); SQLite keeps one table.
    """

    id = models.BigAutoField(primary_key=True)
    # No separate index on series_id: the unique (series_id, start) index serves lookups by series. No
    # database-level foreign-key constraint either: PostgreSQL checks it with a trigger per inserted row, which
    # halves bulk-ingestion throughput (measured: 1 M rows in 19 s with it, 9 s without). Integrity is kept by
    # the application instead: points are written only by ``datapoints_ingest``, which first locks the
    # series row (so it exists), and deleting a series deletes its points (ORM cascade).
    series = models.ForeignKey(
        TimeSeries,
        on_delete=models.CASCADE,
        related_name="data_points",
        db_index=False,
        db_constraint=False,
        verbose_name="series",
    )
    start = models.DateTimeField(verbose_name="interval start (UTC)")
    value = models.FloatField(verbose_name="value")

    class Meta:
        ordering = ["series", "start"]
        verbose_name = "data point"
        verbose_name_plural = "data points"
        constraints = [
            models.UniqueConstraint(fields=["series", "start"], name="datapoint_unique_series_start"),
        ]

    def __str__(self) -> str:
        return f"{self.series_id} @ {self.start:%Y-%m-%dT%H:%M}Z = {self.value:g}"


class DataPointRollup(models.Model):
    """Aggregate of a series' points in one bucket ``[start, start + bucket_s)`` (UTC, aligned to the Unix
    epoch): ``mean_value``, ``min_value``, ``max_value`` in the series' unit and ``count`` of points.

    Kept for buckets of 15 minutes and 1 hour (:data:`apps.telemetry.rollups.ROLLUP_BUCKETS_S`) of series finer
    than the bucket, on PostgreSQL only, recomputed from the raw points of every bucket a batch touches in the
    ingestion transaction (:func:`apps.telemetry.rollups.rollups_refresh`). Rollups outlive the raw points
    (``VPP_RAW_RETENTION_DAYS`` drops raw partitions only). No database foreign key, as for :class:`DataPoint`.
    """

    # The natural key is the primary key: no id column, whose extra index and sequence cost 40 % of the rollup
    # upsert in the ingestion transaction (measured on 8 334 buckets).
    pk = models.CompositePrimaryKey("series", "bucket_s", "start")
    series = models.ForeignKey(
        TimeSeries,
        on_delete=models.CASCADE,
        related_name="rollups",
        db_index=False,
        db_constraint=False,
        verbose_name="series",
    )
    bucket_s = models.PositiveIntegerField(verbose_name="bucket width (s)")
    start = models.DateTimeField(verbose_name="bucket start (UTC)")
    mean_value = models.FloatField(verbose_name="mean")
    min_value = models.FloatField(verbose_name="minimum")
    max_value = models.FloatField(verbose_name="maximum")
    count = models.PositiveIntegerField(verbose_name="points in the bucket")

    class Meta:
        ordering = ["series", "bucket_s", "start"]
        verbose_name = "data-point rollup"
        verbose_name_plural = "data-point rollups"

    def __str__(self) -> str:
        return f"{self.series_id} {self.bucket_s}s @ {self.start:%Y-%m-%dT%H:%M}Z = {self.mean_value:g}"


# Site state (its own module, re-exported: this module stays small).
from .state_models import KnownJob, QueuedWork, SiteState, SiteStateBattery  # noqa: E402, F401
