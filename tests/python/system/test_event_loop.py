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


class Rendezvous(Node):
    """Answers only once ten items are in flight at the same time (runs one after another never
    get there: the first waits alone and fails)."""

    async def process(self, x):
        state = self.__dict__.setdefault("_state", {"waiting": 0, "all_here": asyncio.Event()})
        state["waiting"] += 1
        if state["waiting"] == 10:
            state["all_here"].set()
        await asyncio.wait_for(state["all_here"].wait(), timeout=10)
        return x + 1


class Last(Node):
    """Records the items that reach the end of the pipeline."""

    def __init__(self, name=None, seen=None, **kw):
        super().__init__(name, **kw)
        self.seen = seen

    def process(self, x):
        self.seen.append(x)
        return x


def test_gathered_native_runs_with_an_async_node_overlap():
    pipeline = Pipeline([Rendezvous("r"), CalculatorNode(name="c", operation="multiply", operand=10)])

    async def main():
        return await asyncio.gather(*(pipeline.run([i], runtime="native") for i in range(10)))

    assert asyncio.run(main()) == [[(i + 1) * 10] for i in range(10)]


def test_a_cancelled_await_stops_the_native_run_and_closes_its_nodes():
    log: list = []
    reached: list = []
    pipeline = Pipeline([Lifecycle("a", log=log)] + [CalculatorNode(operation="add", operand=1) for _ in range(400)]
                        + [Last("z", seen=reached)])
    items = np.arange(1_000_000, dtype=np.int64)  # 400 column stages: seconds if it ran to the end

    async def main():
        task = asyncio.create_task(pipeline.run(items, runtime="native"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        start = time.perf_counter()
        while ("cleanup", "a") not in log and time.perf_counter() - start < 30:
            await asyncio.sleep(0.01)

    asyncio.run(main())
    assert log == [("initialize", "a"), ("cleanup", "a")], log
    assert reached == []  # stopped before its last stage


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
    from remotemedia import Node

    class Last(Node):
        def process(self, x):
            print("reached the end", flush=True)  # a run interrupted only when it returns gets here
            return x

    pipeline = Pipeline([CalculatorNode(operation="add", operand=1) for _ in range(3000)] + [Last("z")])
    items = np.arange(2_000_000, dtype=np.int64)
    print("running", flush=True)
    try:
        pipeline.run_sync(items, runtime="native")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(0)
    print("finished", flush=True)
""")


def test_ctrl_c_stops_a_long_native_run_sync_promptly():
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out == "interrupted\n", (out, err)  # stopped between stages, before the last one


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
