"""The binary block-spec codec: exact round trip, the same block optima, a clear error for bad input."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import flexibility
from flexibility.codec import decode_specs, encode_specs
from flexibility.synthetic import synthetic_problem


@pytest.fixture(scope="module")
def specs() -> list[flexibility.BlockSpec]:
    return flexibility.plan_blocks(flexibility.Problem.from_json(synthetic_problem(12, steps=24)))


def test_round_trip_is_exact(specs):
    back = decode_specs(encode_specs(specs))
    assert [s.to_json() for s in back] == [s.to_json() for s in specs]


def test_decoded_blocks_have_the_same_optimum(specs):
    back = decode_specs(encode_specs(specs[:2]))
    for a, b in zip(specs[:2], back, strict=True):
        ra, rb = flexibility.solve_block(a), flexibility.solve_block(b)
        assert ra.objective == rb.objective
        np.testing.assert_array_equal(ra.x, rb.x)


@pytest.mark.parametrize(
    "text", ["not base64!", base64.b64encode(b"\x05\x00\x00\x00\x00\x00\x00\x00{").decode()]
)
def test_bad_input_names_the_field(text):
    with pytest.raises(flexibility.FlexibilityInputError) as err:
        decode_specs(text)
    assert err.value.field == "specs"
