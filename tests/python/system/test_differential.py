"""Differential tests: random pipelines and inputs through both executors.

Both must give equal results (same types, same values, NaN where NaN, the same sign of zero, the
same array dtypes) or raise the same exception type for the same node and item. A difference is a
bug in one of them; the Python executor is the reference (docs/SEMANTICS.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("remotemedia._runtime")

from remotemedia import Pipeline  # noqa: E402
from remotemedia.nodes.base import PassThroughNode  # noqa: E402
from remotemedia.nodes.calculator import CalculatorNode  # noqa: E402

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
OPERATIONS = ["add", "subtract", "multiply", "divide", "power", "modulo"]
DTYPES = [np.int32, np.int64, np.float32, np.float64]

edge_ints = st.sampled_from([0, 1, -1, 2, -2, 3, 7, 63, 64, INT64_MAX, INT64_MIN, INT64_MAX - 1, 2**31, -(2**31), 2**53 + 1])
ints = st.one_of(edge_ints, st.integers(-1000, 1000), st.integers(INT64_MIN, INT64_MAX))
huge_ints = st.sampled_from([2**63, -(2**63) - 1, 2**100, -(2**70)])
edge_floats = st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.5, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan, 2.0**53])
floats = st.one_of(edge_floats, st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e3, 1e3))

operand_ints = st.one_of(st.sampled_from([0, 1, -1, 2, -2, 3, 10, 63, 64, -64, INT64_MAX, INT64_MIN, 2**31]),
                         st.integers(-100, 100))
operand_floats = st.one_of(st.sampled_from([0.0, -0.0, 0.5, -0.5, 2.0, 1e308, 1e-300, 3.25]),
                           st.floats(-100, 100, allow_nan=False, allow_infinity=False))
operands = st.one_of(operand_ints, operand_floats)


@st.composite
def numpy_arrays(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 2)]))
    size = int(np.prod(shape)) if shape else 1
    if np.dtype(dtype).kind == "i":
        info = np.iinfo(dtype)
        values = draw(st.lists(st.one_of(st.integers(-50, 50), st.sampled_from([int(info.min), int(info.max), 0])),
                               min_size=size, max_size=size))
    else:
        values = draw(st.lists(st.one_of(st.floats(-1e3, 1e3), edge_floats), min_size=size, max_size=size))
    with np.errstate(over="ignore"):  # large floats become inf in float32, on purpose
        return np.array(values, dtype=dtype).reshape(shape)


numpy_scalars = numpy_arrays().filter(lambda a: a.ndim == 0).map(lambda a: a[()])

items = st.one_of(
    ints, ints, floats, floats, st.booleans(), huge_ints,
    st.text(max_size=3), st.none(), st.just((1, 2)), numpy_arrays(), numpy_scalars,
)


@st.composite
def chains(draw, power_last=False):
    """Random chains of PassThrough / Calculator. With power_last, `power` only ends a chain: numpy's
    float power may differ from the C library's by an ulp on CPUs where numpy uses its own SIMD
    kernel (AVX-512 here), and later operations could magnify that ulp."""
    n = draw(st.integers(0, 5))
    nodes = []
    for i in range(n):
        if draw(st.booleans()):
            nodes.append(("pass", None, None))
        else:
            allowed = OPERATIONS if not power_last or i == n - 1 else [o for o in OPERATIONS if o != "power"]
            nodes.append(("calc", draw(st.sampled_from(allowed)), draw(operands)))
    return nodes


def has_numpy(inputs) -> bool:
    return isinstance(inputs, np.ndarray) or any(isinstance(x, (np.ndarray, np.generic)) for x in inputs)


def ends_in_power(spec) -> bool:
    calcs = [op for kind, op, _ in spec if kind == "calc"]
    return bool(calcs) and calcs[-1] == "power"


def build(spec) -> Pipeline:
    nodes = []
    for i, (kind, op, operand) in enumerate(spec):
        if kind == "pass":
            nodes.append(PassThroughNode(name=f"n{i}"))
        else:
            nodes.append(CalculatorNode(name=f"n{i}", operation=op, operand=operand))
    return Pipeline(nodes=nodes, name="differential")


def same_value(a, b, ulps: int = 0) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (np.ndarray, np.generic)):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.dtype != b_arr.dtype or a_arr.shape != b_arr.shape:
            return False
        if a_arr.dtype.kind == "f":
            both_nan = np.isnan(a_arr) & np.isnan(b_arr)
            same_sign = np.signbit(a_arr) == np.signbit(b_arr)
            equal = a_arr == b_arr
            if ulps:
                with np.errstate(all="ignore"):
                    spacing = np.spacing(np.maximum(np.abs(a_arr), np.abs(b_arr)))
                    equal |= np.isfinite(a_arr) & (np.abs(a_arr - b_arr) <= ulps * spacing)
            return bool(np.all(both_nan | (equal & same_sign)))
        return bool(np.array_equal(a_arr, b_arr))
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y, ulps) for x, y in zip(a, b))
    return a == b


def outcome(pipeline: Pipeline, inputs, runtime: str):
    try:
        return ("ok", pipeline.run_sync(inputs, runtime=runtime))
    except Exception as exc:  # noqa: BLE001 - the type is what we compare
        return ("error", exc)


def assert_same_outcome(python, native, context, ulps: int = 0):
    assert python[0] == native[0], f"{context}: python {python} vs native {native}"
    if python[0] == "error":
        p, n = python[1], native[1]
        assert type(p) is type(n), f"{context}: {type(p).__name__}({p}) vs {type(n).__name__}({n})"
        assert getattr(p, "node_id", None) == getattr(n, "node_id", None), context
        assert getattr(p, "item_index", None) == getattr(n, "item_index", None), f"{context}: {p} vs {n}"
    else:
        assert same_value(python[1], native[1], ulps), f"{context}: python {python[1]!r} vs native {native[1]!r}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), inputs=st.lists(items, max_size=6))
def test_random_chains_agree_on_lists(data, inputs):
    numpy_inside = has_numpy(inputs)
    spec = data.draw(chains(power_last=numpy_inside))
    pipeline = build(spec)
    python = outcome(pipeline, inputs, "python")
    native = outcome(pipeline, inputs, "native")
    ulps = 1 if numpy_inside and ends_in_power(spec) else 0
    assert_same_outcome(python, native, f"{spec} on {inputs!r}", ulps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=chains(power_last=True), column=numpy_arrays().filter(lambda a: a.ndim == 1))
def test_random_chains_agree_on_numpy_columns(spec, column):
    """A 1-D array is a column of items; native runs it without boxing, Python element by element."""
    pipeline = build(spec)
    python = outcome(pipeline, column, "python")
    native = outcome(pipeline, column, "native")
    assert_same_outcome(python, native, f"{spec} on {column!r}", 1 if ends_in_power(spec) else 0)


def test_ulp_tolerance_is_narrow():
    """The tolerance used after a numpy power accepts one ulp and nothing more."""
    x = np.array([0.9999930685522169])
    assert same_value(x, np.nextafter(x, 2), ulps=1)
    assert not same_value(x, np.nextafter(np.nextafter(x, 2), 2), ulps=1)
    assert not same_value(x, np.nextafter(x, 2))


def test_overflow_at_the_int64_boundary_is_an_error_on_both():
    pipeline = build([("calc", "add", 1)])
    for runtime in ("python", "native"):
        assert pipeline.run_sync([INT64_MAX - 1], runtime=runtime) == [INT64_MAX]
        with pytest.raises(OverflowError) as info:
            pipeline.run_sync([0, INT64_MAX], runtime=runtime)
        assert info.value.item_index == 1 and info.value.node_id == "n0"


def test_correctly_rounded_int_division_matches_python():
    pipeline = build([("calc", "divide", 3)])
    values = [2**62 + 1, INT64_MAX, INT64_MIN, 2**53 + 1, -(2**60) - 7]
    native = pipeline.run_sync(values, runtime="native")
    assert native == [v / 3 for v in values]
