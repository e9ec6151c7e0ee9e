"""The lp queue's task reads the binary codec and, from an earlier release, plain JSON specs."""

from __future__ import annotations

import flexibility
from apps.markets.lp_tasks import solve_lp_blocks
from flexibility.codec import encode_specs
from flexibility.synthetic import synthetic_problem


def test_lp_task_accepts_encoded_and_plain_chunks():
    specs = flexibility.plan_blocks(flexibility.Problem.from_json(synthetic_problem(8, steps=24)))
    encoded = solve_lp_blocks.run(encode_specs(specs[:2]))
    plain = solve_lp_blocks.run([s.to_json() for s in specs[:2]])
    assert [r["objective"] for r in encoded] == [r["objective"] for r in plain]
    assert [r["index"] for r in encoded] == [0, 1]
