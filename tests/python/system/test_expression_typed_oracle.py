"""The typed-program oracle: the native runtime compiles an expression to typed straight-line code
for batches and numpy columns of one numeric type, and falls back to item-at-a-time evaluation per
bad lane. Both must give exactly what item-at-a-time evaluation gives (values, their types, the
first error and its words), and so must the Python executor. Random expressions over int64 and
float64 columns and over Python ints and floats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("remotemedia._runtime")

from remotemedia import Pipeline  # noqa: E402
from remotemedia.nodes import FilterNode, MapNode  # noqa: E402

CONSTANTS = ["0", "1", "2", "3", "-1", "-2", "7", "0.5", "-0.5", "2.0", "1e300", "-1e-300", "2**62", "-2**63",
             "9007199254740993", "True", "False", "(0.0 * -1)"]
BINARY = ["+", "-", "*", "/", "//", "%", "**"]
COMPARE = ["<", "<=", "==", "!=", ">", ">="]


@st.composite
def expressions(draw, depth=0):
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["item", "item", "item"] + CONSTANTS))
    kind = draw(st.sampled_from(["binary", "binary", "binary", "unary", "call", "compare", "logic"]))
    a = draw(expressions(depth + 1))
    if kind == "unary":
        return f"({draw(st.sampled_from(['-', '+', 'not ']))}{a})"
    if kind == "call":
        fn = draw(st.sampled_from(["abs", "round", "int", "float", "min", "max"]))
        if fn in ("min", "max"):
            return f"{fn}({a}, {draw(expressions(depth + 1))})"
        return f"{fn}({a})"
    b = draw(expressions(depth + 1))
    if kind == "compare":
        return f"({a} {draw(st.sampled_from(COMPARE))} {b})"
    if kind == "logic":
        return f"({a} {draw(st.sampled_from(['and', 'or']))} {b})"
    return f"({a} {draw(st.sampled_from(BINARY))} {b})"


INT_EDGES = [0, 1, -1, 2, 3, -7, 2**31, 2**53 + 1, 2**62, 2**63 - 1, -(2**63)]
FLOAT_EDGES = [0.0, -0.0, 0.5, -2.5, 1e308, -1e-308, math.inf, -math.inf, math.nan, 2.0**63, 3.0]

columns = st.one_of(
    st.lists(st.one_of(st.integers(-100, 100), st.sampled_from(INT_EDGES)), min_size=1, max_size=8)
    .map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.one_of(st.floats(-1e3, 1e3), st.sampled_from(FLOAT_EDGES)), min_size=1, max_size=8)
    .map(lambda v: np.array(v, dtype=np.float64)),
)


def canonical(outputs):
    """Values with their types: a numpy scalar and a Python number of the same value differ."""
    out = []
    for v in (list(outputs) if not isinstance(outputs, list) else outputs):
        if isinstance(v, np.generic):
            out.append(("np", v.dtype.str, v.tobytes()))
        elif isinstance(v, float):
            out.append(("float", np.float64(v).tobytes()))
        else:
            out.append((type(v).__name__, v))
    return out


def outcome(run):
    try:
        return "ok", canonical(run())
    except Exception as exc:  # noqa: BLE001 - class, words and item are compared
        return "error", type(exc).__name__, str(exc)


def close_enough(a, b):
    """numpy's float power may differ from the C library's by one ulp (docs/SEMANTICS.md)."""
    if a[0] != b[0] or a[0] == "error" or len(a[1]) != len(b[1]):
        return a == b
    for x, y in zip(a[1], b[1]):
        if x[:-1] != y[:-1]:
            return False
        if x != y:
            if x[0] == "np" and x[1] != "<f8":
                return False
            fx = np.frombuffer(x[-1], np.float64)[0] if x[0] == "np" else np.frombuffer(x[1], np.float64)[0]
            fy = np.frombuffer(y[-1], np.float64)[0] if y[0] == "np" else np.frombuffer(y[1], np.float64)[0]
            if not (np.isfinite(fx) and np.isfinite(fy) and abs(fx - fy) <= np.spacing(max(abs(fx), abs(fy)))):
                return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=expressions(), column=columns, node=st.sampled_from(["map", "filter"]))
def test_typed_paths_agree_with_item_at_a_time(expression, column, node):
    make = (lambda: MapNode(name="n", expression=expression)) if node == "map" else \
        (lambda: FilterNode(name="n", condition=expression))
    p = Pipeline([make()])
    # Native: the column (typed, no boxing), a list of numpy scalars (typed batch), then item at a
    # time (a session: no typed program).
    column_run = outcome(lambda: p.run_sync(column, runtime="native"))
    scalars = list(column)
    batch_run = outcome(lambda: p.run_sync(scalars, runtime="native"))
    item_run = outcome(lambda: list(p.stream_sync(scalars, runtime="native")))
    context = f"{node} {expression!r} on {column!r}"
    assert batch_run == item_run, context
    if column_run[0] == "ok" and item_run[0] == "ok" and not column_run[1] == item_run[1]:
        # The column's result is an array: Python bools or ints come back as numpy scalars.
        assert canonical(np.asarray([v for v in scalars_or_values(item_run)])) == column_run[1] or \
            not item_run[1], context
    elif column_run[0] == "error" or item_run[0] == "error":
        assert column_run == item_run, context
    python_run = outcome(lambda: list(p.stream_sync(scalars, runtime="python")))
    ulps_allowed = "**" in expression
    assert (close_enough(python_run, item_run) if ulps_allowed else python_run == item_run), context

    # Python numbers: the typed programs of int and float items, against item at a time.
    numbers = column.tolist()
    typed = outcome(lambda: p.run_sync(numbers, runtime="native"))
    one_by_one = outcome(lambda: list(p.stream_sync(numbers, runtime="native")))
    assert typed == one_by_one, f"{context} as Python numbers"
    python = outcome(lambda: p.run_sync(numbers, runtime="python"))
    assert python == one_by_one, f"{context} as Python numbers, Python executor"


def scalars_or_values(run):
    """The item-at-a-time outputs back as Python/numpy values, from their canonical form."""
    for kind, *rest in run[1]:
        if kind == "np":
            yield np.frombuffer(rest[1], np.dtype(rest[0]))[0]
        elif kind == "float":
            yield np.frombuffer(rest[0], np.float64)[0].item()
        else:
            yield rest[0]


@pytest.mark.parametrize("expression", ["item + 2 ** -1", "item * 2 ** -2", "2 ** -1 - item", "item ** -1",
                                        "item + (-1) ** -1", "item // 2 ** -1"])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_negative_int_powers_agree(expression, dtype):
    """The tester's case: an int ** negative int is a float (Python), never a typed int."""
    column = np.arange(1, 6, dtype=dtype)
    p = Pipeline([MapNode(name="m", expression=expression)])
    native = outcome(lambda: p.run_sync(column, runtime="native"))
    python = outcome(lambda: p.run_sync(column, runtime="python"))
    assert native == python
    if expression == "item + 2 ** -1":
        assert native[0] == "ok" and np.array_equal(p.run_sync(column, runtime="native"), column + 0.5)
