"""Generic collection (``GET`` list with paging, ``POST``) and item (``GET``/``PUT``/``DELETE``) views of the
VTN; each object kind supplies its queryset, representation and service calls."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response

from ..access import BL, VEN
from ..selectors import object_pk
from .base import (
    VtnView,
    check_object_id,
    paging,
)

BOTH = frozenset({BL, VEN})
ONLY_BL = frozenset({BL})
ONLY_VEN = frozenset({VEN})


class KindView(VtnView):
    """Hooks of one object kind: the caller's queryset and the representation."""

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def represent(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError


class CollectionView(KindView):
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


class ItemView(KindView):
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
