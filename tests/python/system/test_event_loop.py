"""Awaiting a native run never blocks the event loop (docs/SEMANTICS.md, "Runs and the event
loop"): the run goes to a worker thread with the GIL released, other tasks go on meanwhile,
gathered runs overlap, a cancelled await stops its run; and Ctrl-C stops a long synchronous
native run promptly with KeyboardInterrupt."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from lifecycle_node import Lifecycle

from remotemedia import Node, Pipeline, _native
from remotemedia.benchmarks.event_loop import ticks_during
from remotemedia.nodes import CalculatorNode, MapNode

pytestmark = pytest.mark.skipif(_native.runtime_module() is None, reason="no native runtime")


def long_pipeline() -> Pipeline:
    return Pipeline([MapNode(expression="item * 2 + 1"), CalculatorNode(operation="add", operand=1)])


def test_other_tasks_run_while_a_native_run_is_awaited():
    items = list(range(3_000_000))  # a few tenths of a second, conversions included

    async def main():
        return await ticks_during(long_pipeline().run(items, runtime="native"))

    out, ticks, took = asyncio.run(main())
    assert out[:3] == [2, 4, 6] and len(out) == len(items)
    # A blocked loop ticks once at most; one that goes on ticks about every 2 ms of the run (fewer
    # on a loaded machine, where the run's thread and the loop's share the GIL and the cores).
    assert took > 0.05, took
    assert ticks >= 3, (ticks, took)


class Sleepy(Node):
    async def process(self, x):
        await asyncio.sleep(0.1)
        return x + 1


def test_gathered_native_runs_with_an_async_node_overlap():
    pipeline = Pipeline([Sleepy("s"), CalculatorNode(name="c", operation="multiply", operand=10)])

    async def main():
        start = time.perf_counter()
        outs = await asyncio.gather(*(pipeline.run([i], runtime="native") for i in range(10)))
        return outs, time.perf_counter() - start

    outs, took = asyncio.run(main())
    assert outs == [[(i + 1) * 10] for i in range(10)]
    assert took < 0.6, took  # one after another: 10 x 0.1 s


def test_a_cancelled_await_stops_the_native_run_and_closes_its_nodes():
    log: list = []
    pipeline = Pipeline([Lifecycle("a", log=log)] + [CalculatorNode(operation="add", operand=1) for _ in range(400)])
    items = np.arange(1_000_000, dtype=np.int64)  # 400 column stages: seconds if it ran to the end

    async def main():
        task = asyncio.create_task(pipeline.run(items, runtime="native"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        start = time.perf_counter()
        while ("cleanup", "a") not in log and time.perf_counter() - start < 5:
            await asyncio.sleep(0.01)
        return time.perf_counter() - start

    took = asyncio.run(main())
    assert log == [("initialize", "a"), ("cleanup", "a")], log
    assert took < 1.0, took


def test_a_short_all_native_run_stays_on_the_loop_and_a_python_node_run_does_not():
    import threading

    seen = []

    class Where(Node):
        def process(self, x):
            seen.append(threading.current_thread() is threading.main_thread())
            return x

    async def main():
        a = await Pipeline([CalculatorNode(operation="add", operand=1)]).run([1, 2], runtime="native")
        b = await Pipeline([Where("w")]).run([1], runtime="native")
        return a, b

    assert asyncio.run(main()) == ([2, 3], [1])
    assert seen == [False]  # the Python node ran on a worker thread, off the loop


INTERRUPTED = textwrap.dedent("""
    import sys, time
    import numpy as np
    from remotemedia import Pipeline
    from remotemedia.nodes import CalculatorNode
    pipeline = Pipeline([CalculatorNode(operation="add", operand=1) for _ in range(3000)])
    items = np.arange(2_000_000, dtype=np.int64)
    pipeline.run_sync(items[:10], runtime="native")
    print("running", flush=True)
    start = time.perf_counter()
    try:
        pipeline.run_sync(items, runtime="native")
    except KeyboardInterrupt:
        print(f"interrupted after {time.perf_counter() - start:.2f}", flush=True)
        sys.exit(0)
    print("finished", flush=True)
""")


def test_ctrl_c_stops_a_long_native_run_sync_promptly():
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(0.3)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        late = time.perf_counter() - sent
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.startswith("interrupted after"), (out, err)
    assert late < 1.0, late  # the whole run takes several seconds


class SlowEverything(Node):
    """Blocks its thread (not the GIL) in initialize, process and cleanup."""

    def initialize(self):
        time.sleep(0.1)

    def process(self, x):
        time.sleep(0.01)
        return x * 2

    def cleanup(self):
        time.sleep(0.1)


def test_a_native_stream_with_a_slow_python_node_leaves_the_loop_free():
    pipeline = Pipeline([SlowEverything("s"), CalculatorNode(name="c", operation="add", operand=1)])

    async def consume():
        return [out async for out in pipeline.stream(range(10), runtime="native")]

    out, ticks, _ = asyncio.run(ticks_during(consume()))
    assert out == [x * 2 + 1 for x in range(10)]
    assert ticks >= 20, ticks  # 0.3 s of node code; a blocked loop ticks a few times at most


def test_opening_and_cancelling_a_native_session_leave_the_loop_free():
    pipeline = Pipeline([SlowEverything("s")])

    async def open_send_cancel():
        s = await pipeline.session(runtime="native").open()
        await s.send(1)
        await s.cancel()
        return s.runtime

    runtime, ticks, _ = asyncio.run(ticks_during(open_send_cancel()))
    assert runtime == "native"
    assert ticks >= 15, ticks  # initialize and cleanup: 0.2 s


def test_a_native_session_of_native_nodes_stays_inline_and_one_with_python_nodes_is_threaded():
    async def kinds():
        out = []
        for nodes in ([CalculatorNode(operation="add", operand=1)], [SlowEverything("s")]):
            async with Pipeline(nodes).session(runtime="native") as s:
                out.append(s._engine._threaded)
        return out

    assert asyncio.run(kinds()) == [False, True]
