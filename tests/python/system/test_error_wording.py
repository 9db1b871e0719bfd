"""Error messages are word for word the same on both executors (docs/SEMANTICS.md, "Error
messages"): the Calculator and the expression language on faulty items, each message pinned, then a
sweep over values x operations that compares the class and str(exc) of every failure.

The wording follows the Python executor where it names the operands ("9223372036854775807 + 1 does
not fit in int64"), numpy where numpy has clear words of its own ("Python integer 2147483648 out of
bounds for int32", "integers to negative integer powers are not allowed"), and CPython for an int
beyond int64 ("int too large to convert to int64": the native runtime holds such an int as an
opaque object and cannot print it)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from remotemedia import Pipeline, _native, errors
from remotemedia.nodes import CalculatorNode, FilterNode, MapNode, RouterNode

pytestmark = pytest.mark.skipif(_native.runtime_module() is None, reason="no native runtime")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def outcome(make, item, runtime):
    try:
        return "ok", repr(make().run_sync([item], runtime=runtime))
    except Exception as exc:  # noqa: BLE001 - the class and the words are what is compared
        return type(exc), str(exc)


def calculator(operation, operand):
    return lambda: Pipeline([CalculatorNode(name="c", operation=operation, operand=operand)])


def expression(kind, text):
    if kind == "map":
        return lambda: Pipeline([MapNode(name="m", expression=text)])
    if kind == "filter":
        return lambda: Pipeline([FilterNode(name="m", condition=text)])
    return lambda: Pipeline([RouterNode(name="m", routes=[{"when": text, "to": "a"}], default="b")])


EXPECT_AT = "failed on item 0: "

# (operation, operand, item, class, message)
CALCULATOR_CASES = [
    ("add", 1, None, errors.NodeTypeError,
     "unsupported operand type NoneType (expected int, float or a numeric numpy array)"),
    ("multiply", 2, "ab", errors.NodeTypeError,
     "unsupported operand type str (expected int, float or a numeric numpy array)"),
    ("add", 1, [1, 2], errors.NodeTypeError,
     "unsupported operand type list (expected int, float or a numeric numpy array)"),
    ("add", 1, (1,), errors.NodeTypeError,
     "unsupported operand type tuple (expected int, float or a numeric numpy array)"),
    ("add", 1, np.array([1j]), errors.NodeTypeError,
     "unsupported operand type ndarray[complex128] (expected int, float or a numeric numpy array)"),
    ("add", 1, np.complex128(1j), errors.NodeTypeError,
     "unsupported operand type numpy.complex128 (expected int, float or a numeric numpy array)"),
    ("add", 1, 2**70, errors.NodeOverflowError, "int too large to convert to int64"),
    ("add", 1, -(2**70), errors.NodeOverflowError, "int too large to convert to int64"),
    ("add", 1, INT64_MAX, errors.NodeOverflowError, "9223372036854775807 + 1 does not fit in int64"),
    ("add", INT64_MAX, True, errors.NodeOverflowError, "1 + 9223372036854775807 does not fit in int64"),
    ("subtract", 2, INT64_MIN, errors.NodeOverflowError, "-9223372036854775808 - 2 does not fit in int64"),
    ("multiply", -1, INT64_MIN, errors.NodeOverflowError, "-9223372036854775808 * -1 does not fit in int64"),
    ("power", 64, 2, errors.NodeOverflowError, "2 ** 64 does not fit in int64"),
    ("power", 0.5, -1, errors.NodeValueError,
     "(-1) ** 0.5: a negative base to a fractional power has no real result"),
    ("power", 0.5, -1.5, errors.NodeValueError,
     "(-1.5) ** 0.5: a negative base to a fractional power has no real result"),
    ("power", 2, 1e308, errors.NodeOverflowError, "1e+308 ** 2 is too large for a float"),
    ("power", 1025.0, -2, errors.NodeOverflowError, "(-2) ** 1025.0 is too large for a float"),
    ("power", -1, 0, errors.NodeZeroDivisionError, "0.0 cannot be raised to a negative power"),
    ("divide", 0, 1, errors.NodeZeroDivisionError, "division by zero"),
    ("add", 1, np.arange(2, dtype=np.int8), errors.NodeTypeError,
     "unsupported dtype int8 (expected int32, int64, float32 or float64)"),
    ("add", 1, np.int16(3), errors.NodeTypeError,
     "unsupported dtype int16 (expected int32, int64, float32 or float64)"),
    ("add", 1, np.arange(2, dtype=np.uint8), errors.NodeTypeError,
     "unsupported dtype uint8 (expected int32, int64, float32 or float64)"),
    ("add", 1, np.array([True]), errors.NodeTypeError,
     "unsupported dtype bool (expected int32, int64, float32 or float64)"),
    ("add", 1, np.ones(2, dtype=np.float16), errors.NodeTypeError,
     "unsupported dtype float16 (expected int32, int64, float32 or float64)"),
    ("add", 2**31, np.arange(2, dtype=np.int32), errors.NodeOverflowError,
     "Python integer 2147483648 out of bounds for int32"),
    ("power", -1, np.arange(2), errors.NodeValueError, "integers to negative integer powers are not allowed"),
    ("power", -2, np.int32(3), errors.NodeValueError, "integers to negative integer powers are not allowed"),
    ("multiply", 2**62, np.arange(4), errors.NodeOverflowError,
     "int64 * 4611686018427387904: a result does not fit in int64"),
    ("multiply", -1, np.array(INT64_MIN), errors.NodeOverflowError, "int64 * -1: a result does not fit in int64"),
    ("power", 2, np.array([2**16], dtype=np.int32), errors.NodeOverflowError,
     "int32 ** 2: a result does not fit in int32"),
]


@pytest.mark.parametrize("operation,operand,item,cls,message", CALCULATOR_CASES,
                         ids=[f"{c[0]}-{c[1]!r}-{c[2]!r}" for c in CALCULATOR_CASES])
@pytest.mark.parametrize("runtime", ["python", "native"])
def test_calculator_messages(runtime, operation, operand, item, cls, message):
    expected = (cls, f"node 'c' (CalculatorNode) {EXPECT_AT}{message}")
    assert outcome(calculator(operation, operand), item, runtime) == expected


# (expression, item, class, message)
EXPRESSION_CASES = [
    ("abs(item)", INT64_MIN, errors.NodeOverflowError, "abs(-9223372036854775808) does not fit in int64"),
    ("abs(-9223372036854775807 - 1)", None, errors.NodeOverflowError,
     "abs(-9223372036854775808) does not fit in int64"),
    ("-item", INT64_MIN, errors.NodeOverflowError, "-9223372036854775808 * -1 does not fit in int64"),
    ("(-1) ** 0.5", None, errors.NodeValueError,
     "(-1) ** 0.5: a negative base to a fractional power has no real result"),
    ("(-8) ** (1/3)", None, errors.NodeValueError,
     "(-8) ** 0.3333333333333333: a negative base to a fractional power has no real result"),
    ("2 ** 64", None, errors.NodeOverflowError, "2 ** 64 does not fit in int64"),
    ("10 ** 400.0", None, errors.NodeOverflowError, "10 ** 400.0 is too large for a float"),
    ("(-9223372036854775807 - 1) // -1", None, errors.NodeOverflowError,
     "-9223372036854775808 // -1 does not fit in int64"),
    ("item + 1", 2**70, errors.NodeOverflowError, "int too large to convert to int64"),
    ("abs(item)", -(2**70), errors.NodeOverflowError, "int too large to convert to int64"),
    ("item + 1", np.uint64(2**64 - 1), errors.NodeTypeError,
     "unsupported dtype uint64 (expected int32, int64, float32 or float64)"),
    ("abs(item)", np.uint64(2**64 - 1), errors.NodeOverflowError, "int too large to convert to int64"),
    ("round(item)", 1e300, errors.NodeOverflowError, "round(1e+300) does not fit in int64"),
    ("round(item)", 2.0**64, errors.NodeOverflowError, "round(1.8446744073709552e+19) does not fit in int64"),
    ("round(item)", math.inf, errors.NodeOverflowError, "cannot round an infinity to an int"),
    ("round(item, -1)", INT64_MAX, errors.NodeOverflowError,
     "round(9223372036854775807, -1) does not fit in int64"),
    ("int(item)", 1e20, errors.NodeOverflowError, "int(1e+20) does not fit in int64"),
    ("int(item)", -1e19, errors.NodeOverflowError, "int(-1e+19) does not fit in int64"),
    ("-item", np.arange(2, dtype=np.int8), errors.NodeTypeError,
     "unsupported dtype int8 (expected int32, int64, float32 or float64)"),
    ("item * 2", np.array(True), errors.NodeTypeError,
     "unsupported dtype bool (expected int32, int64, float32 or float64)"),
    ("10 - item", np.array([INT64_MIN]), errors.NodeOverflowError, "10 - int64: a result does not fit in int64"),
    ("item * item", np.array([2**40]), errors.NodeOverflowError, "int64 * int64: a result does not fit in int64"),
    ("item[0] * item", np.array([2**20], dtype=np.int32), errors.NodeOverflowError,
     "int32 * int32: a result does not fit in int32"),
    ("2**40 + item", np.arange(2, dtype=np.int32), errors.NodeOverflowError,
     "Python integer 1099511627776 out of bounds for int32"),
    ("2 ** item", np.array([-1]), errors.NodeValueError, "integers to negative integer powers are not allowed"),
    ("item[0]", np.array(["a"]), errors.NodeTypeError, "a ndarray[<U1] cannot be indexed"),
    ("len(item)", np.str_("a"), errors.NodeTypeError, "numpy.str_ has no len()"),
    ("item < 1", np.array([1j]), errors.NodeTypeError, "'<' is not supported between ndarray[complex128] and int"),
]


@pytest.mark.parametrize("text,item,cls,message", EXPRESSION_CASES,
                         ids=[f"{c[0]}-{c[1]!r}" for c in EXPRESSION_CASES])
@pytest.mark.parametrize("kind", ["map", "filter", "router"])
@pytest.mark.parametrize("runtime", ["python", "native"])
def test_expression_messages(runtime, kind, text, item, cls, message):
    node_type = {"map": "MapNode", "filter": "FilterNode", "router": "RouterNode"}[kind]
    expected = (cls, f"node 'm' ({node_type}) {EXPECT_AT}{message}")
    assert outcome(expression(kind, text), item, runtime) == expected


def test_float_operands_are_written_as_python_repr_writes_them():
    # The native runtime formats floats itself (shortest digits, CPython's layout): random values
    # over the whole range, and the edges of the positional / exponent switch.
    rng = random.Random(11)
    bases = [-(10.0 ** k) for k in (-5, -4, -3, 15, 16, 17)] + [-1e-310, -5e-324, -1.0, -123456789.0]
    bases += [-abs(rng.uniform(-1, 1) * 10.0 ** rng.randint(-320, 308)) for _ in range(150)]
    for base in bases:
        make = calculator("power", 0.5)
        python = outcome(make, base, "python")
        assert python == (errors.NodeValueError, f"node 'c' (CalculatorNode) {EXPECT_AT}({base!r}) ** 0.5: "
                          "a negative base to a fractional power has no real result")
        assert outcome(make, base, "native") == python
    for value in [rng.uniform(1, 9) * 10.0 ** rng.randint(19, 308) for _ in range(100)]:
        make = expression("map", "round(item)")
        python = outcome(make, value, "python")
        assert python[1].endswith(f"round({value!r}) does not fit in int64")
        assert outcome(make, value, "native") == python


# The sweep: every operation on every value, and expressions that fail in many ways.
VALUES = [None, "ab", b"x", [1, 2], {"k": 1}, (1,), True, False, 0, -1, 2**70, -(2**70), INT64_MIN, INT64_MAX,
          -1.5, 1e308, math.inf, -math.inf, math.nan, np.array(5), np.array(INT64_MIN),
          np.array([2**62, INT64_MIN]), np.array([2**30, -(2**31)], dtype=np.int32), np.uint64(2**64 - 1),
          np.array(["a"]), np.array([1, "a"], dtype=object), np.ones((2, 2))]
VALUES += [np.array([1, 2], dtype=dt) for dt in ("int8", "int16", "uint8", "uint64", "bool", "float16", "int32",
                                                  "int64", "float32", "float64", "complex128")]
VALUES += [np.dtype(dt).type(1) for dt in ("int8", "uint16", "bool", "float16", "int32", "int64", "float32",
                                            "complex64")]
OPERANDS = [0, 2, -1, 0.5, -2, 64, 2**31, INT64_MIN, INT64_MAX, 1e308, math.nan]
EXPRESSIONS = [
    "abs(item)", "-item", "item ** 0.5", "item ** 2", "item * 2**62", "int(item)", "round(item)", "round(item, -1)",
    "len(item)", "item[10]", "item['k']", "item.k", "item < 1", "item < 'a'", "min(item, 'a')", "max(item)",
    "item + 'a'", "[1] + item", "1 in item", "not item", "item // 2", "item % 0", "10 - item", "item * item",
    "item ** -1", "item ** item", "int('x')", "round(1e308 * 10)", "len(5)", "min([])", "max([1, 'a'])",
]


def _sweep_cases():
    for operation in ("add", "subtract", "multiply", "divide", "power", "modulo"):
        for operand in OPERANDS:
            yield f"calc-{operation}-{operand!r}", calculator(operation, operand)
    for text in EXPRESSIONS:
        yield f"map-{text}", expression("map", text)


@pytest.mark.parametrize("name,make", list(_sweep_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_sweep_same_class_and_words(name, make):
    differences = []
    for item in VALUES:
        python, native = outcome(make, item, "python"), outcome(make, item, "native")
        if python != native:
            differences.append((repr(item), python, native))
    assert not differences, differences
