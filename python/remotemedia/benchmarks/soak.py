"""Soak run of streaming sessions (issue 6): many sessions at once for a given time, every item
accounted for.

Asyncio tasks (``Session``, a producer task and a consumer each) and threads (``SyncSession`` fed
from a second thread) open session after session until the time is up, on every available engine
(Python executor, native, native on the worker pool), each with its own pipeline of native and
Python nodes, a random capacity, item count and consumer speed. Each session's outputs are checked
against the expected ones, in order: an item missing at the end is *lost*, a wrong, duplicated or
reordered one is *mismatched*. Some sessions are cancelled halfway on purpose and some contain a
node that fails on a chosen item (then the outputs before the error and the error itself are
checked). Reports items sent / received, lost (must be 0), mismatched (must be 0), per-item
latency (send accepted -> output received, from Python), throughput, and the process's threads
and memory before and after. Exit status 1 when anything was lost, mismatched or unexpected.

    python -m remotemedia.benchmarks.soak --seconds 60 [--tasks 32] [--threads 4] [--max-items 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import threading
import time
from typing import Any

from remotemedia import Node, Pipeline, _native
from remotemedia.core.histogram import LogHistogram
from remotemedia.core.session import Session, SyncSession
from remotemedia.nodes import CalculatorNode, FilterNode, MapNode, PassThroughNode

__all__ = ["main"]


class CheckOrder(Node):
    """Stateful Python node: its items must be consecutive ints (a lost or reordered item inside
    the pipeline fails the session)."""

    def initialize(self):
        self.expected = None

    def process(self, x):
        if self.expected is not None and x != self.expected:
            raise AssertionError(f"item {x} arrived where {self.expected} was due")
        self.expected = x + 1
        return x


class AsyncPlusOne(Node):
    async def process(self, x):
        return x + 1


class FailAt(Node):
    def __init__(self, name=None, at=0, **kw):
        super().__init__(name, **kw)
        self.at = at

    def process(self, x):
        if x == self.at:
            raise ValueError(f"planned failure on {x}")
        return x


class Stats:
    """Counters shared by every worker (one lock; updated once per session)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions = 0
        self.by_engine: dict[str, int] = {}
        self.sent = 0
        self.received = 0
        self.expected = 0
        self.lost = 0
        self.mismatched = 0
        self.cancelled = 0
        self.failed_as_planned = 0
        self.unexpected: list[str] = []
        self.latency_ns = LogHistogram()

    def add(self, engine: str, sent: int, received: int, expected: int, lost: int, mismatched: int,
            latency: LogHistogram | None, cancelled: bool = False, failed: bool = False,
            unexpected: str | None = None) -> None:
        with self.lock:
            self.sessions += 1
            self.by_engine[engine] = self.by_engine.get(engine, 0) + 1
            self.sent += sent
            self.received += received
            self.expected += expected
            self.lost += lost
            self.mismatched += mismatched
            self.cancelled += cancelled
            self.failed_as_planned += failed
            if unexpected is not None and len(self.unexpected) < 20:
                self.unexpected.append(unexpected)
            if latency is not None:
                self.latency_ns.merge(latency)


class Plan:
    """One session's pipeline, items and expected outputs."""

    def __init__(self, rng: random.Random, max_items: int) -> None:
        self.n = rng.randint(1, max_items)
        self.base = rng.randrange(0, 1 << 40)
        self.capacity = rng.choice([1, 2, 8, 64, 256])
        self.cancel_at = self.n // 2 if rng.random() < 0.08 else None
        self.fail_at = rng.randrange(self.n) if self.cancel_at is None and rng.random() < 0.08 else None
        self.python_nodes = rng.random() < 0.5
        self.slow_every = rng.choice([0, 0, 1, 7])  # the consumer yields / sleeps every k outputs

    def items(self) -> range:
        return range(self.base, self.base + self.n)

    def pipeline(self) -> Pipeline:
        nodes: list[Node] = [PassThroughNode(name="in"), CalculatorNode(name="add", operation="add", operand=1)]
        if self.python_nodes:
            nodes += [CheckOrder("order"), AsyncPlusOne("async_add")]
        else:
            nodes += [MapNode(name="plus", expression="item + 1")]
        if self.fail_at is not None:
            nodes.append(FailAt("fail", at=self.base + self.fail_at + 2))  # what item fail_at is there
        nodes += [MapNode(name="double", expression="item * 2"), FilterNode(name="all", condition="item >= 0")]
        return Pipeline(nodes)

    def expected(self, x: int) -> int:
        return (x + 2) * 2


