"""CLI smoke tests through a subprocess (``python -m flexibility``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flexibility.synthetic import synthetic_problem
from tests.flexibility.factories import problem, site, zone

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flexibility", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_cli_solve_writes_result(tmp_path):
    pfile = tmp_path / "problem.json"
    pfile.write_text(json.dumps(synthetic_problem(3, steps=24, resolution="PT1H")))
    out = tmp_path / "result.json"
    proc = _run("solve", str(pfile), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["status"] == "optimal"
    assert set(result["sites"]) == {"s0", "s1", "s2"}
    assert "objective" in proc.stdout
    # stdout mode
    proc = _run("solve", str(pfile))
    assert json.loads(proc.stdout)["objective"] == result["objective"]


def test_cli_envelope_json_and_csv(tmp_path):
    pfile = tmp_path / "problem.json"
    pfile.write_text(json.dumps(synthetic_problem(2, steps=24, resolution="PT1H")))
    proc = _run("envelope", str(pfile), "-d", "1", "2")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["durations_hours"] == [1.0, 2.0]
    assert set(env["scopes"]) == {"portfolio", "s0", "s1"}
    assert len(env["scopes"]["portfolio"]["down_kw"]["2.0"]) == 24
    assert (
        env["scopes"]["portfolio"]["down_kw"]["2.0"][-1] is None
    )  # a 2 h window cannot start in the last hour
    proc = _run("envelope", str(pfile), "--csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("duration_hours,start,portfolio_down_kw")


def test_cli_reports_infeasible_and_invalid(tmp_path):
    bad = problem(2, {"z": zone([1, 2])}, [site("sj1", battery={"energy_kwh": 10, "power_kw": 5,
                                                                "soc_initial_kwh": 1, "backup_reserve_kwh": 5})])  # fmt: skip
    pfile = tmp_path / "bad.json"
    pfile.write_text(json.dumps(bad))
    proc = _run("solve", str(pfile))
    assert proc.returncode == 2
    body = json.loads(proc.stdout)
    assert body["status"] == "infeasible" and body["family"] == "battery_soc" and body["site"] == "sj1"
    assert "Traceback" not in proc.stderr
    bad["steps"] = 0
    pfile.write_text(json.dumps(bad))
    proc = _run("solve", str(pfile))
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "status": "invalid",
        "field": "steps",
        "reason": "must be a positive integer",
    }
