"""Domain errors raised by services and turned into HTTP problem responses by the API layer.

Services raise these (or ``django.core.exceptions.ValidationError`` with a field → message dict) instead of
returning error codes, so that every caller (API, admin, Celery task, command) handles them the same way.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request that is well-formed but cannot be carried out. ``status`` is the HTTP status."""

    status = 400
    code = "domain_error"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class ConflictError(DomainError):
    """The request conflicts with the current state of the resource (HTTP 409), e.g. an illegal transition."""

    status = 409
    code = "conflict"


class NotPermitted(DomainError):
    """The caller is authenticated but may not perform this action (HTTP 403)."""

    status = 403
    code = "permission_denied"
