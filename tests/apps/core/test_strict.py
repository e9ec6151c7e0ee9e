"""The strict-input mechanism on its own: unknown fields (nested too), naive date-times, bodiless commands, bulk
row keys, the strict JSON parser and its problem body, and unknown /api/ paths with DEBUG on and off."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from apps.core.api.exceptions import exception_handler, flatten_errors
from apps.core.api.parsers import MalformedBody, StrictJSONParser
from apps.core.api.strict import (
    MAX_ROW_ERRORS,
    EmptyInputSerializer,
    StrictDateTimeField,
    StrictSerializer,
    refuse_unknown_row_fields,
)


class RowInput(StrictSerializer):
    start = serializers.DateTimeField()
    kw = serializers.FloatField()


class BatchInput(StrictSerializer):
    name = serializers.CharField()
    note = serializers.CharField(read_only=True)
    starts = serializers.ListField(child=serializers.DateTimeField(), required=False)
    rows = RowInput(many=True)


def errors_of(serializer: serializers.Serializer) -> dict[str | None, str]:
    assert not serializer.is_valid()
    return {e["field"]: str(e["reason"]) for e in flatten_errors(serializer.errors)}


GOOD_ROW = {"start": "2022-09-01T00:15:00Z", "kw": 1.5}


def test_valid_input_passes_and_keeps_aware_times() -> None:
    s = BatchInput(data={"name": "a", "rows": [GOOD_ROW, {"start": "2022-09-01T02:30:00+02:00", "kw": 2}]})
    assert s.is_valid(), s.errors
    starts = [r["start"] for r in s.validated_data["rows"]]
    assert starts == [datetime(2022, 9, 1, 0, 15, tzinfo=UTC), datetime(2022, 9, 1, 0, 30, tzinfo=UTC)]


def test_unknown_fields_are_named_with_the_fields_own_errors() -> None:
    errors = errors_of(BatchInput(data={"name": "a", "nmae": "b", "rows": [], "kw": 3, "extra": None}))
    assert set(errors) == {"nmae", "kw", "extra"}
    assert errors["nmae"] == "unknown field; accepted: name, rows, starts."
    # and a field's own error is reported in the same 400
    errors = errors_of(BatchInput(data={"nmae": "b", "rows": []}))
    assert set(errors) == {"nmae", "name"}


def test_read_only_fields_are_refused_with_their_own_reason() -> None:
    errors = errors_of(BatchInput(data={"name": "a", "note": "sent back from a read", "rows": [GOOD_ROW]}))
    assert errors == {"note": "read-only field; it cannot be set; accepted: name, rows, starts."}


def test_nested_rows_are_strict_row_by_row() -> None:
    errors = errors_of(BatchInput(data={"name": "a", "rows": [GOOD_ROW, {**GOOD_ROW, "bogus": 1}]}))
    assert errors == {"rows[1].bogus": "unknown field; accepted: kw, start."}


@pytest.mark.parametrize("naive", ["2022-09-01T00:15:00", "2022-09-01 00:15", "2022-09-01"])
def test_naive_date_times_are_refused(naive: str) -> None:
    errors = errors_of(BatchInput(data={"name": "a", "rows": [{"start": naive, "kw": 1}]}))
    assert list(errors) == ["rows[0].start"]
    assert "has no time zone" in errors["rows[0].start"] and naive in errors["rows[0].start"]


def test_naive_inside_a_list_field_and_as_a_datetime_object() -> None:
    errors = errors_of(
        BatchInput(data={"name": "a", "rows": [], "starts": ["2022-09-01T00:00:00Z", "2022-09-01T01:00"]})
    )
    assert list(errors) == ["starts[1]"]  # flatten_errors names the list item
    field = StrictDateTimeField()
    with pytest.raises(serializers.ValidationError, match="no time zone"):
        field.to_internal_value(datetime(2022, 9, 1))
    assert field.to_internal_value(datetime(2022, 9, 1, tzinfo=UTC)) == datetime(2022, 9, 1, tzinfo=UTC)


def test_garbage_time_keeps_drfs_own_message() -> None:
    errors = errors_of(BatchInput(data={"name": "a", "rows": [{"start": "soon", "kw": 1}]}))
    assert "Datetime has wrong format" in errors["rows[0].start"]


def test_model_serializer_times_are_strict_too() -> None:
    from apps.core.api.strict import StrictModelSerializer
    from apps.markets.models import Event

    class EventInput(StrictModelSerializer):
        class Meta:
            model = Event
            fields = ["start"]

    assert isinstance(EventInput().fields["start"], StrictDateTimeField)
    assert "has no time zone" in errors_of(EventInput(data={"start": "2022-09-01T00:00"}))["start"]


def test_empty_input_takes_no_field() -> None:
    assert EmptyInputSerializer(data={}).is_valid()
    errors = errors_of(EmptyInputSerializer(data={"bogus_field": 1}))
    assert errors == {"bogus_field": "unknown field; accepted: none (this request takes no body)."}


def test_bulk_rows_unknown_keys_are_named_and_capped() -> None:
    refuse_unknown_row_fields([GOOD_ROW] * 3, RowInput)  # nothing unknown: no error
    refuse_unknown_row_fields("not a list", RowInput)  # other shapes are left to the batch's validation
    with pytest.raises(serializers.ValidationError) as caught:
        refuse_unknown_row_fields([GOOD_ROW, {**GOOD_ROW, "bogus": 1, "x": 2}, "junk"], RowInput)
    assert {e["field"] for e in flatten_errors(caught.value.detail)} == {"rows[1].bogus", "rows[1].x"}
    rows = [{**GOOD_ROW, "bogus": i} for i in range(MAX_ROW_ERRORS + 50)]
    with pytest.raises(serializers.ValidationError) as caught:
        refuse_unknown_row_fields(rows, RowInput)
    errors = flatten_errors(caught.value.detail)
    assert len(errors) == MAX_ROW_ERRORS + 1
    assert errors[-1] == {
        "field": "rows",
        "reason": f"{MAX_ROW_ERRORS + 50} unknown fields in all; the first 100 are listed.",
    }


def parse(raw: bytes) -> object:
    return StrictJSONParser().parse(io.BytesIO(raw), "application/json", {"encoding": "utf-8"})


def test_parser_reads_json_and_refuses_malformed_repeated_and_non_finite() -> None:
    assert parse(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    with pytest.raises(MalformedBody, match="line 2 column 8"):
        parse(b'{"a": 1,\n  "b": }')
    with pytest.raises(MalformedBody, match="'a' appears twice"):
        parse(b'{"a": 1, "b": {"a": 1}, "a": 2}')
    with pytest.raises(MalformedBody, match="'NaN' is not a JSON number"):
        parse(b'{"a": NaN}')
    with pytest.raises(MalformedBody, match="not valid utf-8"):
        parse(b'{"a": "\xff"}')


def test_malformed_body_is_a_problem_naming_the_body() -> None:
    response = exception_handler(MalformedBody("malformed JSON: Expecting value at line 1 column 6."), {})
    assert response is not None and response.status_code == 400
    assert response.data["errors"] == [
        {"field": "body", "reason": ErrorDetail("malformed JSON: Expecting value at line 1 column 6.")}
    ]
    assert response.data["type"] == "urn:vpp:problem:malformed_body"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v2/sites/", "/api/", "/api/v1/sites/1/nope"]
)
def test_unknown_api_paths_are_json_problems(db, client, settings, debug: bool, path: str) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = debug
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"] == [{"field": None, "reason": "No API endpoint at this path."}]


@pytest.mark.parametrize("debug", [False, True])
def test_a_route_without_its_slash_redirects_reads_and_names_the_route_for_writes(
    db, client, settings, debug: bool
) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = debug
    read = client.get("/api/v1/sites?limit=1")
    assert read.status_code == 301 and read["Location"] == "/api/v1/sites/?limit=1"
    write = client.post("/api/v1/sites", {}, content_type="application/json")
    assert write.status_code == 404 and write["Content-Type"] == "application/problem+json"
    assert "did you mean /api/v1/sites/" in write.json()["detail"]


def test_other_unknown_paths_keep_djangos_page(db, client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "json" not in response["Content-Type"]


@pytest.mark.django_db
def test_the_published_schema_says_request_bodies_take_no_other_fields() -> None:
    """StrictSerializerExtension: strict request bodies are ``additionalProperties: false`` (nested rows too);
    responses and the lenient token request are not."""
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for name in (
        "SiteRequest",
        "PatchedSiteRequest",
        "EventAnnounceInputRequest",
        "AwardIntervalInputRequest",
    ):
        assert schemas[name]["additionalProperties"] is False, name
    assert (
        "enrolment_status" not in schemas["SiteRequest"]["properties"]
    )  # read-only: refused, not documented
    assert "additionalProperties" not in schemas["Site"]
    assert "additionalProperties" not in schemas.get("TokenRequestRequest", schemas.get("TokenRequest", {}))
