"""The audit log of staff actions: enrolment decisions, bid overrides in the admin, (re-)settlements — written
in the action's transaction, readable by aggregator staff only (API and read-only admin)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from django.test import Client

from apps.accounts.audit import audit_record
from apps.accounts.models import AuditAction, AuditEntry
from apps.assets.choices import EnrolmentStatus
from apps.core import clock
from apps.markets import services as market_services
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Event
from apps.markets.rules import IntervalOffer
from tests.apps.settlement import conftest as settlement_fixtures
from tests.conftest import World
from tests.factories import SiteFactory, UserFactory, WorkloadClassFactory, zone

scenario = settlement_fixtures.scenario  # the settled-event scenario of the settlement tests


def test_approve_and_reject_are_audited_with_actor_and_reason(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    approved = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    rejected = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    staff = api_as("staff")
    assert staff.post(f"/api/v1/sites/{approved.pk}/approve/", {}).status_code == 200
    assert staff.post(f"/api/v1/sites/{rejected.pk}/reject/", {"reason": "no meter"}).status_code == 200
    entries = {e.object_id: e for e in AuditEntry.objects.all()}
    assert set(entries) == {str(approved.pk), str(rejected.pk)}
    assert entries[str(approved.pk)].action == AuditAction.SITE_APPROVE
    assert entries[str(approved.pk)].details["to_status"] == EnrolmentStatus.APPROVED
    assert entries[str(rejected.pk)].action == AuditAction.SITE_REJECT
    assert entries[str(rejected.pk)].reason == "no meter"
    assert entries[str(rejected.pk)].actor == "user:staff"
    assert entries[str(rejected.pk)].organisation == world.aggregator


def test_refused_or_owner_actions_leave_no_entry(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    draft = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.DRAFT)
    WorkloadClassFactory(site=draft)
    assert api_as("staff").post(f"/api/v1/sites/{draft.pk}/approve/", {}).status_code == 409
    assert api_as("owner_a").post(f"/api/v1/sites/{draft.pk}/submit/", {}).status_code == 200
    assert (
        AuditEntry.objects.count() == 0
    )  # a refused approval and an owner's own submit are not staff actions


def _draft_bid(world: World):  # type: ignore[no-untyped-def]
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    start = clock.floor_to(clock.now() + timedelta(hours=4), timedelta(minutes=15))
    event = Event.objects.create(
        program=program,
        start=start,
        end=start + timedelta(hours=1),
        requested_kw=1000,
        gate_closure_at=start - timedelta(hours=1),
        announced_at=clock.now(),
    )
    step = timedelta(minutes=15)
    offers = [IntervalOffer(start + i * step, start + (i + 1) * step, 500, 100) for i in range(4)]
    return market_services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers)


def test_bid_override_in_the_admin_is_audited(world: World) -> None:
    bid = _draft_bid(world)
    admin_user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    intervals = list(bid.intervals.order_by("start"))
    form = {
        "event": bid.event_id,
        "bidder": bid.bidder_id,
        "method": bid.method,
        "intervals-TOTAL_FORMS": len(intervals),
        "intervals-INITIAL_FORMS": len(intervals),
        "intervals-MIN_NUM_FORMS": 0,
        "intervals-MAX_NUM_FORMS": 1000,
    }
    for i, interval in enumerate(intervals):
        form |= {
            f"intervals-{i}-id": interval.pk,
            f"intervals-{i}-bid": bid.pk,
            f"intervals-{i}-start_0": interval.start.strftime("%Y-%m-%d"),
            f"intervals-{i}-start_1": interval.start.strftime("%H:%M:%S"),
            f"intervals-{i}-end_0": interval.end.strftime("%Y-%m-%d"),
            f"intervals-{i}-end_1": interval.end.strftime("%H:%M:%S"),
            f"intervals-{i}-quantity_kw": 300 if i == 0 else interval.quantity_kw,
            f"intervals-{i}-price_per_mwh": interval.price_per_mwh,
        }
    response = client.post(f"/admin/markets/bid/{bid.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.BID_OVERRIDE and entry.object_id == str(bid.pk)
    assert entry.actor == "user:ops" and entry.details["changed"] == 1
    assert sorted(i["quantity_kw"] for i in entry.details["intervals"]) == [300.0, 500.0, 500.0, 500.0]
    bid.refresh_from_db()
    assert bid.overridden_by == "ops"


def test_audit_api_lists_for_staff_and_filters_by_action(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_b)
    audit_record(actor=world.users["staff"], action=AuditAction.SITE_APPROVE, target=site)
    audit_record(actor=world.users["staff"], action=AuditAction.SITE_SUSPEND, target=site, reason="audit")
    body = api_as("staff").get("/api/v1/audit/?action=site_suspend").json()
    assert [e["action"] for e in body["results"]] == ["site_suspend"]
    assert body["results"][0]["object_type"] == "assets.site" and body["results"][0]["reason"] == "audit"
    assert api_as("owner_b").get("/api/v1/audit/").status_code == 403


def test_audit_admin_is_read_only(world: World) -> None:
    site = SiteFactory(owner=world.owner_a)
    entry = audit_record(actor=world.users["staff"], action=AuditAction.SITE_APPROVE, target=site)
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get("/admin/accounts/auditentry/").status_code == 200
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_record_refuses_unknown_actions(world: World) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=world.users["staff"], action="site_delete", object_type="x", object_id=1)


def test_staff_settle_and_resettle_are_audited(api_as, scenario) -> None:  # type: ignore[no-untyped-def]
    from tests.apps.settlement.conftest import QUARTERS, meter

    staff = api_as("staff")
    url = "/api/v1/settlement/runs/settle/"
    assert staff.post(url, {"event": scenario.event.pk}).status_code == 201
    assert staff.post(url, {"event": scenario.event.pk}).status_code == 200  # unchanged inputs
    meter(scenario.site_a, pd.Series(650.0, index=QUARTERS))  # late meter data
    assert staff.post(url, {"event": scenario.event.pk}).status_code == 201
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.action for e in entries] == [
        AuditAction.SETTLEMENT_SETTLE,
        AuditAction.SETTLEMENT_RESETTLE,
        AuditAction.SETTLEMENT_RESETTLE,
    ]
    assert [(e.details["version"], e.details["created"]) for e in entries] == [
        (1, True),
        (1, False),
        (2, True),
    ]
    assert {e.object_id for e in entries} == {str(scenario.event.pk)} and entries[0].actor == "user:staff"


def test_scheduled_settlement_is_not_a_staff_action(scenario) -> None:  # type: ignore[no-untyped-def]
    from apps.settlement.services import event_settle

    event_settle(event_id=scenario.event.pk)
    assert AuditEntry.objects.count() == 0
