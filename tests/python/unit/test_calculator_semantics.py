"""CalculatorNode against docs/SEMANTICS.md, with expected values computed independently (Python's
own operators, fractions, numpy) rather than by the node's code path."""

from __future__ import annotations

import enum
import math
import operator
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from remotemedia import errors
from remotemedia.core.manifest import parse_manifest
from remotemedia.nodes.calculator import CalculatorNode

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
PY_OPS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
    "modulo": operator.mod,
}


def calc(operation, operand, item):
    return CalculatorNode(name="calc", operation=operation, operand=operand).process(item)


@pytest.fixture(autouse=True)
def numpy_warnings_are_errors():
    # The node must silence numpy's floating-point warnings itself (np.errstate).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------------------- parameters


def manifest_error(params):
    doc = {"version": "v1", "nodes": [{"id": "c", "node_type": "CalculatorNode", "params": params}]}
    with pytest.raises(errors.InvalidParameterError) as info:
        parse_manifest(doc)
    return info.value


@pytest.mark.parametrize(
    "params, message",
    [
        ({"operand": 1}, "missing required parameter 'operation' for CalculatorNode"),
        ({"operation": "add"}, "missing required parameter 'operand' for CalculatorNode"),
        (
            {"operation": "pow", "operand": 1},
            "parameter 'operation' must be one of add, subtract, multiply, divide, power, modulo;"
            " got 'pow'",
        ),
        (
            {"operation": "add", "operand": True},
            "parameter 'operand' must be a number, got boolean",
        ),
        ({"operation": "add", "operand": "5"}, "parameter 'operand' must be a number, got string"),
        ({"operation": "add", "operand": 2**63}, "parameter 'operand' must fit in int64"),
        (
            {"operation": "add", "operand": 1, "scale": 2},
            "unknown parameter 'scale' for CalculatorNode",
        ),
    ],
)
def test_bad_parameters_fail_at_construction_like_the_manifest_validator(params, message):
    with pytest.raises(errors.InvalidParameterError) as info:
        CalculatorNode(name="c", **params)
    assert info.value.message == message
    assert manifest_error(params).message == message


@pytest.mark.parametrize("operand", [math.inf, -math.inf, math.nan])
def test_non_finite_operand_is_rejected(operand):
    with pytest.raises(errors.InvalidParameterError, match="'operand' must be finite"):
        CalculatorNode(name="c", operation="add", operand=operand)


def test_operand_at_the_int64_edges_is_accepted():
    assert calc("add", INT64_MIN, 0) == INT64_MIN
    assert calc("subtract", INT64_MAX, 0) == -INT64_MAX


# ---------------------------------------------------------------------------- python numbers


@pytest.mark.parametrize("operation", ["add", "subtract", "multiply", "modulo"])
@pytest.mark.parametrize("x, y", [(7, 3), (-7, 3), (7, -3), (-7, -3), (0, 5)])
def test_int_op_int_stays_int(operation, x, y):
    result = calc(operation, y, x)
    assert type(result) is int
    assert result == PY_OPS[operation](x, y)


def test_bool_items_count_as_int():
    assert calc("add", 5, True) == 6 and type(calc("add", 5, True)) is int
    assert calc("multiply", 3, False) == 0 and type(calc("multiply", 3, False)) is int
    assert calc("divide", 2, True) == 0.5


def test_int_divide_int_is_a_correctly_rounded_float():
    a, b = 6402900570728149493, 888601
    result = calc("divide", b, a)
    assert type(result) is float
    assert result == float(Fraction(a, b))
    assert result != float(a) / float(b)  # the naive way rounds twice and differs here
    assert type(calc("divide", 2, 4)) is float and calc("divide", 2, 4) == 2.0


def test_int_power_non_negative_stays_int_and_negative_gives_float():
    assert calc("power", 10, 3) == 59049 and type(calc("power", 10, 3)) is int
    assert calc("power", 0, 7) == 1 and type(calc("power", 0, 7)) is int
    assert calc("power", -1, 2) == 0.5 and type(calc("power", -1, 2)) is float
    assert calc("power", -3, -2) == -0.125


