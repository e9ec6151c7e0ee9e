"""Module rules of issue #20 and DESIGN.md, checked on the source of every module.

- Another app's data is read through its selectors and written through its services: a module of ``apps/X``
  never queries a model of ``apps/Y`` (``Model.objects`` / ``Model._default_manager`` on a model imported from
  ``apps.Y.models``) unless it is ``apps/Y``'s own selectors or services. The harnesses above the product, the
  simulators and benchmarks of ``apps/simulation`` and the replay of ``apps/replay`` (DESIGN.md: no product app
  imports them), build and remove whole test worlds in bulk and are not held to it.
- Small modules and functions: no module over 400 lines and no function over 80 lines in ``apps/``,
  ``forecasting/`` and ``flexibility/`` (migrations aside).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
