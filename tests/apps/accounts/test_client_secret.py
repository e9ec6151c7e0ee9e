"""Client secrets can be pasted after a command-line flag: none starts with ``-``."""

from __future__ import annotations

from apps.accounts.services import new_client_secret


def test_no_secret_starts_with_a_dash() -> None:
    secrets = [
        new_client_secret() for _ in range(5000)
    ]  # token_urlsafe alone starts with "-" ~78 times in 5000
    assert not [s for s in secrets if s.startswith("-")]
    assert len(set(secrets)) == len(secrets)
    assert all(len(s) == 43 for s in secrets)
