"""The ``lp`` queue's task: solve a chunk of portfolio LP blocks (:mod:`apps.markets.fanout`).

It takes the blocks by value rather than ids: a block is a pure computation over its own sub-problem (no
database row to load), and the caller waits for the answer, so nothing is stored and a repeat is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

import flexibility


@shared_task(name="apps.markets.lp_tasks.solve_lp_blocks", acks_late=True)
def solve_lp_blocks(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Solve ``BlockSpec.to_json()`` dicts in order, sharing one warm-start cache; ``BlockResult.to_json()`` each."""
    bases: dict = {}
    return [flexibility.solve_block(flexibility.BlockSpec.from_json(s), bases=bases).to_json() for s in specs]
