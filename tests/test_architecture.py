"""Architecture rules of DESIGN.md, checked on the import statements of every module.

- ``forecasting/`` and ``flexibility/`` are pure: no Django, DRF, Celery, kombu, ``apps`` or ``vpp``.
- Apps import only downward in the layer order (core at the bottom, dashboard at the top); an app not in the
  order fails the test, so adding one is a deliberate decision.
- The dashboard reads other apps through their selectors; it writes (owner enrolment forms, staff approvals)
  only from ``apps/dashboard/writes.py``, through the same services the API uses.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# DESIGN.md's order, with the OpenADR VTN as its own layer between markets and dispatch (dispatch publishes
# setpoints as VTN events; VEN reports become telemetry).
LAYERS = [
    "core",
    "accounts",
    "assets",
    "telemetry",
    "forecasts",
    "markets",
    "openadr",
    "dispatch",
    "settlement",
    "greenpower",
    "dashboard",
    "simulation",
    "replay",
]
IMPURE = ("django", "rest_framework", "celery", "kombu", "apps", "vpp", "drf_spectacular", "django_filters")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every absolute import in the file (relative imports stay inside a package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


@pytest.mark.parametrize("package", ["forecasting", "flexibility"])
def test_pure_libraries_import_no_framework(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files(package)
        for line, module in imported_modules(path)
        if module.split(".")[0] in IMPURE
    ]
    assert not offenders, "\n".join(offenders)


def app_dirs() -> list[str]:
    return sorted(p.name for p in (ROOT / "apps").iterdir() if (p / "__init__.py").exists())


def test_every_app_has_a_layer() -> None:
    unknown = set(app_dirs()) - set(LAYERS)
    assert not unknown, f"apps missing from the layer order in DESIGN.md / this test: {unknown}"


def test_apps_import_only_downward() -> None:
    offenders = []
    for app in app_dirs():
        rank = LAYERS.index(app)
        for path in python_files(f"apps/{app}"):
            for line, module in imported_modules(path):
                parts = module.split(".")
                if parts[0] == "vpp":
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module} (vpp is the top)")
                if (
                    parts[0] == "apps"
                    and len(parts) > 1
                    and parts[1] in LAYERS
                    and LAYERS.index(parts[1]) > rank
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module} (upward)")
    assert not offenders, "\n".join(offenders)


#: Apps allowed to import apps.simulation (DESIGN.md: used by replay, tests and benchmarks; no product app imports it).
SIMULATION_USERS = {"simulation", "replay"}


def test_no_product_app_imports_simulation() -> None:
    """Simulators and test hooks stay out of the product: only replay (and simulation itself) import
    ``apps.simulation``; dispatch reaches the fault hooks through ``apps.dispatch.checkpoints``."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for app in app_dirs()
        if app not in SIMULATION_USERS
        for path in python_files(f"apps/{app}")
        for line, module in imported_modules(path)
        if module == "apps.simulation" or module.startswith("apps.simulation.")
    ]
    assert not offenders, "\n".join(offenders)


DASHBOARD_WRITES = "apps/dashboard/writes.py"
ORM_WRITES = {
    "save",
    "delete",
    "create",
    "update",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}


def _is_service(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "apps" and parts[1:2] != ["dashboard"] and parts[2:3] == ["services"]


def test_dashboard_writes_only_through_services_in_one_module() -> None:
    """Only apps/dashboard/writes.py imports other apps' services (``from apps.x import services`` included), and
    no dashboard module writes through the ORM itself."""
    if not (ROOT / "apps" / "dashboard").exists():
        pytest.skip("no dashboard app yet")
    offenders = []
    for path in python_files("apps/dashboard"):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            offenders += [
                f"{rel}:{node.lineno} imports {m} (only {DASHBOARD_WRITES} may)"
                for m in modules
                if _is_service(m) and rel != DASHBOARD_WRITES
            ]
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ORM_WRITES
            ):
                offenders.append(f"{rel}:{node.lineno} calls .{node.func.attr}() (write through a service)")
    assert not offenders, "\n".join(offenders)


def test_rule_detects_an_upward_import(tmp_path: Path) -> None:
    """The checker itself works: an upward import in a sample file is found."""
    sample = tmp_path / "m.py"
    sample.write_text("from apps.dashboard.views import x\nimport django.db\n")
    assert (1, "apps.dashboard.views") in imported_modules(sample)
    assert (2, "django.db") in imported_modules(sample)
