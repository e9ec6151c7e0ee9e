"""The ``lp`` queue's task: solve a chunk of portfolio LP blocks (:mod:`apps.markets.fanout`).

It takes the blocks by value rather than ids: a block is a pure computation over its own sub-problem (no
database row to load), and the caller waits for the answer, so nothing is stored and a repeat is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

import flexibility
from flexibility.codec import decode_specs


@shared_task(name="apps.markets.lp_tasks.solve_lp_blocks", acks_late=True)
def solve_lp_blocks(specs: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Solve a chunk of blocks in order, sharing one warm-start cache; ``BlockResult.to_json()`` each.

    ``specs`` is :func:`flexibility.codec.encode_specs` output, or (messages of an earlier release still in the
    queue) a list of ``BlockSpec.to_json()`` dicts. Raises FlexibilityInputError for anything else."""
    if isinstance(specs, str):
        decoded = decode_specs(specs)
    else:
        decoded = [flexibility.BlockSpec.from_json(s) for s in specs]
    bases: dict = {}
    return [flexibility.solve_block(s, bases=bases).to_json() for s in decoded]
