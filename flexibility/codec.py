"""An explicit binary codec for block specs in messages (e.g. Celery's JSON tasks): no pickle, exact floats.

A spec's JSON (:meth:`flexibility.blocks.BlockSpec.to_json`) is mostly series of floats, which JSON writes and
parses digit by digit (at 10,000 sites, 64 MB and about 10 s of CPU for encoding and decoding); the
raw float64 form is not smaller (8 bytes per value) but is written and read without parsing digits. Here every
list of floats becomes a reference into one float64 array, written as raw bytes; the small rest stays JSON::

    text = encode_specs(specs)      # str (base64), fits a JSON message
    specs = decode_specs(text)      # list[BlockSpec], validated by Problem.from_json as before

Layout of the decoded bytes: 8-byte little-endian length ``n`` of the UTF-8 JSON skeleton, the skeleton
(``{"offsets": [...], "specs": [...]}``, each float list replaced by ``{"__array__": k}``), then the float64
values of every array back to back (array ``k`` is ``values[offsets[k]:offsets[k + 1]]``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from flexibility.blocks import BlockSpec
from flexibility.errors import FlexibilityInputError

_KEY = "__array__"


def _is_series(value: list[Any]) -> bool:
    return bool(value) and all(type(v) is float for v in value)


def _pack(obj: Any, arrays: list[list[float]]) -> Any:
    """``obj`` with every non-empty list of floats replaced by a reference into ``arrays`` (appended to)."""
    if isinstance(obj, dict):
        return {k: _pack(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        if _is_series(obj):
            arrays.append(obj)
            return {_KEY: len(arrays) - 1}
        return [_pack(v, arrays) for v in obj]
    return obj


def _unpack(obj: Any, values: np.ndarray, offsets: Sequence[int]) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1 and _KEY in obj:
            k = int(obj[_KEY])
            return values[offsets[k] : offsets[k + 1]]
        return {k: _unpack(v, values, offsets) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unpack(v, values, offsets) for v in obj]
    return obj


def encode_specs(specs: Sequence[BlockSpec]) -> str:
    """``specs`` as one base64 string (module docstring); :func:`decode_specs` reads them back exactly."""
    arrays: list[list[float]] = []
    skeleton = [_pack(s.to_json(), arrays) for s in specs]
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in arrays], dtype=np.int64)]).tolist()
    head = json.dumps({"offsets": offsets, "specs": skeleton}, separators=(",", ":")).encode()
    flat = [v for a in arrays for v in a]
    body = np.array(flat, dtype="<f8").tobytes()
    return base64.b64encode(len(head).to_bytes(8, "little") + head + body).decode("ascii")


def decode_specs(text: str) -> list[BlockSpec]:
    """Read :func:`encode_specs` output.

    Raises:
        FlexibilityInputError: ``specs``: not this codec's output (truncated, wrong lengths), or a bad problem
            inside (as :meth:`BlockSpec.from_json`).
    """
    try:
        raw = base64.b64decode(text, validate=True)
        n = int.from_bytes(raw[:8], "little")
        head = json.loads(raw[8 : 8 + n].decode())
        values = np.frombuffer(raw[8 + n :], dtype="<f8")
        offsets = [int(o) for o in head["offsets"]]
        if len(raw) < 8 + n or (offsets and offsets[-1] != values.size):
            raise ValueError("length mismatch")
    except (ValueError, KeyError, TypeError) as exc:
        raise FlexibilityInputError("specs", f"not an encoded list of block specs ({exc})") from exc
    return [BlockSpec.from_json(_unpack(s, values, offsets)) for s in head["specs"]]
