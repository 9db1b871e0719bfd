"""Per-item latency of a streaming session from Python asyncio (issue 6: a 5-node native session,
p50 at most 30 us from send to output received).

One item at a time: ``await s.send(i)``, then ``await anext(s)`` for its output; the time between
the two is the item's latency as a Python consumer sees it. The "consumer task" cases read the
outputs in another task, so each output also wakes that task through the event loop. Each repeat opens a session, sends
--warmup items untimed and --items timed; the figures are the medians over --repeats of each
repeat's p50 and p99 (exact percentiles of the samples). The same on the native session processing
on the worker pool (``threaded=True``: a thread hop each way), on the Python executor, and, for
reference, a ``SyncSession`` and the C++ session's own push-to-output latency (its metrics).

    python -m remotemedia.benchmarks.session_latency [--items 5000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

from remotemedia import Pipeline, _native
from remotemedia.core.session import Session, SyncSession
from remotemedia.nodes import CalculatorNode, MapNode, PassThroughNode

__all__ = ["main"]


def five_nodes() -> Pipeline:
    return Pipeline([
        PassThroughNode(name="in"),
        CalculatorNode(name="add", operation="add", operand=1),
        CalculatorNode(name="mul", operation="multiply", operand=2),
        MapNode(name="minus", expression="item - 1"),
        PassThroughNode(name="out"),
    ])


def expected(i: int) -> int:
    return (i + 1) * 2 - 1


def percentile(sorted_samples: list[int], q: float) -> float:
    return sorted_samples[min(len(sorted_samples) - 1, int(q * len(sorted_samples)))]


async def one_async(runtime: str, threaded: bool, warmup: int, items: int) -> tuple[list[int], dict]:
    perf = time.perf_counter_ns
    samples = []
    async with Session(five_nodes(), runtime, 64, threaded=threaded) as s:
        for i in range(warmup + items):
            t0 = perf()
            await s.send(i)
            out = await s.__anext__()
            t1 = perf()
            if out != expected(i):
                raise AssertionError(f"item {i}: got {out!r}")
            if i >= warmup:
                samples.append(t1 - t0)
        metrics = s.metrics()
    return samples, metrics


async def two_tasks(runtime: str, threaded: bool, warmup: int, items: int) -> tuple[list[int], dict]:
    """A producer task and a consumer task: each output wakes the consumer through the loop."""
    perf = time.perf_counter_ns
    samples = []
    loop = asyncio.get_running_loop()
    async with Session(five_nodes(), runtime, 64, threaded=threaded) as s:
        received: asyncio.Future = loop.create_future()

        async def consume() -> None:
            nonlocal received
            async for out in s:
                t1 = perf()
                received.set_result((out, t1))

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0)  # the consumer waits for the first output
        for i in range(warmup + items):
            received = loop.create_future()
            t0 = perf()
            await s.send(i)
            out, t1 = await received
            if out != expected(i):
                raise AssertionError(f"item {i}: got {out!r}")
            if i >= warmup:
                samples.append(t1 - t0)
        await s.end()
        await consumer
        metrics = s.metrics()
    return samples, metrics


def one_sync(runtime: str, warmup: int, items: int) -> tuple[list[int], dict]:
    perf = time.perf_counter_ns
    samples = []
    with SyncSession(five_nodes(), runtime, 64) as s:
        for i in range(warmup + items):
            t0 = perf()
            s.send(i)
            out = next(s)
            t1 = perf()
            if out != expected(i):
                raise AssertionError(f"item {i}: got {out!r}")
            if i >= warmup:
                samples.append(t1 - t0)
        metrics = s.metrics()
    return samples, metrics


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    module = _native.runtime_module()
    native = module is not None and hasattr(module, "NativeSession")
    cases: dict[str, Any] = {}
    if native:
        cases["native, asyncio"] = lambda: asyncio.run(one_async("native", False, args.warmup, args.items))
        cases["native, asyncio, consumer task"] = lambda: asyncio.run(two_tasks("native", False, args.warmup, args.items))
        cases["native on the worker pool, asyncio"] = lambda: asyncio.run(one_async("native", True, args.warmup, args.items))
        cases["native, SyncSession"] = lambda: one_sync("native", args.warmup, args.items)
    cases["Python executor, asyncio"] = lambda: asyncio.run(one_async("python", False, args.warmup, args.items))
    cases["Python executor, asyncio, consumer task"] = lambda: asyncio.run(two_tasks("python", False, args.warmup, args.items))
    cases["Python executor, SyncSession"] = lambda: one_sync("python", args.warmup, args.items)

    results: dict[str, dict[str, float]] = {}
    inner: list[float] = []
    for name, case in cases.items():
        p50s, p99s = [], []
        for _ in range(args.repeats):
            samples, metrics = case()
            samples.sort()
            p50s.append(percentile(samples, 0.50) / 1e3)
            p99s.append(percentile(samples, 0.99) / 1e3)
            if name == "native, asyncio":
                inner.append(metrics["latency_us"]["p50"])
        results[name] = {"p50_us": statistics.median(p50s), "p99_us": statistics.median(p99s)}

    print(f"5-node session, send -> output received, {args.items} items one at a time; "
          f"medians of {args.repeats} sessions")
    for name, r in results.items():
        print(f"  {name:42s} p50 {r['p50_us']:8.2f} us   p99 {r['p99_us']:8.2f} us")
    report: dict[str, Any] = {"latency_us": results}
    if native:
        report["native_session_p50_us"] = statistics.median(inner)
        print(f"  (inside the C++ session, push to output: p50 {report['native_session_p50_us']:.2f} us)")
        p50 = results["native, asyncio"]["p50_us"]
        print(f"  native from asyncio: p50 {p50:.2f} us   (target: <= 30 us)  "
              f"{'met' if p50 <= 30 else 'NOT met'}")
    return report


if __name__ == "__main__":
    main()
    sys.exit(0)