def check(plan: Plan, outputs: list, error: BaseException | None, stats: Stats, engine: str, sent: int,
          latency: LogHistogram | None, cancelled: bool) -> None:
    items = plan.items()
    if plan.fail_at is not None:
        expected = [plan.expected(x) for x in items[: plan.fail_at]]
    elif cancelled:
        expected = [plan.expected(x) for x in items[: len(outputs)]]  # a prefix, whatever its length
    else:
        expected = [plan.expected(x) for x in items]
    unexpected = None
    if plan.fail_at is not None:
        ok = isinstance(error, ValueError) and getattr(error, "item_index", None) == plan.fail_at
        if not ok:
            unexpected = f"{engine}: expected the planned failure on item {plan.fail_at}, got {error!r}"
    elif error is not None:
        unexpected = f"{engine}: {type(error).__name__}: {error}"
    mismatched = sum(1 for a, b in zip(outputs, expected) if a != b) + max(0, len(outputs) - len(expected))
    lost = 0 if unexpected else max(0, len(expected) - len(outputs))
    stats.add(engine, sent, len(outputs), len(expected), lost, mismatched, latency, cancelled=cancelled,
              failed=plan.fail_at is not None and unexpected is None, unexpected=unexpected)


# ------------------------------------------------------------------------------------ asyncio


async def async_session(plan: Plan, engine: str, stats: Stats) -> None:
    runtime, threaded = ("python", False) if engine == "python" else ("native", engine == "native-pool")
    session = Session(plan.pipeline(), runtime, plan.capacity, threaded=threaded)
    sent_at: list[int] = []
    outputs: list = []
    error = None
    latency = LogHistogram()
    perf = time.perf_counter_ns
    async with session:
        async def produce() -> None:
            try:
                for x in plan.items():
                    await session.send(x)
                    sent_at.append(perf())
                await session.end()
            except Exception:  # noqa: BLE001 - the consumer receives the session's error
                pass

        producer = asyncio.create_task(produce())
        try:
            async for out in session:
                if len(outputs) < len(sent_at):
                    latency.record(perf() - sent_at[len(outputs)])
                outputs.append(out)
                if plan.cancel_at is not None and len(outputs) == plan.cancel_at:
                    await session.cancel()
                if plan.slow_every and len(outputs) % plan.slow_every == 0:
                    await asyncio.sleep(0)
        except Exception as exc:  # noqa: BLE001 - checked
            error = exc
        await producer
    check(plan, outputs, error, stats, engine, len(sent_at), latency, plan.cancel_at is not None)


async def async_worker(seed: int, deadline: float, engines: list[str], max_items: int, stats: Stats) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        await async_session(Plan(rng, max_items), rng.choice(engines), stats)


# ------------------------------------------------------------------------------------ threads


def sync_session(plan: Plan, engine: str, stats: Stats) -> None:
    runtime, threaded = ("python", False) if engine == "python" else ("native", engine == "native-pool")
    outputs: list = []
    error = None
    sent = [0]
    with SyncSession(plan.pipeline(), runtime, plan.capacity, threaded=threaded) as session:
        def produce() -> None:
            try:
                for x in plan.items():
                    session.send(x)
                    sent[0] += 1
                session.end()
            except Exception:  # noqa: BLE001 - the consumer receives the session's error
                pass

        producer = threading.Thread(target=produce, name="soak-producer")
        producer.start()
        try:
            for out in session:
                outputs.append(out)
                if plan.cancel_at is not None and len(outputs) == plan.cancel_at:
                    session.cancel()
                if plan.slow_every and len(outputs) % plan.slow_every == 0:
                    time.sleep(0)
        except Exception as exc:  # noqa: BLE001 - checked
            error = exc
            session.cancel()  # the producer may wait for room nobody will make
        producer.join()
    check(plan, outputs, error, stats, engine + " (sync)", sent[0], None, plan.cancel_at is not None)


