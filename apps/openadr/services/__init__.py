"""Writes of the VTN (one module per resource), and the Python API (:mod:`.publish`) the layers above (dispatch) publish setpoints and signals with.

Every write takes the ``caller`` (:class:`~apps.openadr.access.VtnCaller`; ``None`` = the system itself, e.g.
dispatch) and a request body in the spec's camelCase shape, validated against openadr3.yaml
(:mod:`apps.openadr.schemas`). Rules and where they come from:

- ids, ``createdDateTime`` and ``modificationDateTime`` are the VTN's; ``id``, both date-times and
  ``objectType`` in a body are ignored (Definition.md §"Object Metadata", §"POST and PUT"); "now" is
  :func:`apps.core.clock.now`.
- who writes what: openadr3.yaml ``securitySchemes.oAuth2ClientCredentials`` scopes — programs and events:
  business logic only (``write_programs``, ``write_events``); reports: VENs only (``write_reports``); vens,
  resources and subscriptions: both (``write_vens``, ``write_subscriptions``), a VEN only its own objects.
- only business logic writes targets of vens and resources (§"Object Privacy": "Only BL clients may write
  targets to ven and resource objects"); a VEN that sends different targets gets 403.
- names: ``programName`` unique in the VTN, ``venName`` unique in the VTN, ``resourceName`` unique per ven
  (§"Object names") → 409 on a duplicate. Event and report names need not be unique.
- a reference to an object that does not exist (or that the caller cannot read) → 409 (openadr3.yaml
  ``components.responses.conflict``: "a violation of a foreign key constraint"); deleting a program that still
  has events → 409.

Errors: :class:`~apps.core.errors.NotPermitted` (403), :class:`~apps.core.errors.ConflictError` (409),
``ValidationError`` / :class:`~apps.core.errors.DomainError` (400).
"""

from ._common import ENROLLED_STATUSES, MAX_PRIORITY, RESERVED_TARGET_PREFIXES
from .events import event_create, event_delete, event_update
from .programs import program_create, program_delete, program_ensure, program_update
from .publish import (
    DISPATCH_PROGRAM_NAME,
    MAX_KEY_LENGTH,
    SETPOINT_UNITS,
    SIGNALS_PROGRAM_NAME,
    IntervalSpec,
    SitePublication,
    dispatch_event_publish,
    openadr_event_ensure,
    openadr_event_publish,
    openadr_event_withdraw,
    openadr_events_ensure_many,
    openadr_signal_publish,
)
from .reports import report_create, report_delete, report_ingest, report_update
from .resources import resource_create, resource_delete, resource_update
from .subscriptions import subscription_create, subscription_delete, subscription_update
from .vens import ven_create, ven_delete, ven_update

__all__ = [
    "DISPATCH_PROGRAM_NAME",
    "ENROLLED_STATUSES",
    "MAX_KEY_LENGTH",
    "MAX_PRIORITY",
    "RESERVED_TARGET_PREFIXES",
    "SETPOINT_UNITS",
    "SIGNALS_PROGRAM_NAME",
    "IntervalSpec",
    "SitePublication",
    "dispatch_event_publish",
    "event_create",
    "event_delete",
    "event_update",
    "openadr_event_ensure",
    "openadr_event_publish",
    "openadr_event_withdraw",
    "openadr_events_ensure_many",
    "openadr_signal_publish",
    "program_create",
    "program_delete",
    "program_ensure",
    "program_update",
    "report_create",
    "report_delete",
    "report_ingest",
    "report_update",
    "resource_create",
    "resource_delete",
    "resource_update",
    "subscription_create",
    "subscription_delete",
    "subscription_update",
    "ven_create",
    "ven_delete",
    "ven_update",
]
