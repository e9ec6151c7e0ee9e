"""The problem-details error format: nested DRF errors flattened to field paths."""

from apps.core.api.exceptions import flatten_errors


def test_flatten_nested_batch_errors() -> None:
    detail = {
        "rows": [{}, {"start": ["No offset."]}, {}],
        "non_field_errors": ["Empty batch."],
        "pue": ["Low."],
    }
    assert flatten_errors(detail) == [
        {"field": "rows[1].start", "reason": "No offset."},
        {"field": None, "reason": "Empty batch."},
        {"field": "pue", "reason": "Low."},
    ]


def test_flatten_top_level_list() -> None:
    assert flatten_errors(["bad"]) == [{"field": None, "reason": "bad"}]
    assert flatten_errors([{"value": ["NaN."]}]) == [{"field": "[0].value", "reason": "NaN."}]


def test_flatten_drf_list_item_errors_keyed_by_index() -> None:
    """DRF reports the items of a ListField (and of ``many=True`` in recent versions) as ``{index: errors}``."""
    assert flatten_errors({"profile": {3: ["Too low."]}, "rows": {0: {"start": ["Naive."]}}}) == [
        {"field": "profile[3]", "reason": "Too low."},
        {"field": "rows[0].start", "reason": "Naive."},
    ]
