from django.apps import AppConfig


class SimulationConfig(AppConfig):
    """Simulated sites (site agent, OpenADR VEN), the market simulator, the benchmark webhook sink and the fault
    hooks. Used by replay, tests and benchmarks; no product app imports it (tests/test_architecture.py)."""

    name = "apps.simulation"
    verbose_name = "Simulation"

    def ready(self) -> None:
        from apps.dispatch import checkpoints

        from . import faults

        # The fault hooks pause a worker at a named dispatch checkpoint when VPP_FAULT_PAUSE_AT asks for it
        # (see apps.simulation.faults); unset, each checkpoint costs one environment lookup, as before.
        checkpoints.checkpoint_hook_register(faults.checkpoint)