def test_mixed_int_and_float_convert_the_int():
    assert calc("add", 0.5, 3) == 3.5
    assert calc("multiply", 3, 0.1) == 0.1 * 3
    assert type(calc("add", 0.0, 3)) is float
    assert calc("modulo", 2.5, -7) == -7 % 2.5


@pytest.mark.parametrize(
    "operation, operand, x",
    [
        ("add", 1, INT64_MAX),
        ("subtract", 1, INT64_MIN),
        ("add", INT64_MIN, -1),
        ("multiply", -1, INT64_MIN),
        ("multiply", 2, 2**62),
        ("power", 63, 2),
        ("power", 40, 3),  # 3**40 ~ 1.2e19
        ("power", 2**62, 2),  # must not try to build 2**(2**62)
        ("power", INT64_MAX, -2),
    ],
)
def test_int_results_outside_int64_overflow(operation, operand, x):
    with pytest.raises(errors.NodeOverflowError) as info:
        calc(operation, operand, x)
    assert isinstance(info.value, OverflowError)
    assert info.value.node_id is None  # the executor fills in the location


@pytest.mark.parametrize(
    "operation, operand, x, expected",
    [
        ("add", 0, INT64_MAX, INT64_MAX),
        ("add", -1, INT64_MIN + 1, INT64_MIN),
        ("multiply", -1, INT64_MAX, -INT64_MAX),
        ("multiply", 2, 2**62 - 1, 2**63 - 2),
        ("power", 63, -2, INT64_MIN),
        ("power", 39, 3, 3**39),
        ("power", 2**62, 1, 1),
        ("power", 2**62 + 1, -1, -1),
        ("power", 2**62, 0, 0),
        ("modulo", -1, INT64_MIN, 0),
        ("modulo", INT64_MIN, INT64_MAX, INT64_MAX - 2**63),
    ],
)
def test_int_results_at_the_int64_boundary_are_exact(operation, operand, x, expected):
    result = calc(operation, operand, x)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("operand", [0.5, 1, 0])
def test_int_item_outside_int64_overflows_whatever_the_operation(operand):
    for operation in PY_OPS:
        for x in (2**63, -(2**63) - 1, 10**30):
            with pytest.raises(errors.NodeOverflowError):
                calc(operation, operand, x)


@pytest.mark.parametrize(
    "operation, operand, x",
    [
        ("divide", 0, 5),
        ("divide", 0, 0),
        ("divide", 0.0, 5.0),
        ("divide", -0.0, 5),
        ("divide", 0, math.inf),
        ("divide", 0, math.nan),
        ("modulo", 0, 5),
        ("modulo", 0.0, -2.5),
        ("power", -1, 0),
        ("power", -1, 0.0),
        ("power", -0.5, 0),
        ("power", -1.0, -0.0),
    ],
)
def test_division_by_zero_and_zero_to_a_negative_power(operation, operand, x):
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        calc(operation, operand, x)
    assert isinstance(info.value, ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):  # what Python does, for the record
        PY_OPS[operation](x, operand)


@pytest.mark.parametrize(
    "operand, x", [(400, 10.0), (2, 1e308), (2**62, 1.5), (2**62 + 1, -1.5), (1000.5, 10)]
)
def test_float_power_too_large_overflows(operand, x):
    with pytest.raises(errors.NodeOverflowError):
        calc("power", operand, x)


@pytest.mark.parametrize("operand, x", [(1 / 3, -8.0), (0.5, -8), (2.5, -1e-300), (-0.5, True - 2)])
def test_negative_base_to_a_fractional_power_is_a_value_error(operand, x):
    assert isinstance(PY_OPS["power"](x, operand), complex)  # Python's answer is complex
    with pytest.raises(errors.NodeValueError) as info:
        calc("power", operand, x)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("operand, x", [(16.5, INT64_MIN), (1.5, -1e300)])
def test_negative_base_to_a_fractional_power_is_a_value_error_even_when_huge(operand, x):
    with pytest.raises(OverflowError):  # Python goes complex, and the complex power overflows
        PY_OPS["power"](x, operand)
    with pytest.raises(errors.NodeValueError):
        calc("power", operand, x)


