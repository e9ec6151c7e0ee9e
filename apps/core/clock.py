"""The product's clock: every "now" goes through :func:`now`, so that a replay can run simulated time.

In normal operation ``now()`` is the wall clock (UTC). In replay mode a single database row anchors simulated
time: ``sim_now = sim_anchor + (wall_now − wall_anchor) × speed``, so the web process, every Celery worker and
beat agree on the simulated time without talking to each other. Reads are cached per process for
``CACHE_SECONDS`` wall-clock seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class ClockState:
    """Anchor of simulated time: at wall time ``wall_anchor`` it was ``sim_anchor``; it runs ``speed`` × faster."""

    sim_anchor: datetime
    wall_anchor: datetime
    speed: float

    def at(self, wall: datetime) -> datetime:
        return self.sim_anchor + (wall - self.wall_anchor) * self.speed


_cache: tuple[float, ClockState | None] = (-1e9, None)


def _state() -> ClockState | None:
    global _cache
    checked, state = _cache
    if time.monotonic() - checked < CACHE_SECONDS:
        return state
    from .models import ReplayClock

    row = ReplayClock.objects.filter(pk=1, enabled=True).first()
    state = ClockState(row.sim_anchor, row.wall_anchor, row.speed) if row else None
    _cache = (time.monotonic(), state)
    return state


def now() -> datetime:
    """The current time (aware, UTC): wall clock, or simulated time while a replay runs."""
    wall = timezone.now()
    state = _state()
    return state.at(wall) if state else wall


def replay_start(*, sim_start: datetime, speed: float) -> ClockState:
    """Switch every process to simulated time starting at ``sim_start`` and running ``speed`` × real time
    (``speed=0`` freezes time until the next :func:`replay_jump`).

    Raises:
        ValueError: ``sim_start`` is naive or ``speed`` is negative.
    """
    if timezone.is_naive(sim_start):
        raise ValueError("sim_start must be timezone-aware")
    if speed < 0:
        raise ValueError("speed must be ≥ 0")
    from .models import ReplayClock

    wall = timezone.now()
    ReplayClock.objects.update_or_create(
        pk=1, defaults={"enabled": True, "sim_anchor": sim_start, "wall_anchor": wall, "speed": speed}
    )
    _reset_cache()
    return ClockState(sim_start, wall, speed)


def replay_jump(*, to: datetime) -> None:
    """Move simulated time to ``to`` (forward jumps skip idle time in a replay)."""
    from .models import ReplayClock

    ReplayClock.objects.filter(pk=1).update(sim_anchor=to, wall_anchor=timezone.now())
    _reset_cache()


def replay_running() -> bool:
    """True while a replay clock is in force."""
    return _state() is not None


def replay_stop() -> None:
    """Return every process to the wall clock."""
    from .models import ReplayClock

    ReplayClock.objects.filter(pk=1).update(enabled=False)
    _reset_cache()


def _reset_cache() -> None:
    global _cache
    _cache = (-1e9, None)


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``step`` since the Unix epoch (UTC)."""
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % step
