"""Settlement reads other apps' data through their selectors (DESIGN.md): no module of ``apps/settlement`` calls
``<Model>.objects`` (or ``_default_manager``) on a model imported from another app's ``models``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def foreign_model_queries(app: str, root: Path = ROOT) -> list[str]:
    """``path:line Model.objects`` for every manager access in ``apps/<app>`` (migrations aside) on a name imported
    from ``apps.<other>.models``."""
    found = []
    for path in sorted((root / "apps" / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        foreign: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] == "apps" and len(parts) > 2 and parts[1] != app and parts[2] == "models":
                    foreign |= {alias.asname or alias.name for alias in node.names}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"objects", "_default_manager"}
                and isinstance(node.value, ast.Name)
                and node.value.id in foreign
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_settlement_queries_no_other_apps_models() -> None:
    offenders = foreign_model_queries("settlement")
    assert not offenders, "\n".join(offenders)


def test_the_check_finds_a_foreign_query(tmp_path: Path) -> None:
    app = tmp_path / "apps" / "settlement"
    app.mkdir(parents=True)
    (app / "m.py").write_text(
        "from apps.markets.models import Event\nfrom .models import SettlementRun\n"
        "Event.objects.filter(pk=1)\nSettlementRun.objects.all()\n"
    )
    assert foreign_model_queries("settlement", root=tmp_path) == ["apps/settlement/m.py:3 Event.objects"]