@pytest.mark.parametrize(
    "operand, x",
    [
        (2, math.inf),
        (0.5, -math.inf),
        (-1, math.inf),
        (0, math.nan),
        (1, math.nan),
        (2000, 0.5),
        (3, -8.0),
        (-2, -2.0),
        (-3, -math.inf),
        (0.5, 0.0),
        (2**62, -0.5),
    ],
)
def test_float_power_special_cases_follow_cpython(operand, x):
    expected = x**operand
    result = calc("power", operand, x)
    assert type(result) is float
    assert result == expected or (math.isnan(expected) and math.isnan(result))


@pytest.mark.parametrize(
    "operand, x", [(2, -5.5), (-2, 5.5), (2, -0.0), (-2, 0.0), (3.0, -7), (-0.75, 1e300)]
)
def test_float_modulo_takes_the_sign_of_the_divisor(operand, x):
    result = calc("modulo", operand, x)
    expected = x % operand
    assert result == expected and math.copysign(1, result) == math.copysign(1, expected)


def test_float_add_subtract_multiply_divide_follow_ieee_without_errors():
    assert calc("multiply", 10, 1e308) == math.inf
    assert math.isnan(calc("multiply", 0, math.inf))
    assert math.isnan(calc("add", 1, math.nan))
    assert math.isnan(calc("modulo", 2, math.inf))
    assert calc("divide", 1e-300, 1e300) == math.inf
    assert calc("subtract", 1e308, -1e308) == -math.inf


@pytest.mark.parametrize(
    "item",
    [
        "1",
        b"1",
        None,
        (1,),
        [1],
        {"x": 1},
        1 + 0j,
        Decimal(1),
        Fraction(1, 2),
        enum.IntEnum("E", "A").A,
        np.array([True, False]),
        np.bool_(True),
        np.array([1, 2], dtype=np.uint8),
        np.uint64(3),
        np.array([1.0], dtype=np.float16),
        np.array([1j]),
        np.array([1], dtype=object),
        np.array(["a"]),
        np.array([1], dtype=">i4"),  # non-native byte order
        np.ma.masked_array([1, 2]),  # ndarray subclass
    ],
    ids=repr,
)
def test_non_numeric_items_are_type_errors(item):
    with pytest.raises(errors.NodeTypeError) as info:
        calc("add", 1, item)
    assert isinstance(info.value, TypeError)


def test_int_subclass_is_not_numeric():
    class MyInt(int):
        pass

    with pytest.raises(errors.NodeTypeError):
        calc("add", 1, MyInt(3))


@given(
    st.sampled_from(sorted(PY_OPS)),
    st.integers(INT64_MIN, INT64_MAX) | st.floats() | st.booleans(),
    st.integers(INT64_MIN, INT64_MAX) | st.floats(allow_nan=False, allow_infinity=False),
)
def test_python_numbers_match_python_within_int64(operation, x, operand):
    if operation == "power" and type(x) is not float and type(operand) is int and operand > 64:
        operand = operand % 65  # keep Python's own result computable
    try:
        expected = PY_OPS[operation](x, operand)
        if isinstance(expected, complex):
            expected = errors.NodeValueError
    except ZeroDivisionError:
        expected = errors.NodeZeroDivisionError
    except OverflowError:
        # a complex power that overflows is still a negative base to a fractional power
        fractional = type(operand) is float and not operand.is_integer() and x < 0
        expected = errors.NodeValueError if fractional else errors.NodeOverflowError
    if type(expected) is int and not INT64_MIN <= expected <= INT64_MAX:
        expected = errors.NodeOverflowError
    if isinstance(expected, type):
        with pytest.raises(expected):
            calc(operation, operand, x)
        return
    result = calc(operation, operand, x)
    assert type(result) is type(expected)
    assert result == expected or (math.isnan(expected) and math.isnan(result))


# ----------------------------------------------------------------------------- numpy values


