"""CalculatorNode: one arithmetic operation with a constant operand (docs/SEMANTICS.md).

Faults are checked in this order, and the native node checks them in the same order, so both
executors raise the same error for an item with several faults:

- Python numbers: not numeric (NodeTypeError); an int item outside int64 (NodeOverflowError); ``/``
  or ``%`` by a zero operand (NodeZeroDivisionError); a finite negative base to a non-integer
  power (NodeValueError, even where Python's complex result would overflow); then the operation
  itself (``0 ** negative``: NodeZeroDivisionError; an int result outside int64 or a float ``**``
  too large: NodeOverflowError).
- numpy arrays and scalars: a dtype other than int32/int64/float32/float64 (NodeTypeError); an int
  operand that does not fit an int dtype (NodeOverflowError); ``/`` or ``%`` by a zero operand
  (NodeZeroDivisionError); an int dtype to a negative int power (NodeValueError); an element of an
  int result outside the dtype (NodeOverflowError).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from remotemedia.core.expression import _MODELLED_DTYPES, _type_name
from remotemedia.core.node import Node
from remotemedia.core.params import INT64_MAX, INT64_MIN, ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import (
    NodeOverflowError,
    NodeTypeError,
    NodeValueError,
    NodeZeroDivisionError,
)

__all__ = ["Arithmetic", "CalculatorNode", "OPERATIONS"]

OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "power": operator.pow,
    "modulo": operator.mod,
}
# With floor division, which the expression language (not the node) offers.
_ALL_OPERATIONS = {**OPERATIONS, "floor_divide": operator.floordiv}
_SYMBOLS = {
    "add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**", "modulo": "%",
    "floor_divide": "//",
}

_ARRAY_DTYPES = tuple(map(np.dtype, (np.int32, np.int64, np.float32, np.float64)))
_INT_BOUNDS = {
    np.dtype(np.int32): (-(2**31), 2**31 - 1),
    np.dtype(np.int64): (INT64_MIN, INT64_MAX),
}


def _exact_int(op: Callable[[int, int], int], a: int, b: int, lo: int, hi: int) -> int | None:
    """``a op b`` computed on Python ints, or None when it falls outside ``[lo, hi]``."""
    if op is operator.pow and b > 64 and not -1 <= a <= 1:
        return None  # |a| ** b >= 2 ** 65: out of range; don't build a huge int to find that out
    result = op(a, b)
    return result if lo <= result <= hi else None


def _base(x: int | float | bool) -> str:
    """A power's base as Python writes it: a negative one in parentheses ("(-8) ** 0.5")."""
    text = repr(int(x) if type(x) is bool else x)
    return f"({text})" if x < 0 else text


