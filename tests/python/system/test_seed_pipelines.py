"""The seed's six benchmark scenarios give identical outputs on both executors, equal to values
computed here independently with plain Python arithmetic. Also the seed's "For Users" snippet."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Pipeline  # noqa: E402

MANIFESTS = Path(__file__).resolve().parents[3] / "examples" / "manifests"


def medium(x):
    return (x + 5) * 2


def complex_(x):
    return ((((x + 10) * 3 - 7) % 100) / 4) ** 2


def calc_heavy(x):
    return (((((x + 1) * 2 - 3) * 1.5) / 2) % 7) ** 2


SCENARIOS = [
    ("Simple (3n, 10i)", "seed_simple.json", 10, lambda x: x),
    ("Simple (3n, 100i)", "seed_simple.json", 100, lambda x: x),
    ("Medium (5n, 100i)", "seed_medium.json", 100, medium),
    ("Complex (10n, 100i)", "seed_complex.json", 100, complex_),
    ("Calc-Heavy (7n, 100i)", "seed_calc_heavy.json", 100, calc_heavy),
    ("Large (3n, 1000i)", "seed_simple.json", 1000, lambda x: x),
]


@pytest.mark.parametrize("title,manifest,n_items,formula", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_seed_scenario_identical_on_both_executors(title, manifest, n_items, formula):
    pipeline = Pipeline.from_manifest((MANIFESTS / manifest).read_text())
    items = list(range(n_items))
    expected = [formula(x) for x in items]
    native = pipeline.run_sync(items, runtime="native")
    python = pipeline.run_sync(items, runtime="python")
    assert native == expected
    assert python == expected
    assert [type(v) for v in native] == [type(v) for v in expected]
    assert [type(v) for v in python] == [type(v) for v in expected]


def test_seed_scenarios_are_not_trivial():
    """Guards the test above: the formulas really transform the items (an identity bug would pass)."""
    assert medium(3) == 16 and complex_(3) == 64.0 and calc_heavy(3) == 14.0625


async def test_seed_for_users_snippet_runs_as_written():
    from remotemedia.nodes.base import PassThroughNode
    from remotemedia.nodes.calculator import CalculatorNode

    pipeline = Pipeline("fast")
    pipeline.add_node(PassThroughNode(name="p1"))
    pipeline.add_node(CalculatorNode(name="calc", operation="add", operand=5))

    result = await pipeline.run(list(range(1, 101)))
    assert result == [x + 5 for x in range(1, 101)]
    assert await pipeline.run(list(range(1, 101)), use_rust=False) == result
