"""Division and modulo by zero say the same thing on both runtimes (docs/SEMANTICS.md): "division
by zero" for ``/`` and ``//``, "modulo by zero" for ``%``, whatever the operands (int, float, bool,
numpy), in the Calculator and in expressions (MapNode, FilterNode, ...). CPython's own wording
changes between versions, so it is not the reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from remotemedia import Pipeline, _native, errors
from remotemedia.nodes import CalculatorNode, FilterNode, MapNode

pytestmark = pytest.mark.skipif(_native.runtime_module() is None, reason="no native runtime")

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "expressions.json").read_text(encoding="utf-8")
)["cases"]
MESSAGE_VECTORS = [c for c in VECTORS if "error" in c and "message" in c]


def outcome(pipeline_factory, item, runtime):
    try:
        return "ok", pipeline_factory().run_sync([item], runtime=runtime)
    except errors.NodeError as exc:
        return type(exc), str(exc), exc.node_id, exc.item_index


def test_the_vectors_pin_the_messages_of_every_zero_divisor():
    # // and % by zero, int and float on either side, each with its message.
    by_zero = [c for c in MESSAGE_VECTORS if c["error"] == "NodeZeroDivisionError"]
    for symbol in ("/", "//", "%"):
        assert len([c for c in by_zero if f" {symbol} " in c["expr"]]) >= 4, symbol
    assert {c["message"] for c in by_zero} == {"division by zero", "modulo by zero"}


@pytest.mark.parametrize("case", MESSAGE_VECTORS, ids=[c["expr"] for c in MESSAGE_VECTORS])
def test_vector_messages_on_both_runtimes(case):
    def make():
        return Pipeline([MapNode(name="m", expression=case["expr"])])

    expected = (getattr(errors, case["error"]), f"node 'm' (MapNode) failed on item 0: {case['message']}", "m", 0)
    assert outcome(make, case["item"], "python") == expected
    assert outcome(make, case["item"], "native") == expected


NUMBERS = [3, -3, 0, True, 2.5, -0.0, np.int64(7), np.int32(-7), np.float32(1.5), np.float64(2.0)]
ARRAYS = [np.arange(4, dtype=np.int32), np.arange(4, dtype=np.int64), np.linspace(-1, 1, 3),
          np.ones(2, dtype=np.float32)]


@pytest.mark.parametrize("expression", [
    "item / 0", "item // 0", "item % 0", "item / 0.0", "item // 0.0", "item % 0.0",
    "10 // (item * 0)", "10.5 % (item - item)", "item // (item * 0)",
])
@pytest.mark.parametrize("item", NUMBERS + ARRAYS, ids=repr)
def test_expressions_by_zero_agree(expression, item):
    def make():
        return Pipeline([MapNode(name="m", expression=expression)])

    python = outcome(make, item, "python")
    assert python[0] is errors.NodeZeroDivisionError
    assert python[1].endswith("modulo by zero" if "%" in expression else "division by zero"), python
    assert outcome(make, item, "native") == python


@pytest.mark.parametrize("operation", ["divide", "modulo"])
@pytest.mark.parametrize("operand", [0, 0.0, -0.0])
@pytest.mark.parametrize("item", NUMBERS + ARRAYS, ids=repr)
def test_calculator_by_zero_agrees(operation, operand, item):
    def make():
        return Pipeline([CalculatorNode(name="c", operation=operation, operand=operand)])

    word = "modulo" if operation == "modulo" else "division"
    expected = (errors.NodeZeroDivisionError, f"node 'c' (CalculatorNode) failed on item 0: {word} by zero", "c", 0)
    assert outcome(make, item, "python") == expected
    assert outcome(make, item, "native") == expected


def test_a_condition_by_zero_agrees():
    def make():
        return Pipeline([FilterNode(name="f", condition="item // (item - 1) > 0")])

    for runtime in ("python", "native"):
        with pytest.raises(errors.NodeZeroDivisionError) as caught:
            make().run_sync([3, 2, 1.0, 0], runtime=runtime)
        assert str(caught.value) == "node 'f' (FilterNode) failed on item 2: division by zero"


ZERO_POWER_CASES = [
    (lambda: Pipeline([MapNode(name="z", expression="item ** -1")]), [0, 0.0, -0.0, False]),
    (lambda: Pipeline([MapNode(name="z", expression="0.0 ** item")]), [-1, -0.5, -3]),
    (lambda: Pipeline([CalculatorNode(name="z", operation="power", operand=-1)]), [0, 0.0, -0.0, False]),
    (lambda: Pipeline([CalculatorNode(name="z", operation="power", operand=-2.5)]), [0, 0.0, -0.0]),
]


@pytest.mark.parametrize("make, item", [(m, i) for m, items in ZERO_POWER_CASES for i in items])
def test_zero_to_a_negative_power_agrees(make, item):
    expected = outcome(make, item, "python")
    assert expected[0] is errors.NodeZeroDivisionError
    assert expected[1].endswith("0.0 cannot be raised to a negative power")  # CPython's words
    assert outcome(make, item, "native") == expected
