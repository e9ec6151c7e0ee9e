"""ISO 8601 durations of a fixed length (``PT5M``, ``PT15M``, ``PT1H``, ``P1D``) ↔ seconds.

Only day/hour/minute/second parts are accepted: months and years have no fixed length, so they cannot be a
series resolution. A resolution must divide a day, so that intervals align to midnight UTC.
"""

from __future__ import annotations

import re

_DURATION_RE = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")
DAY_S = 86_400


def duration_seconds(text: str) -> int:
    """Seconds of an ISO 8601 duration such as ``PT15M`` (900) or ``PT1H`` (3600).

    Raises:
        ValueError: not a day/time duration, zero, or containing years, months or weeks.
    """
    match = _DURATION_RE.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(
            f"'{text}' is not an ISO 8601 duration of days, hours, minutes or seconds (e.g. PT15M)."
        )
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    seconds = parts["d"] * DAY_S + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if seconds <= 0:
        raise ValueError(f"'{text}' is a zero duration.")
    return seconds


def duration_iso(seconds: int) -> str:
    """Canonical ISO 8601 form of a duration in seconds: 900 → ``PT15M``, 3600 → ``PT1H``, 86400 → ``P1D``."""
    if seconds <= 0:
        raise ValueError("a duration must be positive.")
    days, rest = divmod(int(seconds), DAY_S)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def resolution_seconds(text: str) -> int:
    """Seconds of a series resolution: a duration that divides one day (``PT7M`` does not, so it is refused).

    Raises:
        ValueError: not a fixed-length ISO 8601 duration, or it does not divide 24 h.
    """
    seconds = duration_seconds(text)
    if DAY_S % seconds:
        raise ValueError(
            f"resolution '{text}' must divide one day (e.g. PT1M, PT5M, PT15M, PT30M, PT1H, P1D)."
        )
    return seconds
