"""The dispatch checkpoint hook point: hooks registered (once) run at each checkpoint, in order."""

from __future__ import annotations

from apps.dispatch import checkpoints


def test_registered_hooks_run_at_checkpoints_until_unregistered() -> None:
    seen: list[tuple[str, str]] = []

    def first(name: str) -> None:
        seen.append(("first", name))

    def second(name: str) -> None:
        seen.append(("second", name))

    checkpoints.checkpoint_hook_register(first)
    checkpoints.checkpoint_hook_register(second)
    checkpoints.checkpoint_hook_register(first)  # a second registration is a no-op
    try:
        checkpoints.checkpoint(checkpoints.PLAN_STORED_UNCOMMITTED)
    finally:
        checkpoints.checkpoint_hook_unregister(first)
        checkpoints.checkpoint_hook_unregister(second)
    checkpoints.checkpoint(checkpoints.DELIVERY_BATCH_SENT)
    assert seen == [("first", "plan_stored_uncommitted"), ("second", "plan_stored_uncommitted")]


def test_simulation_registers_its_fault_hooks() -> None:
    """The installed simulation app fills the hook point, so the worker-kill tests reach their checkpoints."""
    from apps.simulation import faults

    assert faults.checkpoint in checkpoints._hooks
