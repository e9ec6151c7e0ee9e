"""forecasting/ is a pure library: it must never import Django, Celery, apps or vpp."""

import ast
import subprocess
import sys
from pathlib import Path

import forecasting

FORBIDDEN = {"django", "celery", "apps", "vpp", "rest_framework"}
PACKAGE = Path(forecasting.__file__).parent


def test_no_forbidden_import_statement_in_the_source():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_package_loads_no_forbidden_module():
    code = (
        "import sys, forecasting, forecasting.cli, forecasting.backtest, forecasting.pv\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert out.stdout.strip() == ""
