"""Endpoints of the OpenADR 3.1.0 VTN (openadr3.yaml ``paths``), under ``/openadr3/3.1.0/``.

| path | GET | POST | PUT | DELETE |
|---|---|---|---|---|
| /programs, /programs/{id} | bl, ven (targeted) | bl | bl | bl |
| /events, /events/{id} | bl, ven (targeted) | bl | bl | bl |
| /vens, /vens/{id} | bl, ven (own) | bl, ven (itself) | bl, ven (own) | bl |
| /resources, /resources/{id} | bl, ven (own) | bl, ven (own) | bl, ven (own) | bl, ven (own) |
| /reports, /reports/{id} | bl, ven (own) | ven | ven (own) | ven (own) |
| /subscriptions, /subscriptions/{id} | bl, ven (own) | bl, ven | bl, ven (own) | bl, ven (own) |
| /auth/server, /auth/token | public | public (token) | | |

An object the caller may not read answers 404 (it is not in the caller's result set, Definition.md §"Object
Privacy"); a method the caller's role may not use answers 403. Views validate query parameters and call one
selector or service each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from rest_framework import parsers, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.views import basic_credentials
from apps.accounts.services import access_token_issue
from apps.accounts.throttling import TokenRateThrottle
from apps.core.errors import DomainError

from .. import selectors, services
from ..access import BL, VEN
from ..representations import (
    event_repr,
    program_repr,
    report_repr,
    resource_repr,
    subscription_repr,
    ven_repr,
)
from ..selectors import TargetScope, object_pk
from .base import (
    VtnView,
    bool_param,
    check_object_id,
    object_id_param,
    paging,
    problem,
    targets_param,
    text_param,
)

BOTH = frozenset({BL, VEN})
ONLY_BL = frozenset({BL})
ONLY_VEN = frozenset({VEN})


# --- generic collection and item views ---------------------------------------------------------------------


class _Kind(VtnView):
    """Hooks of one object kind: the caller's queryset and the representation."""

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def represent(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError


class _Collection(_Kind):
    def items(self) -> Any:
        return self.queryset()

    def get(self, request: Request) -> Response:
        skip, limit = paging(request)
        page = list(self.items()[skip : skip + limit]) if limit else []
        return Response([self.represent(obj) for obj in page])

    def post(self, request: Request) -> Response:
        return Response(self.represent(self.create(request.data)), status=201)

    def create(self, data: Any) -> Any:
        raise NotImplementedError


class _Item(_Kind):
    def get_object(self, object_id: str) -> Any:
        check_object_id(object_id)
        obj = self.queryset().filter(pk=object_pk(object_id) or 0).first()
        if obj is None:
            raise Http404(f"No object with id '{object_id}' for this client.")
        return obj

    def get(self, request: Request, object_id: str) -> Response:
        return Response(self.represent(self.get_object(object_id)))

    def put(self, request: Request, object_id: str) -> Response:
        return Response(self.represent(self.update(self.get_object(object_id), request.data)))

    def delete(self, request: Request, object_id: str) -> Response:
        return Response(self.represent(self.remove(self.get_object(object_id))))

    def update(self, obj: Any, data: Any) -> Any:
        raise NotImplementedError

    def remove(self, obj: Any) -> Any:
        raise NotImplementedError


# --- programs ----------------------------------------------------------------------------------------------


class _Programs(_Kind):
    scope: TargetScope

    def queryset(self) -> QuerySet:
        self.scope = selectors.target_scope(caller=self.caller, requested=targets_param(self.request))
        return selectors.program_list(caller=self.caller, scope=self.scope)

    def represent(self, obj: Any) -> dict[str, Any]:
        return program_repr(obj, self.scope)


class ProgramsView(_Programs, _Collection):
    """``GET /programs`` (``targets``, ``skip``, ``limit``), ``POST /programs``."""

    roles: ClassVar = {"GET": BOTH, "POST": ONLY_BL}

    def create(self, data: Any) -> Any:
        self.scope = selectors.target_scope(caller=self.caller)
        return services.program_create(caller=self.caller, data=data)


class ProgramView(_Programs, _Item):
    """``GET | PUT | DELETE /programs/{programID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_BL, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.program_update(caller=self.caller, program=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.program_delete(caller=self.caller, program=obj)


# --- events ------------------------------------------------------------------------------------------------


class _Events(_Kind):
    scope: TargetScope

    def queryset(self) -> QuerySet:
        self.scope = selectors.target_scope(caller=self.caller, requested=targets_param(self.request))
        return selectors.event_list(caller=self.caller, scope=self.scope)

    def represent(self, obj: Any) -> dict[str, Any]:
        return event_repr(obj, self.scope)


class EventsView(_Events, _Collection):
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


class EventView(_Events, _Item):
    """``GET | PUT | DELETE /events/{eventID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_BL, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.event_update(caller=self.caller, event=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.event_delete(caller=self.caller, event=obj)


# --- vens --------------------------------------------------------------------------------------------------


class _Vens(_Kind):
    def queryset(self) -> QuerySet:
        return selectors.ven_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return ven_repr(obj)


class VensView(_Vens, _Collection):
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


class VenView(_Vens, _Item):
    """``GET | PUT | DELETE /vens/{venID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": ONLY_BL}

    def update(self, obj: Any, data: Any) -> Any:
        return services.ven_update(caller=self.caller, ven=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.ven_delete(caller=self.caller, ven=obj)


# --- resources ---------------------------------------------------------------------------------------------


class _Resources(_Kind):
    def queryset(self) -> QuerySet:
        return selectors.resource_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return resource_repr(obj)


class ResourcesView(_Resources, _Collection):
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


class ResourceView(_Resources, _Item):
    """``GET | PUT | DELETE /resources/{resourceID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": BOTH}

    def update(self, obj: Any, data: Any) -> Any:
        return services.resource_update(caller=self.caller, resource=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.resource_delete(caller=self.caller, resource=obj)


# --- reports -----------------------------------------------------------------------------------------------


class _Reports(_Kind):
    def queryset(self) -> QuerySet:
        return selectors.report_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return report_repr(obj)


class ReportsView(_Reports, _Collection):
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


class ReportView(_Reports, _Item):
    """``GET | PUT | DELETE /reports/{reportID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": ONLY_VEN, "DELETE": ONLY_VEN}

    def update(self, obj: Any, data: Any) -> Any:
        return services.report_update(caller=self.caller, report=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.report_delete(caller=self.caller, report=obj)


# --- subscriptions -----------------------------------------------------------------------------------------

OBJECT_TYPES = frozenset({"PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"})


class _Subscriptions(_Kind):
    def queryset(self) -> QuerySet:
        return selectors.subscription_list(caller=self.caller)

    def represent(self, obj: Any) -> dict[str, Any]:
        return subscription_repr(obj)


class SubscriptionsView(_Subscriptions, _Collection):
    """``GET /subscriptions`` (``programID``, ``clientName``, ``objects``, ``skip``, ``limit``),
    ``POST /subscriptions`` (stored; notifications are not sent yet)."""

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


class SubscriptionView(_Subscriptions, _Item):
    """``GET | PUT | DELETE /subscriptions/{subscriptionID}``."""

    roles: ClassVar = {"GET": BOTH, "PUT": BOTH, "DELETE": BOTH}

    def update(self, obj: Any, data: Any) -> Any:
        return services.subscription_update(caller=self.caller, subscription=obj, data=data)

    def remove(self, obj: Any) -> Any:
        return services.subscription_delete(caller=self.caller, subscription=obj)


# --- auth --------------------------------------------------------------------------------------------------


class AuthServerView(VtnView):
    """``GET /auth/server``: the token endpoint's URL (Definition.md §"Token endpoint discovery")."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"tokenURL": request.build_absolute_uri(reverse("openadr:auth-token"))})


class AuthTokenView(VtnView):
    """``POST /auth/token``: OAuth2 client-credentials grant (RFC 6749 §4.4) issuing the project's bearer tokens.

    Client id and secret come as HTTP Basic (RFC 6749 §2.3.1) or in the form body; ``scope`` is a
    space-separated string in request and response (§3.3). Errors are problem documents that also carry RFC 6749
    §5.2's ``error`` / ``error_description`` (openadr3.yaml ``authError``): ``invalid_request`` and
    ``unsupported_grant_type`` (400), ``invalid_scope`` (400), ``invalid_client`` (401, with
    ``WWW-Authenticate: Basic`` when Basic was tried).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser]

    def _error(self, status: int, error: str, description: str, field: str | None, basic: bool) -> Response:
        response = problem(self.request, status, description, code=error, field=field)
        response.data["error"] = error
        response.data["error_description"] = description
        if status == 401 and basic:
            response["WWW-Authenticate"] = 'Basic realm="openadr3"'
        return response

    def post(self, request: Request) -> Response:
        basic = basic_credentials(request)
        if not isinstance(request.data, Mapping):
            return self._error(
                400, "invalid_request", "send a form (or JSON object) body.", None, bool(basic)
            )
        data = request.data
        grant_type = data.get("grant_type")
        if not grant_type:
            return self._error(400, "invalid_request", "grant_type is required.", "grant_type", bool(basic))
        if grant_type != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                "only client_credentials is supported.",
                "grant_type",
                bool(basic),
            )
        client_id, client_secret = basic or (data.get("client_id"), data.get("client_secret"))
        if not client_id or not client_secret:
            return self._error(
                400,
                "invalid_request",
                "client_id and client_secret are required (form body or HTTP Basic).",
                "client_id",
                False,
            )
        try:
            issued = access_token_issue(
                client_id=str(client_id), client_secret=str(client_secret), scope=str(data.get("scope") or "")
            )
        except DomainError as exc:
            if exc.field == "scope":
                return self._error(400, "invalid_scope", exc.reason, "scope", bool(basic))
            return self._error(401, "invalid_client", exc.reason, "client_id", bool(basic))
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