@pytest.mark.parametrize(
    "dtype, operand, operation, expected_dtype",
    [
        (np.int32, 1, "add", np.int32),  # a Python int does not widen (NEP 50)
        (np.int32, 2, "power", np.int32),
        (np.int32, 3, "modulo", np.int32),
        (np.int32, 1.5, "add", np.float64),  # int array with a Python float: float64
        (np.int32, 2, "divide", np.float64),
        (np.int64, 2, "divide", np.float64),
        (np.int64, 0.5, "power", np.float64),
        (np.float32, 1.5, "multiply", np.float32),
        (np.float32, 2**62, "add", np.float32),
        (np.float32, 2, "power", np.float32),
        (np.float64, 3, "modulo", np.float64),
    ],
)
def test_numpy_result_dtypes_follow_nep50(dtype, operand, operation, expected_dtype):
    values = np.array([1, 2, 7], dtype=dtype)
    result = calc(operation, operand, values)
    assert type(result) is np.ndarray and result.dtype == expected_dtype
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(result, PY_OPS[operation](values, operand))
    scalar = calc(operation, operand, dtype(7))
    assert isinstance(scalar, np.generic) and scalar.dtype == expected_dtype


def test_numpy_scalar_stays_a_scalar_and_0d_array_stays_an_array():
    scalar = calc("add", 1, np.int32(5))
    assert type(scalar) is np.int32 and scalar == 6
    zero_d = calc("add", 1, np.asarray(5, dtype=np.int32))
    assert type(zero_d) is np.ndarray and zero_d.ndim == 0 and zero_d.dtype == np.int32
    assert zero_d == 6
    assert type(calc("divide", 2, np.asarray(5, dtype=np.int64))) is np.ndarray
    assert type(calc("multiply", 2.0, np.float64(1.5))) is np.float64


def test_int_array_modulo_follows_python_signs():
    values = np.array([-7, 7, -1, 0], dtype=np.int64)
    assert calc("modulo", 3, values).tolist() == [v % 3 for v in values.tolist()]
    assert calc("modulo", -3, values).tolist() == [v % -3 for v in values.tolist()]
    assert calc("modulo", -1, np.array([INT64_MIN])).tolist() == [0]
    assert calc("modulo", -1, np.array([INT32_MIN], dtype=np.int32)).tolist() == [0]


