"""The objects of the OpenADR 3.1.0 VTN: programs, events, vens, resources, reports and subscriptions.

Field names follow the spec's properties (snake_case here, camelCase on the wire, see
:mod:`apps.openadr.representations`). Nested structures (interval periods, intervals, payload descriptors,
report data) are stored as the validated JSON of the request. Ids are the VTN's (Definition.md §"Object
Metadata"): the primary key rendered as a string. ``created_date_time`` / ``modification_date_time`` are set by
the services from :func:`apps.core.clock.now` (so a replay sees simulated time).

Targets (Definition.md §"Object Privacy") are stored twice: as the JSON list shown in representations, and one
row per target in ``*Target`` tables, so that "objects with any of these targets" is an indexed query on every
database (JSON containment is not available on SQLite).
"""

from __future__ import annotations

from django.db import models

from apps.assets.models import Site


class OpenAdrObject(models.Model):
    """Abstract base: the VTN-provisioned metadata of every addressable object (``objectMetadata``)."""

    created_date_time = models.DateTimeField(verbose_name="created")
    modification_date_time = models.DateTimeField(verbose_name="modified")

    class Meta:
        abstract = True

    @property
    def object_id(self) -> str:
        """The spec's ``id`` (an ``objectID`` string)."""
        return str(self.pk)


class Program(OpenAdrObject):
    """An OpenADR program (``programRequest``): the context events belong to. ``program_name`` is unique in
    the VTN (Definition.md §"Object names")."""

    program_name = models.CharField(max_length=128, unique=True, verbose_name="program name")
    interval_period = models.JSONField(null=True, blank=True, verbose_name="interval period")
    program_descriptions = models.JSONField(null=True, blank=True, verbose_name="program descriptions")
    payload_descriptors = models.JSONField(null=True, blank=True, verbose_name="payload descriptors")
    attributes = models.JSONField(null=True, blank=True, verbose_name="attributes")
    targets = models.JSONField(null=True, blank=True, verbose_name="targets")

    class Meta:
        ordering = ["id"]
        verbose_name = "OpenADR program"
        verbose_name_plural = "OpenADR programs"

    def __str__(self) -> str:
        return self.program_name


