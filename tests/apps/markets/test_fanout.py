"""The portfolio LP across real ``lp`` Celery workers (Redis) gives the one-process optimum."""

from __future__ import annotations

import pytest

import flexibility
from apps.markets import fanout
from flexibility.synthetic import synthetic_problem
from tests.conftest import require_service
from tests.worker import celery_worker


def _problem(n_sites: int, *, commitment: bool = False) -> flexibility.Problem:
    d = synthetic_problem(n_sites, seed=7)
    if commitment:  # more than the blocks deliver on their own: the coupled repair must run
        d["commitments"] = [{"id": "ev", "sites": "all", "start_step": 60, "end_step": 76,
                             "reduction_kw": 900.0 * n_sites, "shortfall_penalty_per_mwh": 5000}]  # fmt: skip
    return flexibility.Problem.from_json(d)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("commitment", [False, True])
def test_fanout_objective_equals_the_one_process_solve(commitment):
    require_service("REDIS_URL")
    problem = _problem(24, commitment=commitment)
    direct = flexibility.solve(problem)
    with celery_worker(queues=fanout.LP_QUEUE):
        fanout._worker_seen.clear()
        spread = fanout.portfolio_solve(problem, min_sites=0, chunks=3)
    assert spread.timings["fanout_tasks"] == 3  # really went through the workers
    assert spread.objective == pytest.approx(direct.objective, rel=1e-9)
    assert spread.lp == direct.lp  # without commitments from the blocks' sizes (no whole matrix built)
    assert spread.timings["decode_seconds"] > 0  # every chunk decoded as it came in
    assert spread.cost == pytest.approx(direct.cost, rel=1e-9)
    if commitment:
        assert spread.commitments["ev"].shortfall_kwh == pytest.approx(
            direct.commitments["ev"].shortfall_kwh, rel=1e-6, abs=1e-3
        )


@pytest.mark.django_db
def test_without_an_lp_worker_it_solves_in_process(monkeypatch):
    monkeypatch.setattr(fanout, "lp_workers_available", lambda **_: False)
    problem = _problem(8)
    result = fanout.portfolio_solve(problem, min_sites=0)
    assert result.timings["fanout_tasks"] == 0
    assert result.objective == flexibility.solve(problem).objective


def test_a_small_portfolio_never_asks_for_workers(monkeypatch):
    def boom(**_):
        raise AssertionError("asked the broker for a small portfolio")

    monkeypatch.setattr(fanout, "lp_workers_available", boom)
    assert fanout.portfolio_solve(_problem(4), min_sites=100).timings["fanout_tasks"] == 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_only_a_worker_of_the_lp_queue_counts():
    require_service("REDIS_URL")
    with celery_worker(queues="default"):
        fanout._worker_seen.clear()
        assert not fanout.lp_workers_available()  # one reply, from a worker of other queues: all are asked
        with celery_worker(queues=fanout.LP_QUEUE):
            assert fanout.lp_workers_available()
    fanout._worker_seen.clear()
