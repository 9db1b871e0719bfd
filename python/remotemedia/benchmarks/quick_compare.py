"""A short side-by-side comparison: three PassThrough nodes over 1000 ints.

Columns: the best plain Python loop over the same node objects, the Python executor, and the
native runtime (list input, and a numpy array input that stays a column). Every column is checked
to give the same outputs before anything is timed. Prints medians and ratios.

    python -m remotemedia.benchmarks.quick_compare [--items 1000] [--repeats 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import numpy as np

from remotemedia import Pipeline
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import CalculatorNode


def plain_loop(nodes, items):
    """What a user would write without a framework: a direct loop over the nodes."""
    out = []
    for x in items:
        for node in nodes:
            x = node.process(x)
        out.append(x)
    return out


async def _time_async(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        await fn()
        samples.append((time.perf_counter_ns() - t0) / 1e3)
    return samples


def _time_sync(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e3)
    return samples


def _same(a, b) -> bool:
    return len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b))


async def compare(title: str, nodes, n_items: int, repeats: int, numpy_equivalent=None) -> dict:
    """``numpy_equivalent``: the same computation as one vectorised numpy expression (what a numpy
    user would write; it wraps on int overflow where the pipeline raises)."""
    pipeline = Pipeline(nodes=list(nodes), name=title)
    items = list(range(n_items))
    column = np.arange(n_items, dtype=np.int64)

    reference = plain_loop(nodes, items)
    py_out = await pipeline.run(items, runtime="python")
    native_out = await pipeline.run(items, runtime="native")
    native_col = await pipeline.run(column, runtime="native")
    py_col = await pipeline.run(column, runtime="python")
    if not (_same(reference, py_out) and _same(reference, native_out)):
        sys.exit(f"{title}: the executors disagree on a list input; not timing")
    if not (np.array_equal(np.asarray(reference), native_col) and np.array_equal(native_col, py_col)):
        sys.exit(f"{title}: the executors disagree on a numpy input; not timing")

    for _ in range(10):  # warm-up
        await pipeline.run(items, runtime="native")
        await pipeline.run(items, runtime="python")
    cols = {
        "plain loop (list)": _time_sync(lambda: plain_loop(nodes, items), repeats),
        "plain loop (numpy)": _time_sync(lambda: plain_loop(nodes, column), repeats),
        "python executor (list)": await _time_async(lambda: pipeline.run(items, runtime="python"), repeats),
        "python executor (numpy)": await _time_async(lambda: pipeline.run(column, runtime="python"), repeats),
        "native (list)": await _time_async(lambda: pipeline.run(items, runtime="native"), repeats),
        "native (numpy)": await _time_async(lambda: pipeline.run(column, runtime="native"), repeats),
    }
    if numpy_equivalent is not None:
        if not np.array_equal(numpy_equivalent(column), native_col):
            sys.exit(f"{title}: the numpy expression disagrees with the pipeline; not timing")
        cols["numpy expression"] = _time_sync(lambda: numpy_equivalent(column), repeats)
    med = {k: statistics.median(v) for k, v in cols.items()}
    print(f"\n{title}: {len(nodes)} nodes x {n_items} items, median of {repeats} runs")
    for k, v in med.items():
        print(f"  {k:26s} {v:10.1f} us")
    ratios = {
        "native(list) vs python executor(list)": med["python executor (list)"] / med["native (list)"],
        "native(list) vs plain loop(list)": med["plain loop (list)"] / med["native (list)"],
        "native(numpy) vs python executor(list)": med["python executor (list)"] / med["native (numpy)"],
        "native(numpy) vs python executor(numpy)": med["python executor (numpy)"] / med["native (numpy)"],
        "native(numpy) vs plain loop(numpy)": med["plain loop (numpy)"] / med["native (numpy)"],
    }
    if numpy_equivalent is not None:
        ratios["native(numpy) vs numpy expression"] = med["numpy expression"] / med["native (numpy)"]
    for k, v in ratios.items():
        print(f"  {k:42s} {v:8.1f}x")
    return {"medians_us": med, "ratios": ratios}


async def main_async(args) -> None:
    await compare("3 x PassThrough", [PassThroughNode(name=f"p{i}") for i in range(3)], args.items, args.repeats)
    medium = [
        PassThroughNode(name="p1"),
        CalculatorNode(name="add", operation="add", operand=5),
        PassThroughNode(name="p2"),
        CalculatorNode(name="mul", operation="multiply", operand=2),
        PassThroughNode(name="p3"),
    ]
    await compare("Medium (seed)", medium, args.items, args.repeats, lambda a: (a + 5) * 2)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=300)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