class Event(OpenAdrObject):
    """An OpenADR event (``eventRequest``): intervals of payloads (setpoints, prices, GHG) for targeted VENs.

    ``ends_at`` is the end of the event's lifespan (User Guide §7.3), ``None`` when open-ended or relative to
    'now'; the ``active`` filter uses it. ``publish_key`` makes :func:`apps.openadr.services.openadr_event_ensure`
    idempotent (unique when set). Event names need not be unique (Definition.md §"Object names").
    """

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="events", verbose_name="program"
    )
    event_name = models.TextField(blank=True, default="", verbose_name="event name")
    duration = models.CharField(max_length=64, blank=True, default="", verbose_name="duration (ISO 8601)")
    priority = models.PositiveIntegerField(null=True, blank=True, verbose_name="priority (0 = highest)")
    targets = models.JSONField(null=True, blank=True, verbose_name="targets")
    report_descriptors = models.JSONField(null=True, blank=True, verbose_name="report descriptors")
    payload_descriptors = models.JSONField(null=True, blank=True, verbose_name="payload descriptors")
    interval_period = models.JSONField(null=True, blank=True, verbose_name="interval period")
    intervals = models.JSONField(null=True, blank=True, verbose_name="intervals")
    ends_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name="lifespan ends at")
    publish_key = models.CharField(
        max_length=200, null=True, blank=True, unique=True, verbose_name="publish key (idempotency)"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "OpenADR event"
        verbose_name_plural = "OpenADR events"

    def __str__(self) -> str:
        return self.event_name or f"event {self.pk}"


class Ven(OpenAdrObject):
    """A VEN: the OpenADR identity of one enrolled site (``BlVenRequest``).

    ``client_id`` is the ``clientID`` of the site's API client (role ``ven``, bound to ``site`` by a
    :class:`~apps.assets.models.SiteCredential`); a request authenticated as that client acts as this VEN.
    ``targets`` are the targets granted to the VEN by business logic; the VTN always keeps the site's and its
    market zone's targets in them (:func:`apps.openadr.selectors.site_targets`).
    """

    ven_name = models.CharField(max_length=128, unique=True, verbose_name="VEN name")
    client_id = models.CharField(max_length=128, unique=True, verbose_name="client id")
    site = models.OneToOneField(
        Site, on_delete=models.PROTECT, related_name="openadr_ven", verbose_name="site"
    )
    targets = models.JSONField(null=True, blank=True, verbose_name="targets")
    attributes = models.JSONField(null=True, blank=True, verbose_name="attributes")

    class Meta:
        ordering = ["id"]
        verbose_name = "VEN"
        verbose_name_plural = "VENs"

    def __str__(self) -> str:
        return self.ven_name


class Resource(OpenAdrObject):
    """A resource of a VEN (``BlResourceRequest``); ``resource_name`` is unique per VEN."""

    ven = models.ForeignKey(Ven, on_delete=models.CASCADE, related_name="resources", verbose_name="VEN")
    resource_name = models.CharField(max_length=128, verbose_name="resource name")
    client_id = models.CharField(max_length=128, verbose_name="client id")
    targets = models.JSONField(null=True, blank=True, verbose_name="targets")
    attributes = models.JSONField(null=True, blank=True, verbose_name="attributes")

    class Meta:
        ordering = ["id"]
        verbose_name = "VEN resource"
        verbose_name_plural = "VEN resources"
        constraints = [
            models.UniqueConstraint(
                fields=["ven", "resource_name"], name="openadr_resource_unique_name_per_ven"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ven} / {self.resource_name}"


class Report(OpenAdrObject):
    """A report posted by a VEN (``reportRequest``). USAGE/DEMAND readings in it became telemetry.

    ``event_ref`` / ``program_ref`` keep the ids the report answered even after the event is deleted
    (``event`` is then null). ``telemetry_points`` counts the data points written to the site's
    ``site_power_kw`` series when it was stored.
    """

    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", verbose_name="event"
    )
    event_ref = models.CharField(max_length=128, db_index=True, verbose_name="event id")
    program_ref = models.CharField(max_length=128, db_index=True, verbose_name="program id")
    ven = models.ForeignKey(
        Ven, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", verbose_name="VEN"
    )
    client_id = models.CharField(max_length=128, db_index=True, verbose_name="client id")
    client_name = models.CharField(max_length=128, verbose_name="client name")
    report_name = models.TextField(blank=True, default="", verbose_name="report name")
    payload_descriptors = models.JSONField(null=True, blank=True, verbose_name="payload descriptors")
    resources = models.JSONField(default=list, verbose_name="resources (report data)")
    telemetry_points = models.PositiveIntegerField(default=0, verbose_name="data points written to telemetry")

    class Meta:
        ordering = ["id"]
        verbose_name = "OpenADR report"
        verbose_name_plural = "OpenADR reports"

    def __str__(self) -> str:
        return self.report_name or f"report {self.pk}"


class Subscription(OpenAdrObject):
    """A subscription (``subscriptionRequest``): which operations on which object types are sent to which
    callback (:mod:`apps.openadr.notifications`). ``client_role`` is the subscriber's (``bl`` | ``ven``): a
    VEN's subscription receives only the objects that VEN may read (Definition.md §"Object Privacy")."""

    client_id = models.CharField(max_length=128, db_index=True, verbose_name="client id")
    client_role = models.CharField(max_length=8, default="ven", verbose_name="client role")
    client_name = models.CharField(max_length=128, verbose_name="client name")
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name="program",
    )
    object_operations = models.JSONField(default=list, verbose_name="object operations")
    targets = models.JSONField(null=True, blank=True, verbose_name="targets")

    class Meta:
        ordering = ["id"]
        verbose_name = "OpenADR subscription"
        verbose_name_plural = "OpenADR subscriptions"

    def __str__(self) -> str:
        return f"subscription {self.pk} of {self.client_name}"