def thread_worker(seed: int, deadline: float, engines: list[str], max_items: int, stats: Stats) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            sync_session(Plan(rng, max_items), rng.choice(engines), stats)
        except Exception as exc:  # noqa: BLE001 - reported
            stats.add("thread", 0, 0, 0, 0, 0, None, unexpected=f"{type(exc).__name__}: {exc}")


# ------------------------------------------------------------------------------------- main


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20
    except OSError:
        return 0.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tasks", type=int, default=32, help="concurrent asyncio sessions")
    parser.add_argument("--threads", type=int, default=4, help="concurrent sessions in threads")
    parser.add_argument("--max-items", type=int, default=3000, help="items per session, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    module = _native.runtime_module()
    engines = ["python"]
    if module is not None and hasattr(module, "NativeSession"):
        engines += ["native", "native-pool"]
    stats = Stats()
    gc.collect()
    threads_before, rss_before = threading.active_count(), _rss_mb()
    started = time.monotonic()
    deadline = started + args.seconds

    workers = [threading.Thread(target=thread_worker, args=(args.seed * 1000 + k, deadline, engines, args.max_items, stats),
                                name=f"soak-{k}") for k in range(args.threads)]
    for w in workers:
        w.start()

    async def run_tasks() -> None:
        await asyncio.gather(*(async_worker(args.seed * 1000 + args.threads + k, deadline, engines, args.max_items, stats)
                               for k in range(args.tasks)))

    asyncio.run(run_tasks())
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    gc.collect()
    time.sleep(0.05)  # let the pool's workers settle

    lat = stats.latency_ns
    report = {
        "seconds": round(elapsed, 2),
        "engines": engines,
        "sessions": stats.sessions,
        "sessions_by_engine": dict(sorted(stats.by_engine.items())),
        "cancelled_on_purpose": stats.cancelled,
        "failed_on_purpose": stats.failed_as_planned,
        "items_sent": stats.sent,
        "items_received": stats.received,
        "items_expected": stats.expected,
        "lost": stats.lost,
        "mismatched": stats.mismatched,
        "unexpected_errors": stats.unexpected,
        "throughput_items_per_s": round(stats.received / elapsed) if elapsed else 0,
        "latency_us": {**lat.summary(1e-3, p50=0.5, p99=0.99, p999=0.999), "max": round(lat.max * 1e-3, 3) if lat.count else 0.0,
                       "count": lat.count},
        "threads_before_after": [threads_before, threading.active_count()],
        "rss_mb_before_after": [round(rss_before, 1), round(_rss_mb(), 1)],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"soak: {report['sessions']} sessions in {report['seconds']} s on {', '.join(engines)} "
              f"({args.tasks} asyncio tasks, {args.threads} threads)")
        for key in ("sessions_by_engine", "cancelled_on_purpose", "failed_on_purpose", "items_sent", "items_received",
                    "items_expected", "lost", "mismatched", "throughput_items_per_s", "latency_us",
                    "threads_before_after", "rss_mb_before_after"):
            print(f"  {key:24s} {report[key]}")
        print("  (latency under load: every session shares one event loop, queueing in the sessions included;"
              " python -m remotemedia.benchmarks.session_latency measures one item at a time)")
        for line in stats.unexpected:
            print(f"  UNEXPECTED: {line}")
        print("  OK: no item lost" if report["lost"] == 0 and not report["mismatched"] and not stats.unexpected
              else "  FAILED")
    report["ok"] = report["lost"] == 0 and report["mismatched"] == 0 and not stats.unexpected
    return report


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
