from django.db import models


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunKind(models.TextChoices):
    DAY_AHEAD = "day_ahead", "Day-ahead"
    INTRADAY = "intraday", "Intraday update"