class ProgramTarget(models.Model):
    """One target of a program (index of ``Program.targets``)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="target_rows")
    value = models.CharField(max_length=128, db_index=True, verbose_name="target")

    class Meta:
        verbose_name = "program target"
        constraints = [
            models.UniqueConstraint(fields=["program", "value"], name="openadr_program_target_unique")
        ]

    def __str__(self) -> str:
        return self.value


class EventTarget(models.Model):
    """One target of an event (index of ``Event.targets``)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="target_rows")
    value = models.CharField(max_length=128, db_index=True, verbose_name="target")

    class Meta:
        verbose_name = "event target"
        constraints = [models.UniqueConstraint(fields=["event", "value"], name="openadr_event_target_unique")]

    def __str__(self) -> str:
        return self.value


class VenTarget(models.Model):
    """One target of a VEN (index of ``Ven.targets``)."""

    ven = models.ForeignKey(Ven, on_delete=models.CASCADE, related_name="target_rows")
    value = models.CharField(max_length=128, db_index=True, verbose_name="target")

    class Meta:
        verbose_name = "VEN target"
        constraints = [models.UniqueConstraint(fields=["ven", "value"], name="openadr_ven_target_unique")]

    def __str__(self) -> str:
        return self.value


class ResourceTarget(models.Model):
    """One target of a resource (index of ``Resource.targets``)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="target_rows")
    value = models.CharField(max_length=128, db_index=True, verbose_name="target")

    class Meta:
        verbose_name = "resource target"
        constraints = [
            models.UniqueConstraint(fields=["resource", "value"], name="openadr_resource_target_unique")
        ]

    def __str__(self) -> str:
        return self.value


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed (gave up)"


class Notification(models.Model):
    """One create, update or delete of a subscribable object, recorded in the writing transaction (so it exists
    exactly when the write committed) and fanned out after commit by a Celery task.

    ``body`` is the object as business logic reads it (``object`` of openadr3.yaml ``notification``);
    ``program_ref`` the program it belongs to (programs, events, reports, subscriptions), ``program_targets``
    that program's targets (an event is readable only when its program is), ``owner_client_id`` the
    ``clientID`` owning a ven, resource, report or subscription, ``ven_ref`` the ven of a ven or resource.
    """

    object_type = models.CharField(max_length=16, verbose_name="object type")
    operation = models.CharField(max_length=8, verbose_name="operation")
    object_ref = models.CharField(max_length=128, verbose_name="object id")
    body = models.JSONField(verbose_name="object")
    program_ref = models.CharField(max_length=128, blank=True, default="", verbose_name="program id")
    program_targets = models.JSONField(null=True, blank=True, verbose_name="program targets")
    owner_client_id = models.CharField(max_length=128, blank=True, default="", verbose_name="owner client id")
    ven_ref = models.CharField(max_length=128, blank=True, default="", verbose_name="ven id")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="recorded")
    fanned_out_at = models.DateTimeField(null=True, blank=True, verbose_name="fanned out")

    class Meta:
        ordering = ["-id"]
        verbose_name = "OpenADR notification"
        verbose_name_plural = "OpenADR notifications"

    def __str__(self) -> str:
        return f"{self.operation} {self.object_type} {self.object_ref}"


class NotificationDelivery(models.Model):
    """The delivery log: one notification POSTed to one subscription's callback, with its attempts. The body is
    the notification's object as this client reads it: ``view_targets`` are the targets shown to it (the body
    itself is not stored 1,000 times: the insert of the log was half the fan-out's time)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name="notification"
    )
    subscription_ref = models.CharField(max_length=128, verbose_name="subscription id")
    client_id = models.CharField(max_length=128, db_index=True, verbose_name="client id")
    callback_url = models.CharField(max_length=2000, verbose_name="callback URL")
    bearer_token = models.CharField(max_length=2000, blank=True, default="", verbose_name="bearer token")
    view_targets = models.JSONField(
        null=True, blank=True, verbose_name="targets shown", help_text="null: business logic's full view"
    )
    status = models.CharField(
        max_length=8, choices=NotificationStatus, default=NotificationStatus.PENDING, verbose_name="status"
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="attempts")
    last_status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name="last HTTP status"
    )
    last_error = models.CharField(max_length=500, blank=True, default="", verbose_name="last error")
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name="sent")

    class Meta:
        ordering = ["-id"]
        verbose_name = "OpenADR notification delivery"
        verbose_name_plural = "OpenADR notification deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "subscription_ref", "callback_url"],
                name="openadr_delivery_once_per_callback",
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification} -> {self.callback_url} ({self.status})"