class Arithmetic:
    """``x <operation> operand`` with the Calculator's rules: the operand is fixed, the checks that
    depend only on it are made once. CalculatorNode is one; the expression language
    (remotemedia.core.expression) makes others, including ``floor_divide`` (``//``), which the node
    itself does not offer."""

    def __init__(self, operation: str, operand: int | float) -> None:
        self._setup_arithmetic(operation, operand)

    def _setup_arithmetic(self, operation: str, operand: int | float) -> None:
        self._op = _ALL_OPERATIONS[operation]
        self._symbol = _SYMBOLS[operation]
        self._operand = operand
        int_operand = type(operand) is int
        self._zero_divisor = operation in ("divide", "modulo", "floor_divide") and operand == 0
        # The int op int cases whose result is an int that may outgrow int64 (or an int dtype).
        self._exact_int_op = int_operand and (
            operation in ("add", "subtract", "multiply")
            or (operation == "floor_divide" and operand != 0)
            or (operation == "power" and operand >= 0)
        )
        self._negative_int_power = int_operand and operation == "power" and operand < 0
        # (inf and nan are not fractional: CPython's float_pow gives them a result.)
        self._fractional_power = (
            operation == "power"
            and not int_operand
            and math.isfinite(operand)
            and not operand.is_integer()
        )

    def apply(self, item: Any) -> Any:
        t = type(item)
        if t is int or t is float or t is bool:
            return self._number(item)
        if (t is np.ndarray or isinstance(item, np.generic)) and item.dtype in _MODELLED_DTYPES:
            return self._numpy(item)
        # Other dtypes, like any value outside the model, are opaque objects to the native runtime.
        raise NodeTypeError(
            f"unsupported operand type {_type_name(item)} (expected int, float or a numeric numpy array)"
        )

    def _number(self, x: int | float | bool) -> int | float:
        operand = self._operand
        if type(x) is not float:
            if not INT64_MIN <= x <= INT64_MAX:
                # Without the value: the native runtime holds such an int as an opaque object.
                raise NodeOverflowError("int too large to convert to int64")
            if self._exact_int_op:
                result = _exact_int(self._op, x, operand, INT64_MIN, INT64_MAX)
                if result is None:
                    raise NodeOverflowError(f"{int(x)} {self._symbol} {operand} does not fit in int64")
                return result
        if self._zero_divisor:
            raise NodeZeroDivisionError(self._zero_divisor_message())
        if self._fractional_power and -math.inf < x < 0:
            # Where CPython's float_pow turns to complex power (whose result may then overflow).
            raise NodeValueError(
                f"{_base(x)} ** {operand!r}: a negative base to a fractional power has no real result"
            )
        try:
            return self._op(x, operand)
        except ZeroDivisionError:  # only 0 ** negative: / and % by zero are caught above
            # CPython's own words, which the native runtime uses too.
            raise NodeZeroDivisionError("0.0 cannot be raised to a negative power") from None
        except OverflowError:
            raise NodeOverflowError(f"{_base(x)} ** {operand!r} is too large for a float") from None

    def _numpy(self, x: np.ndarray | np.generic) -> Any:
        dtype = x.dtype
        if dtype not in _ARRAY_DTYPES:
            raise NodeTypeError(f"unsupported dtype {dtype} (expected int32, int64, float32 or float64)")
        operand = self._operand
        bounds = _INT_BOUNDS.get(dtype)
        int_by_int = bounds is not None and type(operand) is int
        if int_by_int and not bounds[0] <= operand <= bounds[1]:
            raise NodeOverflowError(f"Python integer {operand} out of bounds for {dtype}")  # numpy's words
        if self._zero_divisor:
            raise NodeZeroDivisionError(self._zero_divisor_message())
        if int_by_int:
            if self._negative_int_power:
                raise NodeValueError("integers to negative integer powers are not allowed")  # numpy's words
            if self._exact_int_op and x.size:
                # numpy wraps silently; the extreme results come from the extreme elements.
                if type(x) is np.ndarray:
                    low, high = int(x.min()), int(x.max())
                else:
                    low = high = int(x)
                lo, hi = bounds
                if (
                    _exact_int(self._op, low, operand, lo, hi) is None
                    or _exact_int(self._op, high, operand, lo, hi) is None
                ):
                    raise NodeOverflowError(
                        f"{dtype} {self._symbol} {operand}: a result does not fit in {dtype}"
                    )
            # The checks above leave no floating-point fault to silence: skip errstate's cost.
            result = self._op(x, operand)
        else:
            with np.errstate(all="ignore"):
                result = self._op(x, operand)
        # numpy turns a 0-d array result into a scalar; an array item keeps giving an array.
        return np.asarray(result) if type(x) is np.ndarray else result

    def _zero_divisor_message(self) -> str:
        return "modulo by zero" if self._op is operator.mod else "division by zero"


@register_node_type(aliases=("Calculator",))
class CalculatorNode(Node, Arithmetic):
    """Applies one arithmetic operation with a constant operand to numbers and numeric arrays."""

    PARAMS = (
        ParamSpec(
            "operation",
            "string",
            required=True,
            choices=tuple(OPERATIONS),
            description="The operation: add, subtract, multiply, divide, power or modulo.",
        ),
        ParamSpec(
            "operand", "number", required=True, description="The right-hand operand (int or float)."
        ),
    )

    def __init__(self, name: str | None = None, **params: Any) -> None:
        super().__init__(name, **params)
        self.operation: str = params["operation"]
        self.operand: int | float = params["operand"]
        self._setup_arithmetic(self.operation, self.operand)

    process = Arithmetic.apply
