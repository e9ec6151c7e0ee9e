"""Named checkpoints in the dispatch path: the hook point for fault injection, so dispatch imports no test code.

The services call :func:`checkpoint` at the points where a worker dying matters for exactly-once delivery:

- :data:`PLAN_STORED_UNCOMMITTED`: the plan, its setpoints and deliveries are written but not committed;
- :data:`DELIVERY_BATCH_SENT`: one batch of webhooks was sent and its delivered statuses committed; the next
  batch is not sent yet.

A hook is a callable taking the checkpoint's name; hooks run in the order registered, in the calling thread.
Nothing is registered by dispatch itself: ``apps.simulation`` registers its fault hooks
(:func:`apps.simulation.faults.checkpoint`) when the app is ready. Without hooks a checkpoint is a loop over an
empty tuple. A hook may block (that is how a test holds a worker to kill it) but should not raise: an exception
propagates into the service, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable

PLAN_STORED_UNCOMMITTED = "plan_stored_uncommitted"
DELIVERY_BATCH_SENT = "delivery_batch_sent"

CheckpointHook = Callable[[str], None]

_hooks: tuple[CheckpointHook, ...] = ()


def checkpoint_hook_register(hook: CheckpointHook) -> None:
    """Call ``hook(name)`` at every checkpoint from now on (registering the same hook twice is a no-op)."""
    global _hooks
    if hook not in _hooks:
        _hooks = (*_hooks, hook)


def checkpoint_hook_unregister(hook: CheckpointHook) -> None:
    """Stop calling ``hook`` (unknown hooks are ignored)."""
    global _hooks
    _hooks = tuple(h for h in _hooks if h != hook)


def checkpoint(name: str) -> None:
    """Run the registered hooks for the checkpoint ``name`` (one of the module's constants)."""
    for hook in _hooks:
        hook(name)
