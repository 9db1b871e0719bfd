"""What keeping the event loop free costs and gives (docs/SEMANTICS.md, "Runs and the event loop";
docs/PERFORMANCE.md records a run):

- per run: ``await run`` of 3 ints through a native node (stays on the loop), the same run forced
  through a worker thread, and ``run_sync`` for reference;
- ticks of a 2 ms ticker task during an awaited native run of --items ints (a blocked loop: 0);
- wall time of ten gathered runs of a pipeline with a 50 ms async Python node, native and on the
  Python executor (one after another would be 0.5 s);
- per item of an asyncio stream through a Python node and a native node: the default (Python
  nodes on the worker pool, the loop free) against ``threaded=False`` (the node code runs on the
  loop's thread), and ``stream_sync``.

Medians over --repeats.

    python -m remotemedia.benchmarks.event_loop [--items 1000000] [--stream-items 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any, Callable

from remotemedia import Node, Pipeline, _native
from remotemedia.core.session import Session
from remotemedia.nodes import CalculatorNode, MapNode

__all__ = ["main", "ticks_during"]


class _Sleep50(Node):
    async def process(self, x):
        await asyncio.sleep(0.05)
        return x


class _Inc(Node):
    def process(self, x):
        return x + 1


def _per_call_us(fn: Callable[[], Any], calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e6


async def _per_await_us(make, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        await make()
    return (time.perf_counter() - t0) / calls * 1e6


async def ticks_during(coroutine) -> tuple[Any, int, float]:
    """The coroutine's result, how often a 2 ms ticker task ticked while it ran (a blocked event
    loop: once at most), and how long it took."""
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    t0 = time.perf_counter()
    try:
        result = await coroutine
    finally:
        task.cancel()
    return result, ticks, time.perf_counter() - t0


async def _stream_us(pipeline: Pipeline, n: int, threaded: bool | None) -> float:
    t0 = time.perf_counter()
    async with Session(pipeline, "native", 64, threaded=threaded) as s:
        async def produce():
            for i in range(n):
                await s.send(i)
            await s.end()

        task = asyncio.create_task(produce())
        count = 0
        async for _ in s:
            count += 1
        await task
    if count != n:
        raise AssertionError(f"{count} outputs for {n} items")
    return (time.perf_counter() - t0) / n * 1e6


async def _measure(args) -> dict[str, list[float]]:
    small = Pipeline([CalculatorNode(operation="add", operand=1)])
    compiled = small._compiled("native")
    long_run = Pipeline([MapNode(expression="item * 2 + 1"), CalculatorNode(operation="add", operand=1)])
    items = list(range(args.items))
    gathered = Pipeline([_Sleep50("sleep"), CalculatorNode(operation="add", operand=1)])
    through_python = Pipeline([_Inc("inc"), CalculatorNode(operation="add", operand=1)])
    small.run_sync([1, 2, 3], runtime="native")
    out: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        out.setdefault(name, []).append(value)

    for _ in range(args.repeats):
        add("await run, 3 ints (us, inline)", await _per_await_us(lambda: small.run([1, 2, 3], runtime="native"), 2000))
        add("await run, 3 ints via a worker thread (us)",
            await _per_await_us(lambda: _native.run_compiled_async(compiled, [1, 2, 3]), 2000))
        add("run_sync, 3 ints (us)", _per_call_us(lambda: small.run_sync([1, 2, 3], runtime="native"), 2000))
        _, ticks, took = await ticks_during(long_run.run(items, runtime="native"))
        add(f"ticks during an awaited run of {args.items} ints", ticks)
        add("  that awaited run (s)", took)
        add("  the same run by run_sync (s)", _per_call_us(lambda: long_run.run_sync(items, runtime="native"), 1) / 1e6)
        for runtime in ("native", "python"):
            t0 = time.perf_counter()
            await asyncio.gather(*(gathered.run([i], runtime=runtime) for i in range(10)))
            add(f"10 gathered runs with a 50 ms async node, {runtime} (s)", time.perf_counter() - t0)
        add("stream via Python + native node, default (us/item)", await _stream_us(through_python, args.stream_items, None))
        add("stream via Python + native node, threaded=False (us/item)",
            await _stream_us(through_python, args.stream_items, False))
        add("stream via a native node, default (us/item)",
            await _stream_us(small, args.stream_items, None))
        t0 = time.perf_counter()
        for _ in through_python.stream_sync(range(args.stream_items), runtime="native"):
            pass
        add("stream_sync via Python + native node (us/item)", (time.perf_counter() - t0) / args.stream_items * 1e6)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="ints in the long awaited run")
    parser.add_argument("--stream-items", type=int, default=20_000, help="items per stream measurement")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; medians are reported")
    args = parser.parse_args(argv)
    _native.require_runtime()
    figures = asyncio.run(_measure(args))
    medians = {name: statistics.median(values) for name, values in figures.items()}
    width = max(map(len, medians))
    print(f"median of {args.repeats} repeats")
    for name, value in medians.items():
        print(f"  {name:<{width}}  {value:10.2f}")
    return {"medians": medians}


if __name__ == "__main__":
    main(sys.argv[1:])
