"""What a Python node costs inside a native pipeline (issue 4's two speed targets).

1. A Python node `x + 1` alone on the native runtime, against calling its `process` in a plain
   Python loop over the same 10,000 ints: the extra cost per item (target: at most 0.3 us).
2. The pipeline [native add 1, Python x + 1, native multiply 2] over 10,000 ints on the native
   runtime against the Python executor (target: native faster).

Outputs are checked equal before timing. Medians of --repeats runs.

    python -m remotemedia.benchmarks.python_nodes [--items 10000] [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from remotemedia import Node, Pipeline
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import CalculatorNode


class AddOne(Node):
    def process(self, x):
        return x + 1


def median_us(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1e3


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    items = list(range(args.items))

    node = AddOne("python_add")
    process = node.process
    alone = Pipeline([node])
    mixed = Pipeline([
        CalculatorNode(name="native_add", operation="add", operand=1),
        AddOne("python_add"),
        CalculatorNode(name="native_mul", operation="multiply", operand=2),
    ])
    with_passthrough = Pipeline([PassThroughNode(name="in"), AddOne("python_add"), PassThroughNode(name="out")])

    expected = [process(x) for x in items]
    checks = [
        alone.run_sync(items, runtime="native") == expected,
        with_passthrough.run_sync(items, runtime="native") == expected,
        mixed.run_sync(items, runtime="native") == mixed.run_sync(items, runtime="python")
        == [((x + 1) + 1) * 2 for x in items],
    ]
    if not all(checks):
        sys.exit("the runtimes disagree; not timing")

    r = args.repeats
    results = {
        "plain loop calling process": median_us(lambda: [process(x) for x in items], r),
        "Python node alone, native runtime": median_us(lambda: alone.run_sync(items, runtime="native"), r),
        "Python node alone, Python executor": median_us(lambda: alone.run_sync(items, runtime="python"), r),
        "[native, Python, native], native runtime": median_us(lambda: mixed.run_sync(items, runtime="native"), r),
        "[native, Python, native], Python executor": median_us(lambda: mixed.run_sync(items, runtime="python"), r),
    }
    n = args.items
    print(f"{n} ints, median of {r} runs")
    for name, us in results.items():
        print(f"  {name:44s} {us:10.1f} us")
    extra = (results["Python node alone, native runtime"] - results["plain loop calling process"]) / n * 1e3
    speedup = results["[native, Python, native], Python executor"] / results["[native, Python, native], native runtime"]
    print(f"  extra cost per item inside a native pipeline  {extra:8.1f} ns   (target: <= 300 ns)")
    print(f"  mixed pipeline, native vs Python executor      {speedup:8.2f}x   (target: > 1x)")
    return {"medians_us": results, "extra_ns_per_item": extra, "mixed_speedup": speedup}


if __name__ == "__main__":
    main()
