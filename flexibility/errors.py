"""Exceptions raised by the flexibility library.

Every error names the input field or the constraint family at fault, so that a caller (an API view, a Celery
task, the CLI) can turn it into a machine-readable 4xx body or a status message without parsing text.
"""

from __future__ import annotations

from typing import Any


class FlexibilityError(Exception):
    """Base class of every error raised by :mod:`flexibility`."""


class FlexibilityInputError(FlexibilityError, ValueError):
    """The problem is malformed: a field is missing, has the wrong length, unit or sign.

    Attributes:
        field: dotted path of the offending field, e.g. ``"sites[0].battery.soc_initial_kwh"``.
        reason: human-readable reason.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def to_json(self) -> dict[str, Any]:
        """``{"status": "invalid", "field", "reason"}``."""
        return {"status": "invalid", "field": self.field, "reason": self.reason}


class FlexibilityInfeasible(FlexibilityError):
    """The problem is well formed but no schedule meets every hard constraint.

    Attributes:
        family: the constraint family that cannot be met, one of ``"battery_soc"``, ``"battery_final_soc"``,
            ``"deferrable_deadline"``, ``"grid_import_limit"``, ``"grid_export_limit"``, ``"green_share"`` or
            ``"unknown"``.
        site: the site id concerned, when known.
        workload: the workload id concerned, when known.
        step: the first time step (0-based) at which the family fails, when known.
        message: full explanation, e.g. ``"backup reserve above soc_initial at site sj1"``.
    """

    def __init__(
        self,
        family: str,
        message: str,
        *,
        site: str | None = None,
        workload: str | None = None,
        step: int | None = None,
    ) -> None:
        self.family = family
        self.site = site
        self.workload = workload
        self.step = step
        self.message = message
        super().__init__(message)

    def to_json(self) -> dict[str, Any]:
        """``{"status": "infeasible", "family", "message", "site", "workload", "step"}``."""
        return {
            "status": "infeasible",
            "family": self.family,
            "message": self.message,
            "site": self.site,
            "workload": self.workload,
            "step": self.step,
        }
