"""Selectors of site state: the latest at a time, many sites in a bounded number of queries, and the SLA
figures from hand-made reports (late entry, on-time entry, entry still waiting at the end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.telemetry.selectors import site_state_latest, site_state_latest_many, sla_outcomes
from apps.telemetry.services import site_state_report
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory

T0 = datetime(2022, 9, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _site() -> Any:
    site = SiteFactory()
    BatteryFactory(site=site, name="ups")
    WorkloadClassFactory(site=site, name="training", max_delay_h=2.0)
    return site


def _report(
    site: Any, at: datetime, queue: list[tuple[str, float, datetime, datetime]], load: float = 1.0
) -> None:
    site_state_report(
        principal=None,
        site=site,
        data={
            "reported_at": at,
            "it_load_kw": load,
            "batteries": [{"battery": site.batteries.get().pk, "soc_kwh": 500.0}],
            "queue": [
                {
                    "workload_class": "training",
                    "job_id": job,
                    "energy_kwh": kwh,
                    "arrived_at": a,
                    "deadline": d,
                }
                for job, kwh, a, d in queue
            ],
        },
        source="agent",
    )


@pytest.mark.django_db
def test_latest_at_a_time() -> None:
    site = _site()
    _report(site, T0, [("a", 10.0, T0, T0 + 2 * H)], load=100.0)
    _report(site, T0 + H, [], load=200.0)
    assert site_state_latest(site=site, at=T0 - H) is None
    early = site_state_latest(site=site, at=T0 + H / 2)
    assert early is not None and early.it_load_kw == 100.0
    assert [(q.job_id, q.energy_kwh, q.workload_name) for q in early.queue] == [("a", 10.0, "training")]
    assert early.battery_soc_kwh == {site.batteries.get().pk: 500.0}
    late = site_state_latest(site=site, at=T0 + H)
    assert late is not None and late.it_load_kw == 200.0 and late.queue == ()


@pytest.mark.django_db
def test_many_sites_in_a_bounded_number_of_queries(django_assert_max_num_queries: Any) -> None:
    sites = [_site() for _ in range(6)]
    for i, site in enumerate(sites[:5]):
        for k in range(3):
            _report(site, T0 + k * H, [("j", float(i), T0, T0 + 5 * H)], load=i * 10.0 + k)
    with django_assert_max_num_queries(5):
        states = site_state_latest_many(sites=sites, at=T0 + H)
    assert sorted(states) == sorted(s.pk for s in sites[:5])
    for i, site in enumerate(sites[:5]):
        assert states[site.pk].it_load_kw == i * 10.0 + 1
        assert states[site.pk].queue[0].energy_kwh == float(i)
    assert site_state_latest_many(sites=[], at=T0) == {}


@pytest.mark.django_db
def test_sla_outcomes_late_on_time_and_still_waiting() -> None:
    site = _site()
    # "on-time" is due at T0+2h and gone by then; "late" is due at T0+1h and still there at T0+1h (8 kWh) and
    # T0+2h (3 kWh), gone at T0+3h; "waiting" is due at T0+2h and still there in the last report (T0+3h)
    on_time = ("on-time", 5.0, T0, T0 + 2 * H)
    _report(site, T0, [on_time, ("late", 10.0, T0 - H, T0 + H), ("waiting", 6.0, T0, T0 + 2 * H)])
    _report(site, T0 + H, [on_time, ("late", 8.0, T0 - H, T0 + H), ("waiting", 6.0, T0, T0 + 2 * H)])
    _report(site, T0 + 2 * H, [("late", 3.0, T0 - H, T0 + H), ("waiting", 4.0, T0, T0 + 2 * H)])
    _report(site, T0 + 3 * H, [("waiting", 4.0, T0, T0 + 2 * H)])
    end = T0 + 4 * H
    outcome = sla_outcomes(sites=[site], start=T0, end=end)
    assert outcome.late_jobs == 2
    assert outcome.late_kwh == pytest.approx(8.0 + 4.0)  # each at its first report at or after its deadline
    # "late": last seen at T0+2h, 1 h after its deadline; "waiting": still there at the end, 2 h past
    assert outcome.max_lateness_h == pytest.approx(2.0)
    assert outcome.waiting_past_deadline_kwh == pytest.approx(4.0)
    assert outcome.per_site[site.pk].late_jobs == 2
    # a window that ends before any deadline passed has nothing late
    early = sla_outcomes(sites=[site], start=T0, end=T0 + H / 2)
    assert (early.late_jobs, early.late_kwh, early.waiting_past_deadline_kwh) == (0, 0.0, 0.0)
    # the next window does not count again what was due in this one
    after = sla_outcomes(sites=[site], start=end, end=end + H)
    assert after.late_jobs == 0


@pytest.mark.django_db
def test_sla_outcomes_keys_entries_without_job_id_by_class_and_times() -> None:
    site = _site()
    _report(site, T0 + H, [("", 2.0, T0, T0 + H), ("", 1.0, T0 - H, T0 + H)])
    _report(site, T0 + 2 * H, [("", 1.5, T0, T0 + H)])
    outcome = sla_outcomes(sites=[site], start=T0, end=T0 + 3 * H)
    assert outcome.late_jobs == 2
    assert outcome.late_kwh == pytest.approx(3.0)
    assert outcome.max_lateness_h == pytest.approx(2.0)  # still in the last report: end − deadline


def test_sla_outcomes_needs_a_window() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        sla_outcomes(sites=[], start=T0, end=T0)
