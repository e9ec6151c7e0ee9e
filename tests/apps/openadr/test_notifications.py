"""The pure core of the notifiers (apps/openadr/notifications.py): who is told, and what they see."""

from __future__ import annotations

from apps.openadr.notifications import (
    Change,
    Reader,
    Subscriber,
    VenReader,
    deliveries,
    mqtt_messages,
    operation_topics,
    readable,
)

BL = Reader(client_id="bl-1", granted=None)
VEN_A = Reader(client_id="ven-a", granted=frozenset({"site-1", "zone-X"}))
VEN_B = Reader(client_id="ven-b", granted=frozenset({"site-2", "zone-Y"}))


def event(
    targets: list[str] | None, *, program_targets: tuple[str, ...] | None = None, op: str = "CREATE"
) -> Change:
    body = {"id": "5", "objectType": "EVENT", "programID": "7", "intervals": []}
    if targets is not None:
        body["targets"] = targets
    return Change("EVENT", op, "5", body, program_ref="7", program_targets=program_targets)


def subscriber(
    reader: Reader, *, objects=("EVENT",), operations=("CREATE",), url="https://a/cb", **kw
) -> Subscriber:  # type: ignore[no-untyped-def]
    ops = (
        {"objects": list(objects), "operations": list(operations), "callbackUrl": url, "bearerToken": "tok"},
    )
    return Subscriber(
        subscription_ref=reader.client_id,
        reader=reader,
        program_ref=kw.get("program_ref"),
        object_operations=ops,
        targets=kw.get("targets"),
    )


def test_a_targeted_event_reaches_only_the_vens_it_targets_and_business_logic() -> None:
    change = event(["site-1", "site-2"])
    found = deliveries(change, [subscriber(BL), subscriber(VEN_A), subscriber(VEN_B)])
    by_client = {d.client_id: d for d in found}
    assert set(by_client) == {"bl-1", "ven-a", "ven-b"}
    # each VEN sees only its own target (Object Privacy: target hiding); business logic sees all
    assert by_client["ven-a"].body["object"]["targets"] == ["site-1"]
    assert by_client["ven-a"].body["targets"] == ["site-1"]
    assert by_client["ven-b"].body["object"]["targets"] == ["site-2"]
    assert by_client["bl-1"].body["targets"] == ["site-1", "site-2"]
    assert by_client["ven-a"].bearer_token == "tok"
    assert (
        by_client["ven-a"].body["objectType"] == "EVENT" and by_client["ven-a"].body["operation"] == "CREATE"
    )
    only_a = deliveries(event(["site-1"]), [subscriber(VEN_A), subscriber(VEN_B)])
    assert [d.client_id for d in only_a] == ["ven-a"]


def test_an_event_of_a_program_the_ven_cannot_read_is_not_sent() -> None:
    change = event(None, program_targets=("site-2",))
    assert not readable(change, VEN_A) and readable(change, VEN_B) and readable(change, BL)
    assert [d.client_id for d in deliveries(change, [subscriber(VEN_A), subscriber(VEN_B)])] == ["ven-b"]


def test_object_types_operations_program_and_targets_filter() -> None:
    change = event(["zone-X"], op="UPDATE")
    assert deliveries(change, [subscriber(VEN_A)]) == []  # subscribed to CREATE only
    assert deliveries(change, [subscriber(VEN_A, objects=("PROGRAM",), operations=("UPDATE",))]) == []
    assert len(deliveries(change, [subscriber(VEN_A, operations=("UPDATE",))])) == 1
    assert deliveries(change, [subscriber(BL, operations=("UPDATE",), program_ref="8")]) == []
    assert len(deliveries(change, [subscriber(BL, operations=("UPDATE",), program_ref="7")])) == 1
    assert deliveries(change, [subscriber(BL, operations=("UPDATE",), targets=("site-9",))]) == []
    assert len(deliveries(change, [subscriber(BL, operations=("UPDATE",), targets=("zone-X",))])) == 1
    # a VEN's target filter cannot widen what it was granted
    assert deliveries(event(["site-2"]), [subscriber(VEN_A, targets=("site-2",))]) == []


def test_owned_objects_reach_only_their_owner() -> None:
    report = Change("REPORT", "CREATE", "3", {"id": "3", "clientID": "ven-a"}, owner_client_id="ven-a")
    subs = [subscriber(r, objects=("REPORT",)) for r in (BL, VEN_A, VEN_B)]
    assert sorted(d.client_id for d in deliveries(report, subs)) == ["bl-1", "ven-a"]


def test_one_callback_named_twice_is_sent_once() -> None:
    ops = (
        {"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": "https://a/cb"},
        {"objects": ["EVENT", "PROGRAM"], "operations": ["CREATE", "UPDATE"], "callbackUrl": "https://a/cb"},
        {"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": "https://a/other"},
    )
    sub = Subscriber("1", BL, None, ops, None)
    assert sorted(d.callback_url for d in deliveries(event(None), [sub])) == [
        "https://a/cb",
        "https://a/other",
    ]


def test_mqtt_topics_and_per_ven_views() -> None:
    change = event(["site-1"])
    vens = [VenReader("11", VEN_A), VenReader("12", VEN_B)]
    messages = dict(mqtt_messages(change, vens, prefix="t/"))
    assert set(messages) == {"t/events/create", "t/programs/7/events/create", "t/vens/11/events/create"}
    assert messages["t/vens/11/events/create"]["object"]["targets"] == ["site-1"]
    assert operation_topics("programs/7", with_create=False) == {
        "UPDATE": "programs/7/update",
        "DELETE": "programs/7/delete",
        "ALL": "programs/7/+",
    }
    assert operation_topics("events")["CREATE"] == "events/create"