@pytest.mark.parametrize("operation", sorted(PY_OPS))
@pytest.mark.parametrize("operand", [2**31, -(2**31) - 1])
def test_int_operand_that_does_not_fit_an_int32_dtype_overflows(operation, operand):
    with pytest.raises(errors.NodeOverflowError):
        calc(operation, operand, np.array([1], dtype=np.int32))
    with pytest.raises(errors.NodeOverflowError):
        calc(operation, operand, np.int32(1))
    # the same operand is fine for int64 and for float dtypes
    expected = PY_OPS[operation](1.0, operand) if operation in ("divide", "power") else None
    result = calc(operation, operand, np.array([1], dtype=np.float64))
    assert result.dtype == np.float64
    if expected is not None:
        assert result[0] == np.float64(expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("operation, operand", [("divide", 0), ("modulo", 0), ("divide", 0.0)])
def test_numpy_division_by_a_zero_operand(dtype, operation, operand):
    with pytest.raises(errors.NodeZeroDivisionError):
        calc(operation, operand, np.array([1, 2], dtype=dtype))
    with pytest.raises(errors.NodeZeroDivisionError):
        calc(operation, operand, dtype(3))
    with pytest.raises(errors.NodeZeroDivisionError):  # even with no element to divide
        calc(operation, operand, np.array([], dtype=dtype))


def test_int_array_to_a_negative_int_power_is_a_value_error():
    with pytest.raises(errors.NodeValueError):
        calc("power", -1, np.array([1, 2], dtype=np.int32))
    with pytest.raises(errors.NodeValueError):
        calc("power", -2, np.int64(2))
    # a float operand or a float array is IEEE, not an error
    assert calc("power", -1.0, np.array([2], dtype=np.int64)).tolist() == [0.5]
    assert calc("power", -1, np.array([2.0, 0.0])).tolist() == [0.5, math.inf]


@pytest.mark.parametrize(
    "dtype, values, operation, operand",
    [
        # the first value is one that overflows
        (np.int32, [INT32_MAX, 0], "add", 1),
        (np.int32, [INT32_MIN, 5], "subtract", 1),
        (np.int32, [INT32_MIN], "multiply", -1),
        (np.int32, [2], "power", 31),
        (np.int32, [-3, 1], "power", 20),
        (np.int64, [2**62, -5], "multiply", 2),
        (np.int64, [INT64_MIN], "multiply", -1),
        (np.int64, [INT64_MAX, 1], "add", 1),
        (np.int64, [2], "power", 63),
        (np.int64, [-2, 1], "power", 2**62),
        (np.int64, [3, 0], "multiply", INT64_MAX),
    ],
)
def test_int_array_elements_outside_the_dtype_overflow(dtype, values, operation, operand):
    array = np.array(values, dtype=dtype)
    with np.errstate(all="ignore"):
        assert operation == "power" or PY_OPS[operation](array, operand)[0] != PY_OPS[operation](
            values[0], operand
        )  # numpy alone would wrap silently
    with pytest.raises(errors.NodeOverflowError):
        calc(operation, operand, array)
    with pytest.raises(errors.NodeOverflowError):  # numpy scalars are checked the same way
        calc(operation, operand, dtype(values[0]))


@pytest.mark.parametrize(
    "dtype, values, operation, operand",
    [
        (np.int32, [INT32_MIN + 1, INT32_MAX - 1], "add", 1),
        (np.int32, [-2], "power", 31),
        (np.int64, [-(2**62), 2**62 - 1], "multiply", 2),
        (np.int64, [INT64_MIN + 1, INT64_MAX], "multiply", -1),
        (np.int64, [-1, 0, 1], "power", 2**62 + 1),
        (np.int64, [-3, 3], "power", 39),
        (np.int64, [INT64_MIN], "add", 0),
    ],
)
def test_int_array_results_at_the_dtype_boundary_are_exact(dtype, values, operation, operand):
    result = calc(operation, operand, np.array(values, dtype=dtype))
    assert result.dtype == dtype
    assert result.tolist() == [PY_OPS[operation](v, operand) for v in values]


def test_float_arrays_follow_ieee_without_errors():
    assert math.isnan(calc("power", 1 / 3, np.array([-8.0]))[0])
    assert calc("multiply", 10, np.array([3e38], dtype=np.float32))[0] == np.inf
    assert calc("add", 1e300, np.array([1.0], dtype=np.float32))[0] == np.inf
    assert calc("power", 2, np.float32(3e38)) == np.inf
    assert calc("multiply", 1e308, np.array([2**62], dtype=np.int64))[0] == np.inf


def test_empty_and_multidimensional_arrays():
    empty = calc("multiply", INT32_MAX, np.array([], dtype=np.int32))
    assert empty.dtype == np.int32 and empty.shape == (0,)
    grid = np.arange(6, dtype=np.int64).reshape(2, 3)
    result = calc("subtract", 1, grid)
    assert result.shape == (2, 3) and result.tolist() == [[-1, 0, 1], [2, 3, 4]]


@given(
    st.sampled_from([np.int32, np.int64]),
    st.sampled_from(["add", "subtract", "multiply", "power", "modulo"]),
    st.lists(st.integers(INT32_MIN, INT32_MAX) | st.integers(INT64_MIN, INT64_MAX), max_size=8),
    st.integers(INT64_MIN, INT64_MAX) | st.integers(-3, 3),
)
def test_int_arrays_match_python_ints_element_by_element(dtype, operation, values, operand):
    info = np.iinfo(dtype)
    values = [v for v in values if info.min <= v <= info.max]
    if operation == "power":
        operand = abs(operand) % 70
    array = np.array(values, dtype=dtype)
    if not info.min <= operand <= info.max:
        expected = errors.NodeOverflowError
    elif operation == "modulo" and operand == 0:
        expected = errors.NodeZeroDivisionError
    else:
        exact = [PY_OPS[operation](v, operand) for v in values]
        fits = all(info.min <= r <= info.max for r in exact)
        expected = exact if fits else errors.NodeOverflowError
    if isinstance(expected, type):
        with pytest.raises(expected):
            calc(operation, operand, array)
    else:
        result = calc(operation, operand, array)
        assert result.dtype == dtype and result.tolist() == expected
