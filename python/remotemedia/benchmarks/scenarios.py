"""The seed's six benchmark scenarios, exactly as its results document describes them.

The node lists are those of ``examples/manifests/seed_*.json`` (a test checks they match), built
here in code so the harness also runs from an installed wheel, where ``examples/`` is absent. The
inputs are the seed's: the ints ``1..n`` (its ``[1, 2, 3, ..., 100]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from remotemedia.core.node import Node
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import OPERATIONS, CalculatorNode

__all__ = ["Scenario", "SCENARIOS", "SEED_PUBLISHED", "numpy_expression"]


def _simple() -> list[Node]:
    return [PassThroughNode(name=f"p{i}") for i in (1, 2, 3)]


def _medium() -> list[Node]:
    return [
        PassThroughNode(name="p1"),
        CalculatorNode(name="add5", operation="add", operand=5),
        PassThroughNode(name="p2"),
        CalculatorNode(name="mul2", operation="multiply", operand=2),
        PassThroughNode(name="p3"),
    ]


def _complex() -> list[Node]:
    return [
        PassThroughNode(name="pass_in"),
        CalculatorNode(name="add10", operation="add", operand=10),
        PassThroughNode(name="pass_a"),
        CalculatorNode(name="mul3", operation="multiply", operand=3),
        CalculatorNode(name="sub7", operation="subtract", operand=7),
        PassThroughNode(name="pass_b"),
        CalculatorNode(name="mod100", operation="modulo", operand=100),
        CalculatorNode(name="div4", operation="divide", operand=4),
        CalculatorNode(name="pow2", operation="power", operand=2),
        PassThroughNode(name="pass_out"),
    ]


def _calc_heavy() -> list[Node]:
    return [
        CalculatorNode(name="add1", operation="add", operand=1),
        CalculatorNode(name="mul2", operation="multiply", operand=2),
        CalculatorNode(name="sub3", operation="subtract", operand=3),
        CalculatorNode(name="mul1_5", operation="multiply", operand=1.5),
        CalculatorNode(name="div2", operation="divide", operand=2),
        CalculatorNode(name="mod7", operation="modulo", operand=7),
        CalculatorNode(name="pow2", operation="power", operand=2),
    ]


@dataclass(frozen=True)
class Scenario:
    key: str  # for --scenarios and the JSON
    title: str  # the seed's row label
    manifest: str  # examples/manifests/<manifest>
    items: int  # the seed's item count
    make_nodes: Callable[[], list[Node]]

    def inputs(self, n_items: int) -> tuple[list[int], np.ndarray]:
        """The seed's input, ``[1, 2, ..., n]``, as a list and as a 1-D int64 array."""
        return list(range(1, n_items + 1)), np.arange(1, n_items + 1, dtype=np.int64)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("simple_10", "Simple (3n, 10i)", "seed_simple.json", 10, _simple),
    Scenario("simple_100", "Simple (3n, 100i)", "seed_simple.json", 100, _simple),
    Scenario("medium", "Medium (5n, 100i)", "seed_medium.json", 100, _medium),
    Scenario("complex", "Complex (10n, 100i)", "seed_complex.json", 100, _complex),
    Scenario("calc_heavy", "Calc-Heavy (7n, 100i)", "seed_calc_heavy.json", 100, _calc_heavy),
    Scenario("large", "Large (3n, 1000i)", "seed_simple.json", 1000, _simple),
)

# The seed's published table (its "Full Comparison Table"): CPython executor and Rust runtime in
# milliseconds, and the speedup. Windows, other hardware, and a Python executor that spent about
# 60 us per node per item on queues, thread hops and logging.
SEED_PUBLISHED: dict[str, tuple[float, float, float]] = {
    "simple_10": (2.71, 0.13, 20.31),
    "simple_100": (18.24, 0.15, 125.46),
    "medium": (26.91, 0.17, 155.00),
    "complex": (48.98, 0.22, 220.97),
    "calc_heavy": (36.45, 0.22, 168.66),
    "large": (185.72, 0.28, 661.58),
}


def numpy_expression(nodes: list[Node]) -> Callable[[np.ndarray], np.ndarray] | None:
    """The chain as one vectorised numpy expression (what a numpy user would write), or None when
    there is nothing to compute (PassThrough only: the honest baseline is doing nothing). It wraps
    on int overflow where the pipeline raises; the harness checks it gives the same outputs."""
    steps = [
        (OPERATIONS[n.operation], n.operand) for n in nodes if isinstance(n, CalculatorNode)
    ]
    if not steps:
        return None

    def expression(a: np.ndarray) -> np.ndarray:
        for op, operand in steps:
            a = op(a, operand)
        return a

    return expression
