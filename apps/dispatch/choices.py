from django.db import models


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded by a newer version"
    FAILED = "failed", "Failed"


class DeliveryStatus(models.TextChoices):
    """pending → delivered → acknowledged | failed."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FAILED = "failed", "Failed"


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Signed webhook"
    OPENADR = "openadr", "OpenADR 3.1 event"
    POLL = "poll", "Polled over REST"


class PlanKind(models.TextChoices):
    """``schedule``: the day-ahead cost-optimal operation of the portfolio; ``activation``: the split of a market
    activation, which takes precedence over the schedule while it lasts; ``replan``: the closed loop's intraday
    re-plan from the live site state (only the setpoints that changed; the newest plan's setpoint applies)."""

    SCHEDULE = "schedule", "Day-ahead schedule"
    ACTIVATION = "activation", "Activation"
    REPLAN = "replan", "Intraday re-plan"


class ReplanStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
