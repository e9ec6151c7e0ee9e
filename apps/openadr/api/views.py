"""Endpoints of the OpenADR 3.1.0 VTN (openadr3.yaml ``paths``), under ``/openadr3/3.1.0/``.

| path | GET | POST | PUT | DELETE |
|---|---|---|---|---|
| /programs, /programs/{id} | bl, ven (targeted) | bl | bl | bl |
| /events, /events/{id} | bl, ven (targeted) | bl | bl | bl |
| /vens, /vens/{id} | bl, ven (own) | bl, ven (itself) | bl, ven (own) | bl |
| /resources, /resources/{id} | bl, ven (own) | bl, ven (own) | bl, ven (own) | bl, ven (own) |
| /reports, /reports/{id} | bl, ven (own) | ven | ven (own) | ven (own) |
| /subscriptions, /subscriptions/{id} | bl, ven (own) | bl, ven | bl, ven (own) | bl, ven (own) |

An object the caller may not read answers 404 (it is not in the caller's result set, Definition.md §"Object
Privacy"); a method the caller's role may not use answers 403. Views validate query parameters and call one
selector or service each. The token endpoints are in :mod:`.auth`, the generic views in :mod:`.generic`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .. import selectors, services
from ..representations import (
    event_repr,
    program_repr,
    report_repr,
    resource_repr,
    subscription_repr,
    ven_repr,
)
from ..selectors import TargetScope
from .base import (
    bool_param,
    object_id_param,
    targets_param,
    text_param,
)
from .generic import BOTH, ONLY_BL, ONLY_VEN, CollectionView, ItemView, KindView

# --- programs ----------------------------------------------------------------------------------------------


class _Programs(KindView):
    scope: TargetScope

    def queryset(self) -> QuerySet:
        self.scope = selectors.target_scope(caller=self.caller, requested=targets_param(self.request))
        return selectors.program_list(caller=self.caller, scope=self.scope)

    def represent(self, obj: Any) -> dict[str, Any]:
        return program_repr(obj, self.scope)


class ProgramsView(_Programs, CollectionView):
    """``GET /programs`` (``targets``, ``skip``, ``limit``), ``POST /programs``."""

    roles: ClassVar = {"GET": BOTH, "POST": ONLY_BL}

    def create(self, data: Any) -> Any:
        self.scope = selectors.target_scope(caller=self.caller)
        return services.program_create(caller=self.caller, data=data)


class ProgramView(_Programs, ItemView):
    """``GET | PUT | DELETE /programs/{programID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_BL, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.program_update(caller=self.caller, program=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.program_delete(caller=self.caller, program=obj)


# --- events ------------------------------------------------------------------------------------------------


class _Events(KindView):
    scope: TargetScope

    def queryset(self) -> QuerySet:
        self.scope = selectors.target_scope(caller=self.caller, requested=targets_param(self.request))
        return selectors.event_list(caller=self.caller, scope=self.scope)

    def represent(self, obj: Any) -> dict[str, Any]:
        return event_repr(obj, self.scope)


class EventsView(_Events, CollectionView):
    """``GET /events`` (``programID``, ``targets``, ``active``, ``skip``, ``limit``), ``POST /events``."""

    roles: ClassVar = {"GET": BOTH, "POST": ONLY_BL}

    def items(self) -> Any:
        program_id = object_id_param(self.request, "programID")
        active = bool_param(self.request, "active")
        self.scope = selectors.target_scope(caller=self.caller, requested=targets_param(self.request))
        return selectors.event_list(
            caller=self.caller, scope=self.scope, program_id=program_id, active=active
        )

    def create(self, data: Any) -> Any:
        self.scope = selectors.target_scope(caller=self.caller)
        return services.event_create(caller=self.caller, data=data)


class EventView(_Events, ItemView):
    """``GET | PUT | DELETE /events/{eventID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_BL, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.event_update(caller=self.caller, event=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.event_delete(caller=self.caller, event=obj)


# --- vens --------------------------------------------------------------------------------------------------


class _Vens(KindView):
    def queryset(self) -> QuerySet:
        return selectors.ven_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return ven_repr(obj)


class VensView(_Vens, CollectionView):
    """``GET /vens`` (``venName``, ``targets``, ``skip``, ``limit``), ``POST /vens``."""

    roles: ClassVar = {"GET": BOTH, "POST": BOTH}

    def items(self) -> Any:
        return selectors.ven_list(
            caller=self.caller,
            ven_name=text_param(self.request, "venName"),
            targets=targets_param(self.request),
        )

    def create(self, data: Any) -> Any:
        return services.ven_create(caller=self.caller, data=data)


class VenView(_Vens, ItemView):
    """``GET | PUT | DELETE /vens/{venID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.ven_update(caller=self.caller, ven=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.ven_delete(caller=self.caller, ven=obj)


# --- resources ---------------------------------------------------------------------------------------------


class _Resources(KindView):
    def queryset(self) -> QuerySet:
        return selectors.resource_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return resource_repr(obj)


class ResourcesView(_Resources, CollectionView):
    """``GET /resources`` (``resourceName``, ``venID``, ``targets``, ``skip``, ``limit``), ``POST /resources``."""

    roles: ClassVar = {"GET": BOTH, "POST": BOTH}

    def items(self) -> Any:
        return selectors.resource_list(
            caller=self.caller,
            resource_name=text_param(self.request, "resourceName"),
            ven_id=object_id_param(self.request, "venID"),
            targets=targets_param(self.request),
        )

    def create(self, data: Any) -> Any:
        return services.resource_create(caller=self.caller, data=data)


class ResourceView(_Resources, ItemView):
    """``GET | PUT | DELETE /resources/{resourceID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": BOTH}

    def update(self, obj: Any, data: Any) -> Any:
        return services.resource_update(caller=self.caller, resource=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.resource_delete(caller=self.caller, resource=obj)


# --- reports -----------------------------------------------------------------------------------------------


class _Reports(KindView):
    def queryset(self) -> QuerySet:
        return selectors.report_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return report_repr(obj)


class ReportsView(_Reports, CollectionView):
    """``GET /reports`` (``programID``, ``eventID``, ``clientName``, ``skip``, ``limit``), ``POST /reports``."""

    roles: ClassVar = {"GET": BOTH, "POST": ONLY_VEN}

    def items(self) -> Any:
        return selectors.report_list(
            caller=self.caller,
            program_id=object_id_param(self.request, "programID"),
            event_id=object_id_param(self.request, "eventID"),
            client_name=text_param(self.request, "clientName"),
        )

    def create(self, data: Any) -> Any:
        return services.report_create(caller=self.caller, data=data)


class ReportView(_Reports, ItemView):
    """``GET | PUT | DELETE /reports/{reportID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_VEN, "DELETE": ONLY_VEN}

    def update(self, obj: Any, data: Any) -> Any:
        return services.report_update(caller=self.caller, report=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.report_delete(caller=self.caller, report=obj)


# --- subscriptions -----------------------------------------------------------------------------------------

OBJECT_TYPES = frozenset({"PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"})


class _Subscriptions(KindView):
    def queryset(self) -> QuerySet:
        return selectors.subscription_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return subscription_repr(obj)


class SubscriptionsView(_Subscriptions, CollectionView):
    """``GET /subscriptions`` (``programID``, ``clientName``, ``objects``, ``skip``, ``limit``),
    ``POST /subscriptions`` (callbacks verified, then notified: :mod:`apps.openadr.notifications`)."""

    roles: ClassVar = {"GET": BOTH, "POST": BOTH}

    def items(self) -> Any:
        qs = selectors.subscription_list(
            caller=self.caller,
            program_id=object_id_param(self.request, "programID"),
            client_name=text_param(self.request, "clientName"),
        )
        objects = self.request.query_params.getlist("objects")
        unknown = sorted(set(objects) - OBJECT_TYPES)
        if unknown:
            raise ValidationError({"objects": [f"unknown object type(s): {', '.join(unknown)}."]})
        if not objects:
            return qs
        wanted = set(objects)
        return [s for s in qs if any(wanted & set(op.get("objects", [])) for op in s.object_operations)]

    def create(self, data: Any) -> Any:
        return services.subscription_create(caller=self.caller, data=data)


class SubscriptionView(_Subscriptions, ItemView):
    """``GET | PUT | DELETE /subscriptions/{subscriptionID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": BOTH}

    def update(self, obj: Any, data: Any) -> Any:
        return services.subscription_update(caller=self.caller, subscription=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.subscription_delete(caller=self.caller, subscription=obj)
