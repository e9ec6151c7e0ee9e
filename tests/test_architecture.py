"""Architecture rules of DESIGN.md, checked on the import statements of every module.

- ``forecasting/`` and ``flexibility/`` are pure: no Django, DRF, Celery, kombu, ``apps`` or ``vpp``.
- Apps import only downward in the layer order (core at the bottom, dashboard at the top); an app not in the
  order fails the test, so adding one is a deliberate decision.
- The dashboard reads other apps through their selectors; it writes (owner enrolment forms, staff approvals)
  only from ``apps/dashboard/writes.py``, through the same services the API uses.
- A module of ``apps/X`` never queries a model of ``apps/Y`` (``Model.objects`` on a model imported from
  ``apps.Y.models``) outside ``apps/Y``'s selectors and services; the harnesses ``apps/simulation`` and
  ``apps/replay`` (above every product app) are not held to it.
- No module over 400 lines and no function over 80 lines in ``apps/``, ``forecasting/``, ``flexibility/``.
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


# --- the selector rule and module sizes (issue #20) ---------------------------------------------------------
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
#: Apps above the product (DESIGN.md): simulators, benchmarks and the replay; not held to the selector rule.
HARNESSES = ("simulation", "replay")


def _sources(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    )


def _foreign_models(tree: ast.AST, app: str) -> dict[str, str]:
    """``{local name: app}`` for every name imported from another app's ``models`` module."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if len(parts) >= 3 and parts[0] == "apps" and parts[2] == "models" and parts[1] != app:
                found.update({alias.asname or alias.name: parts[1] for alias in node.names})
    return found


def foreign_queries(path: Path) -> list[str]:
    """Each ``Model.objects`` use in ``path`` on a model of another app, as ``file:line Model (app)``."""
    app = path.relative_to(ROOT / "apps").parts[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    foreign = _foreign_models(tree, app)
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr} (a model of apps.{foreign[node.value.id]})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("objects", "_default_manager")
        and isinstance(node.value, ast.Name)
        and node.value.id in foreign
    ]


def test_other_apps_are_read_through_their_selectors() -> None:
    offenders = [
        hit
        for path in _sources("apps")
        if path.relative_to(ROOT / "apps").parts[0] not in HARNESSES
        for hit in foreign_queries(path)
    ]
    assert not offenders, "query another app's models through its selectors/services:\n" + "\n".join(
        offenders
    )


def test_the_rule_sees_a_foreign_query() -> None:
    probe = ROOT / "apps" / "settlement" / "_probe_module_rules.py"
    probe.write_text("from apps.markets.models import Event\n\n\ndef f():\n    return Event.objects.all()\n")
    try:
        assert foreign_queries(probe) == [
            "apps/settlement/_probe_module_rules.py:5 Event.objects (a model of apps.markets)"
        ]
    finally:
        probe.unlink()


def test_modules_and_functions_stay_small() -> None:
    offenders = []
    for path in _sources("apps", "forecasting", "flexibility"):
        source = path.read_text()
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path.relative_to(ROOT)}: {lines} lines (max {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines (max {MAX_FUNCTION_LINES})"
                    )
    assert not offenders, "\n".join(offenders)


def _module_graph() -> dict[str, set[str]]:
    """``{module: modules it imports at module level}`` over apps/, forecasting/, flexibility/ and vpp/.

    ``from package import submodule`` counts as an import of the submodule only (Python initialises the parent
    package first in any case); imports under ``if TYPE_CHECKING:`` and inside functions are not counted.
    """
    modules: dict[str, tuple[Path, list[str]]] = {}
    for folder in ("apps", "forecasting", "flexibility", "vpp"):
        for path in python_files(folder):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            package = parts[:-1]  # the package a relative import starts from
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = (path, package)
    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                subs = {f"{target}.{alias.name}" for alias in node.names} & modules.keys()
                if subs and len(subs) == len(node.names):
                    deps.update(subs)
                elif target in modules:
                    deps.add(target)
                    deps.update(subs)
        deps.discard(name)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan 1972), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert not _cycles(_module_graph())


def test_the_circle_check_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
