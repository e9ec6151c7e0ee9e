"""Filters of the dispatch list endpoints narrow the caller's list; they never widen it past the caller's scope."""

from __future__ import annotations

from datetime import timedelta

from rest_framework.test import APIClient

from apps.dispatch import services
from apps.dispatch.choices import DeliveryStatus, PlanKind
from apps.dispatch.models import Delivery, DispatchPlan
from tests.factories import SiteFactory


def _ids(client: APIClient, url: str, **params: object) -> set[int]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_delivery_filters_narrow_and_keep_the_owner_scope(world, api_as, activation, sites) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    a, b = (Delivery.objects.get(plan=plan, site=site) for site in sites)
    Delivery.objects.filter(pk=b.pk).update(status=DeliveryStatus.ACKNOWLEDGED)
    url = "/api/v1/dispatch/deliveries/"
    staff, owner_a, owner_b = api_as("staff"), api_as("owner_a"), api_as("owner_b")
    assert _ids(staff, url) == {a.pk, b.pk}
    assert _ids(staff, url, site=sites[0].pk) == {a.pk}
    assert _ids(staff, url, status=DeliveryStatus.ACKNOWLEDGED) == {b.pk}
    assert _ids(staff, url, plan=plan.pk, activation=activation.pk) == {a.pk, b.pk}
    assert _ids(staff, url, activation=activation.pk + 1000) == set()
    assert _ids(owner_a, url, site=sites[1].pk) == {b.pk}
    # another owner filtering by owner A's site or plan still sees nothing of A's
    SiteFactory(owner=world.owner_b)
    assert _ids(owner_b, url) == set()
    assert _ids(owner_b, url, plan=plan.pk) == set()
    assert _ids(owner_b, url, site=sites[0].pk) == set()


def test_plan_filters_narrow_by_kind_activation_and_time(api_as, activation) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    url = "/api/v1/dispatch/plans/"
    staff = api_as("staff")
    assert _ids(staff, url, activation=activation.pk) == {plan.pk}
    assert _ids(staff, url, kind=PlanKind.ACTIVATION) == {plan.pk}
    assert _ids(staff, url, kind=PlanKind.SCHEDULE) == set()
    start = plan.valid_from
    assert _ids(staff, url, valid_from_after=start.isoformat()) == {plan.pk}
    assert _ids(staff, url, valid_from_before=start.isoformat()) == set()  # half-open: [after, before)
    assert _ids(staff, url, valid_from_before=(start + timedelta(minutes=1)).isoformat()) == {plan.pk}
    assert DispatchPlan.objects.count() == 1
    # the site owner sees no plans, filtered or not
    assert _ids(api_as("owner_a"), url, activation=activation.pk) == set()


def test_a_malformed_filter_is_a_400_naming_it(api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("staff").get("/api/v1/dispatch/plans/", {"valid_from_after": "soon"})
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["valid_from_after"]
