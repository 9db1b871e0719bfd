"""Values crossing between Python and the native runtime: numpy arrays without copies, opaque
Python objects untouched, no reference leaked."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

runtime = pytest.importorskip("remotemedia._runtime")

from remotemedia import Pipeline  # noqa: E402
from remotemedia.nodes.base import PassThroughNode  # noqa: E402
from remotemedia.nodes.calculator import CalculatorNode  # noqa: E402


def passthrough() -> Pipeline:
    return Pipeline([PassThroughNode(name="a"), PassThroughNode(name="b")])


def test_an_array_item_comes_back_as_the_same_object():
    arr = np.arange(10.0)
    (out,) = passthrough().run_sync([arr], runtime="native")
    assert out is arr


def test_a_column_input_comes_back_as_the_same_array_through_passthrough():
    col = np.arange(1000, dtype=np.int64)
    assert passthrough().run_sync(col, runtime="native") is col


def test_rows_of_a_2d_input_are_views_of_its_memory():
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = passthrough().run_sync(grid, runtime="native")
    assert isinstance(out, np.ndarray) and out.shape == (3, 4)
    rows = passthrough().run_sync(list(grid), runtime="native")
    assert all(np.shares_memory(r, grid) for r in rows)  # each row crossed both ways without a copy


def test_computed_arrays_are_handed_out_without_a_copy():
    out = Pipeline([CalculatorNode(name="c", operation="multiply", operand=2)]).run_sync(
        np.arange(5, dtype=np.int64), runtime="native")
    assert out.tolist() == [0, 2, 4, 6, 8]
    assert not out.flags.owndata  # a view on the runtime's buffer, kept alive by a capsule
    assert out.dtype == np.int64 and type(out[0]) is np.int64


def test_non_contiguous_arrays_are_read_correctly():
    base = np.arange(20, dtype=np.int64)
    strided = base[::2]
    out = Pipeline([CalculatorNode(name="c", operation="add", operand=1)]).run_sync([strided], runtime="native")
    assert out[0].tolist() == (strided + 1).tolist()


def test_opaque_python_objects_pass_through_untouched_and_are_not_leaked():
    class Token:
        pass

    token, pair, huge = Token(), (1, 2), 2**100
    before = [sys.getrefcount(o) for o in (token, pair, huge)]
    for _ in range(200):
        out = passthrough().run_sync([token, pair, huge], runtime="native")
        assert out[0] is token and out[1] is pair and out[2] == huge
    del out
    gc.collect()
    assert [sys.getrefcount(o) for o in (token, pair, huge)] == before


def test_failed_runs_do_not_leak_their_items():
    marker = np.arange(3.0)
    before = sys.getrefcount(marker)
    pipeline = Pipeline([CalculatorNode(name="c", operation="add", operand=1)])
    for _ in range(200):
        with pytest.raises(TypeError):
            pipeline.run_sync([marker, "not a number", marker], runtime="native")
    gc.collect()
    assert sys.getrefcount(marker) == before


def test_nested_lists_and_dicts_round_trip():
    item = {"a": [1, 2.5, None, True, "x", b"raw"], "b": {"c": []}}
    (out,) = passthrough().run_sync([item], runtime="native")
    assert out == item and type(out["a"][5]) is bytes
