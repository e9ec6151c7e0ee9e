"""Every endpoint under /api/v1/ has a row in some app's permission matrix (read from the URL conf), so a new
endpoint cannot be forgotten."""

from __future__ import annotations

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver, get_resolver

import tests.apps

# Public by design: the token endpoint authenticates by its body; schema and docs describe the API.
PUBLIC = {("auth-token", "post"), ("schema", "get"), ("api-docs", "get")}


def api_endpoints() -> set[tuple[str, str]]:
    """(route name, method) of every endpoint under /api/v1/, read from the URL conf."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and pattern.name:
                callback = pattern.callback
                if hasattr(callback, "actions"):
                    methods = set(callback.actions)
                else:
                    view_class = callback.view_class  # type: ignore[attr-defined]
                    methods = {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
                found.update((pattern.name, m) for m in methods - {"head", "options"})

    walk(get_resolver().url_patterns, "")
    return found


def all_matrix_rows() -> set[tuple[str, str]]:
    """The union of ``MATRIX`` keys of every ``tests/apps/<app>/test_permission_matrix.py``."""
    rows: set[tuple[str, str]] = set()
    for info in pkgutil.iter_modules(tests.apps.__path__):
        try:
            module = importlib.import_module(f"tests.apps.{info.name}.test_permission_matrix")
        except ModuleNotFoundError:
            continue
        rows |= set(module.MATRIX)
    return rows


def test_matrices_cover_every_endpoint() -> None:
    endpoints = api_endpoints()
    rows = all_matrix_rows()
    missing = endpoints - rows - PUBLIC
    assert not missing, f"endpoints without a permission-matrix row: {sorted(missing)}"
    stale = rows - endpoints
    assert not stale, f"matrix rows for endpoints that no longer exist: {sorted(stale)}"
