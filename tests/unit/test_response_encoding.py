"""ColBERT rows go into JSON straight from their numpy arrays (app/api/common/encoding.py): the text
must be the one ``tolist()`` and msgspec wrote before, byte for byte, for every float32."""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.api.common.encoding import _json, _msgpack

#: ColBERT rows are L2-normalised: every value lies in [-1, 1]
row_values = st.floats(min_value=-1.0, max_value=1.0, width=32)


@given(arrays(np.float32, st.tuples(st.integers(0, 6), st.integers(1, 8)), elements=row_values))
def test_json_of_an_array_is_the_json_of_its_list(rows: np.ndarray) -> None:
    body = {"colbert": rows, "dense": [0.5]}
    assert _json.encode(body) == msgspec.json.encode({"colbert": rows.tolist(), "dense": [0.5]})


def test_a_strided_view_is_written_as_its_values() -> None:
    rows = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2] / 7
    assert _json.encode(rows) == msgspec.json.encode(rows.tolist())


def test_beyond_1e16_only_the_exponent_is_spelled_differently() -> None:
    rows = np.array([[3.0e38, -1.5e16, 1e15, 1e-30]], dtype=np.float32)
    assert _json.encode(rows) != msgspec.json.encode(rows.tolist())  # "e+38" against "e38"
    assert msgspec.json.decode(_json.encode(rows)) == rows.tolist()


def test_msgpack_of_an_array_is_the_msgpack_of_its_list() -> None:
    rows = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    assert _msgpack.encode({"colbert": rows}) == msgspec.msgpack.encode({"colbert": rows.tolist()})
