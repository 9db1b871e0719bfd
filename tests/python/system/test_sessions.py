"""Streaming sessions (docs/SESSIONS.md) on both engines: outputs equal run(all items) on chains and
graphs, errors after the outputs before them, end / cancel / task cancellation, backpressure (held
items and memory), many concurrent sessions, stream() and stream_sync(), metrics."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import traceback
import tracemalloc
import weakref

import pytest
from error_chains import context_chain, describe
from lifecycle_node import Lifecycle
from random_nodes import BUILTIN_KINDS, builtin_node
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remotemedia import Node, Pipeline, _native, errors
from remotemedia.core.histogram import LogHistogram
from remotemedia.core.node import ToPort
from remotemedia.core.session import Session, SessionClosedError, SyncSession
from remotemedia.nodes import BufferNode, CalculatorNode, FilterNode, MapNode, PassThroughNode, RouterNode

_module = _native.runtime_module()
HAS_NATIVE_SESSION = _module is not None and hasattr(_module, "NativeSession")
native_only = pytest.mark.skipif(not HAS_NATIVE_SESSION, reason="remotemedia._runtime.NativeSession is missing")
RUNTIMES = ["python", pytest.param("native", marks=native_only)]
# "native-threaded": the native session processing every item on the worker pool, so outputs and
# room are announced from other threads (the notify callback's hop to the loop)
ENGINES = RUNTIMES + [pytest.param("native-threaded", marks=native_only)]


def make_session(pipeline, runtime, capacity=64):
    if runtime == "native-threaded":
        return Session(pipeline, "native", capacity, threaded=True)
    return pipeline.session(runtime=runtime, capacity=capacity)


def make_sync_session(pipeline, runtime, capacity=64):
    if runtime == "native-threaded":
        return SyncSession(pipeline, "native", capacity, threaded=True)
    return pipeline.sync_session(runtime=runtime, capacity=capacity)


# ------------------------------------------------------------------------------------ nodes


class Numbered(Node):
    """Stateful: pairs each negative int with its position in the stream."""

    def initialize(self):
        self.n = 0

    def process(self, x):
        self.n += 1
        return [x, self.n] if isinstance(x, int) and x < 0 else x


class Twice(Node):
    """A generator: two outputs per item."""

    def process(self, x):
        yield x
        yield x


class AsyncAdd(Node):
    """A coroutine that really suspends."""

    async def process(self, x):
        await asyncio.sleep(0)
        return x + 1 if isinstance(x, int) and not isinstance(x, bool) else x


class AsyncEcho(Node):
    """An async generator."""

    async def process(self, x):
        yield x
        await asyncio.sleep(0)


class Summing(Node):
    """Passes items on and emits their sum at end of stream."""

    def initialize(self):
        self.total = 0

    def process(self, x):
        self.total += x if isinstance(x, (int, float)) and not isinstance(x, bool) else 0
        return x

    def flush(self):
        return ["sum", self.total]


class FailOn(Node):
    """Raises ValueError on the item equal to ``bad``."""

    def __init__(self, name=None, bad=13, **kw):
        super().__init__(name, **kw)
        self.bad = bad

    def process(self, x):
        if x == self.bad:
            raise ValueError(f"{x} is bad")
        return x


class Split(Node):
    """Two output ports, Python."""

    @classmethod
    def ports_for(cls, params):
        return ("even", "odd")

    def process(self, x):
        return ToPort("even" if x % 2 == 0 else "odd", x)


class InOrder(Node):
    """Checks that its items are consecutive ints, so a lost, duplicated or reordered item fails."""

    def initialize(self):
        self.expected = None

    def process(self, x):
        if self.expected is not None and x != self.expected:
            raise AssertionError(f"expected {self.expected}, got {x}")
        self.expected = x + 1
        return x


# -------------------------------------------------------------------------------- pipelines


def chain_flow():
    return Pipeline([
        PassThroughNode(name="in"),
        CalculatorNode(name="add", operation="add", operand=3),
        FilterNode(name="keep", condition="item % 4 != 0"),
        MapNode(name="sq", expression="item * item - 1"),
        BufferNode(name="buf", buffer_size=3),
    ])


def graph_flow():
    r = RouterNode(name="r", routes=[{"when": "item < 0", "to": "neg"}, {"when": "item > 5", "to": "big"}],
                   default="rest")
    merge = PassThroughNode(name="merge")
    p = Pipeline(name="graph")
    p.connect(r.output("neg"), MapNode(name="negate", expression="-item"))
    p.connect(r.output("big"), merge)
    p.connect(p.nodes[1], merge)  # negate -> merge (fan-in)
    p.connect(merge, BufferNode(name="pairs", buffer_size=2))
    p.connect(r.output("rest"), CalculatorNode(name="times10", operation="multiply", operand=10))
    p.connect(merge, FilterNode(name="odd", condition="item % 2 == 1"))  # fan-out of merge
    return p


def chain_python():
    return Pipeline([
        CalculatorNode(name="add", operation="add", operand=1),
        Numbered("numbered"),
        Twice("twice"),
        AsyncAdd("async_add"),
        AsyncEcho("async_echo"),
        Summing("sum"),
    ])


def graph_python():
    split = Split("split")
    p = Pipeline(name="graph_python")
    p.connect(split.output("even"), Twice("twice"))
    p.connect(split.output("odd"), AsyncAdd("async_add"))
    p.connect(p.nodes[1], Summing("sum"))
    p.connect(p.nodes[2], p.nodes[3])  # async_add -> sum: fan-in
    p.connect(p.nodes[1], BufferNode(name="buf", buffer_size=4))  # twice fans out
    return p


PIPELINES = {"chain_flow": chain_flow, "graph_flow": graph_flow, "chain_python": chain_python,
             "graph_python": graph_python, "empty": lambda: Pipeline()}
ITEMS = list(range(-7, 30)) + [2, 2, -1, 0]


# ---------------------------------------------------------------------------------- helpers


def reference(make, items):
    """("ok", outputs) or ("error", exception) of run on the Python executor (a fresh pipeline)."""
    try:
        return "ok", make().run_sync(items, runtime="python")
    except Exception as exc:  # noqa: BLE001 - compared
        return "error", exc


async def through_session(pipeline, items, runtime, capacity=64):
    """Send ``items`` from a producer task while consuming: ("ok", outputs) or ("error", exc,
    outputs received before it)."""
    outputs = []
    session = make_session(pipeline, runtime, capacity)
    try:
        await session.open()
    except Exception as exc:  # noqa: BLE001 - a graph run refuses too
        return "error", exc, outputs
    async with session as s:
        async def produce():
            try:
                for item in items:
                    await s.send(item)
                await s.end()
            except Exception:  # noqa: BLE001 - the consumer receives the session's error
                pass

        producer = asyncio.create_task(produce())
        try:
            async for out in s:
                outputs.append(out)
        except Exception as exc:  # noqa: BLE001
            await producer
            return "error", exc, outputs
        await producer
    return "ok", outputs


def same_error(a, b):
    assert type(a) is type(b), (a, b)
    assert (getattr(a, "node_id", None), getattr(a, "item_index", None)) == (
        getattr(b, "node_id", None), getattr(b, "item_index", None)), (a, b)


async def wait_for_state(session, states=("cancelled", "ended", "failed"), timeout=5.0):
    deadline = time.monotonic() + timeout
    while session.metrics()["state"] not in states:
        assert time.monotonic() < deadline, session.metrics()
        await asyncio.sleep(0.001)
    return session.metrics()["state"]


# -------------------------------------------------------------------------- outputs == run


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("name", PIPELINES)
@pytest.mark.parametrize("capacity", [1, 3, 64])
async def test_session_outputs_equal_run_of_all_items(runtime, name, capacity):
    make = PIPELINES[name]
    expected = reference(make, ITEMS)
    assert expected[0] == "ok"
    got = await through_session(make(), ITEMS, runtime, capacity)
    assert got == expected
    assert [type(x) for x in got[1]] == [type(x) for x in expected[1]]


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_pipeline_without_nodes_passes_items_through(runtime):
    items = [1, "two", None, [3.0], -4]
    async with make_session(Pipeline(), runtime, capacity=8) as s:
        assert s.runtime == runtime.split("-")[0]  # the native engine too, as run does
        for x in items:
            await s.send(x)
        await s.end()
        got = [x async for x in s]
    assert got == items == Pipeline().run_sync(items, runtime=runtime.split("-")[0])
    m = s.metrics()
    assert (m["state"], m["items_in"], m["items_out"], m["latency_us"]["count"], m["nodes"]) == (
        "ended", len(items), len(items), len(items), [])
    with make_sync_session(Pipeline(), runtime, capacity=2) as s:
        assert s.runtime == runtime.split("-")[0]
        s.send(1)
        s.send(2)
        assert next(s) == 1
        s.end()
        assert list(s) == [2]
    # None is an item like any other: a node drops it (docs/SEMANTICS.md), no node passes it on
    with make_sync_session(Pipeline([PassThroughNode(name="p")]), runtime) as s:
        for x in items:
            s.send(x)
        s.end()
        assert list(s) == [x for x in items if x is not None]


@pytest.mark.parametrize("runtime", RUNTIMES)  # one thread: items processed inside send
def test_sync_session_outputs_equal_run(runtime):
    for name, make in PIPELINES.items():
        expected = reference(make, ITEMS)
        out = []
        with make_sync_session(make(), runtime, 4) as s:
            for item in ITEMS:
                s.send(item)
                while True:  # read as we go: one thread, so room comes from reading
                    kind, value = s._engine.poll()
                    if kind != "item":
                        break
                    out.append(value)
            s.end()
            out.extend(s)
        assert ("ok", out) == expected, name


@pytest.mark.parametrize("runtime", ENGINES)
def test_sync_session_fed_from_another_thread(runtime):
    items = list(range(3000))
    pipeline = Pipeline([CalculatorNode(name="add", operation="add", operand=1), InOrder("order"), Twice("twice")])
    with make_sync_session(pipeline, runtime, 5) as s:
        def produce():
            for x in items:
                s.send(x)
            s.end()

        producer = threading.Thread(target=produce)
        producer.start()
        out = list(s)
        producer.join()
    assert out == [y for x in items for y in (x + 1, x + 1)]


EXPRESSIONS = ["item > 2", "item % 3 == 0", "item * 2 - 1", "-item", "item // 2", "min(item, 3)", "item != 1"]


def random_node(draw, i):
    kind = draw(st.sampled_from([*BUILTIN_KINDS, "numbered", "twice", "async", "split"]))
    name = f"n{i}"
    if kind == "numbered":
        return Numbered(name)
    if kind == "twice":
        return Twice(name)
    if kind == "async":
        return AsyncAdd(name)
    if kind == "split":
        return Split(name)
    return builtin_node(draw, kind, name, EXPRESSIONS)


@st.composite
def random_pipelines(draw):
    """(factory, items): a random chain or graph, rebuilt by the factory (Python nodes hold state)."""
    n = draw(st.integers(1, 5))
    nodes = [random_node(draw, i) for i in range(n)]
    edges = []
    for j in range(1, n):
        for source in draw(st.lists(st.sampled_from(nodes[:j]), max_size=2, unique_by=lambda node: node.name)):
            ports = source.output_ports()
            port = None if len(ports) == 1 else draw(st.sampled_from(ports))
            edges.append((source.name, port, nodes[j].name))

    def make():
        fresh = {node.name: (type(node)(node.name) if type(node) in (Numbered, Twice, AsyncAdd, Split)
                             else type(node)(name=node.name, **node.config)) for node in nodes}
        if not edges:
            return Pipeline([fresh[node.name] for node in nodes])
        p = Pipeline(name="random")
        for a, port, b in edges:
            p.connect(fresh[a] if port is None else fresh[a].output(port), fresh[b])
        for node in nodes:
            if not any(x.name == node.name for x in p.nodes):
                p._append(fresh[node.name])
        return p

    items = draw(st.lists(st.one_of(st.integers(-8, 8), st.floats(-4, 4), st.just("s")), max_size=8))
    return make, items


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=random_pipelines(), capacity=st.integers(1, 4))
def test_random_graphs_stream_like_run(case, capacity):
    make, items = case
    expected = reference(make, items)
    for runtime in ["python"] + (["native", "native-threaded"] if HAS_NATIVE_SESSION else []):
        got = asyncio.run(through_session(make(), items, runtime, capacity))
        assert got[0] == expected[0], (runtime, got, expected)
        if expected[0] == "ok":
            assert got == expected, runtime
        else:
            same_error(got[1], expected[1])


# ------------------------------------------------------------------------------------ errors


def failing_chain():
    return Pipeline([MapNode(name="div", expression="60 // item"), CalculatorNode(name="add", operation="add", operand=1),
                     FailOn("fail", bad=31), Twice("twice")])


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("items,failing_at", [
    ([5, 4, 3, 0, 6, 7], 3),   # Map: NodeZeroDivisionError on item 3
    ([6, 10, 5, 60, 2, 1], 4),  # 60 // 2 + 1 == 31: the Python node's ValueError on item 4
])
async def test_errors_come_after_the_outputs_before_them(runtime, items, failing_at):
    kind, expected = reference(failing_chain, items)
    assert kind == "error"
    _, prefix = reference(failing_chain, items[:failing_at])
    got = await through_session(failing_chain(), items, runtime, capacity=2)
    assert got[0] == "error"
    same_error(got[1], expected)
    assert got[2] == prefix  # every output before the error, nothing after it


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_flush_error_and_an_initialize_error(runtime):
    class FlushFails(Node):
        def process(self, x):
            return x

        def flush(self):
            raise KeyError("at the end")

    got = await through_session(Pipeline([PassThroughNode(name="p"), FlushFails("f")]), [1, 2], runtime)
    assert got[0] == "error" and got[2] == [1, 2]
    assert type(got[1]) is KeyError and got[1].node_id == "f" and got[1].item_index is None

    log = []

    class InitFails(Lifecycle):
        def initialize(self):
            raise RuntimeError("no")

    pipeline = Pipeline([Lifecycle("a", log=log), InitFails("b", log=log), Lifecycle("c", log=log)])
    with pytest.raises(RuntimeError, match="no"):
        async with make_session(pipeline, runtime):
            pass
    assert log == [("initialize", "a"), ("cleanup", "a")]


@pytest.mark.parametrize("runtime", ENGINES)
async def test_send_after_an_error_raises_it(runtime):
    pipeline = Pipeline([FailOn("fail", bad=2)])
    s = make_session(pipeline, runtime, 8)
    async with s:
        await s.send(1)
        await s.send(2)
        assert await s.__anext__() == 1
        with pytest.raises(ValueError, match="2 is bad") as first:
            await s.__anext__()
        assert first.value.node_id == "fail" and first.value.item_index == 1
        with pytest.raises(ValueError, match="2 is bad"):
            await s.send(3)
        with pytest.raises(ValueError, match="2 is bad"):
            s.try_send(4)
        await s.end()  # no error: ending a failed session is a no-op
    assert s.metrics()["state"] == "failed"
    assert s.metrics()["nodes"][0]["errors"] == 1


@pytest.mark.parametrize("runtime", ENGINES)
async def test_leaving_normally_raises_an_error_nobody_received(runtime):
    s = make_session(Pipeline([FailOn("fail", bad=1)]), runtime)
    with pytest.raises(ValueError, match="1 is bad"):
        async with s:
            await s.send(0)
            await s.send(1)
    assert s.metrics()["state"] == "failed"


# --------------------------------------------------------------------------- end and cancel


@pytest.mark.parametrize("runtime", ENGINES)
async def test_end_is_idempotent_and_send_after_end_raises(runtime):
    pipeline = Pipeline([BufferNode(name="b", buffer_size=2)])
    async with make_session(pipeline, runtime) as s:
        for x in range(3):
            await s.send(x)
        await s.end()
        await s.end()
        with pytest.raises(SessionClosedError):
            await s.send(9)
        with pytest.raises(SessionClosedError):
            s.try_send(9)
        assert [x async for x in s] == [[0, 1], [2]]
        assert [x async for x in s] == []  # stays ended
        await s.end()
    assert s.metrics()["state"] == "ended"


@pytest.mark.parametrize("runtime", ENGINES)
async def test_leaving_normally_drops_unread_outputs_and_cleans_up(runtime):
    log = []
    s = make_session(Pipeline([Lifecycle("a", log=log), Twice("t")]), runtime, 4)
    async with s:
        await s.send(1)
        await s.send(2)
    assert log == [("initialize", "a"), ("cleanup", "a")]
    m = s.metrics()
    assert m["state"] == "ended" and m["items_in"] == 2 and m["items_out"] == 4


@pytest.mark.parametrize("runtime", ENGINES)
async def test_cancel_mid_stream(runtime):
    log = []
    pipeline = Pipeline([Lifecycle("a", log=log), CalculatorNode(name="c", operation="add", operand=1)])
    s = make_session(pipeline, runtime, 8)
    async with s:
        for x in range(8):
            await s.send(x)
        assert [await s.__anext__() for _ in range(3)] == [1, 2, 3]
        await s.cancel()
        assert await wait_for_state(s) == "cancelled"
        assert log == [("initialize", "a"), ("cleanup", "a")]
        assert [x async for x in s] == []  # pending outputs were dropped; iteration stops
        with pytest.raises(SessionClosedError):
            await s.send(1)
        await s.cancel()  # idempotent
        await s.end()  # a no-op after cancel
    assert s.metrics()["state"] == "cancelled"
    assert log == [("initialize", "a"), ("cleanup", "a")]


@pytest.mark.parametrize("runtime", ENGINES)
async def test_leaving_with_an_exception_cancels(runtime):
    log = []
    s = make_session(Pipeline([Lifecycle("a", log=log)]), runtime)
    with pytest.raises(KeyError):
        async with s:
            await s.send(1)
            raise KeyError("body")
    assert s.metrics()["state"] == "cancelled"
    assert log == [("initialize", "a"), ("cleanup", "a")]


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("opened_inside", [True, False])
async def test_cancelling_the_consuming_task_cancels_the_session(runtime, opened_inside):
    log = []
    pipeline = Pipeline([Lifecycle("a", log=log), AsyncAdd("add")])
    holder = {}
    received = []
    started = asyncio.Event()

    async def consume(s):
        async for out in s:
            received.append(out)
            started.set()

    async def consume_inside():
        async with make_session(pipeline, runtime, 4) as s:
            holder["s"] = s
            await s.send(1)
            await consume(s)

    if opened_inside:
        task = asyncio.create_task(consume_inside())
        await started.wait()
    else:
        s = holder["s"] = make_session(pipeline, runtime, 4)
        await s.open()
        await s.send(1)
        task = asyncio.create_task(consume(s))
        await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    s = holder["s"]
    assert await wait_for_state(s) == "cancelled"
    assert received == [2]
    assert log == [("initialize", "a"), ("cleanup", "a")]
    with pytest.raises(SessionClosedError):
        await s.send(3)


@pytest.mark.parametrize("runtime", ENGINES)
def test_sync_session_cancel_timeout_and_try_send(runtime):
    log = []
    pipeline = Pipeline([Lifecycle("a", log=log), Twice("t")])
    with make_sync_session(pipeline, runtime, 3) as s:
        s.send(1)  # two outputs held, capacity 3
        s.send(2, timeout=1)
        deadline = time.monotonic() + 5
        while held(s) < 3:  # threaded: the pool processes the items after send returns
            assert time.monotonic() < deadline
            time.sleep(0.001)
        assert not s.try_send(3)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            s.send(3, timeout=0.05)
        assert time.monotonic() - t0 < 2
        assert next(s) == 1
        s.cancel()
        assert s.metrics()["state"] == "cancelled"
        assert list(s) == []
        with pytest.raises(SessionClosedError):
            s.send(4)
    assert log == [("initialize", "a"), ("cleanup", "a")]


# ----------------------------------------------------------------------------- backpressure


def held(s):
    m = s.metrics()
    return m["queued"] + m["pending_outputs"]


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("expansion", [1, 2])
async def test_a_slow_consumer_bounds_what_the_session_holds(runtime, expansion):
    capacity = 8
    nodes = [PassThroughNode(name="p"), CalculatorNode(name="c", operation="add", operand=1)]
    if expansion == 2:
        nodes.append(Twice("t"))
    pipeline = Pipeline(nodes)
    n = 2000
    samples = []
    async with make_session(pipeline, runtime, capacity) as s:
        async def produce():
            for x in range(n):
                await s.send(x)
                samples.append(held(s))
            await s.end()

        producer = asyncio.create_task(produce())
        out = []
        async for y in s:
            out.append(y)
            samples.append(held(s))
            for _ in range(3):  # slow: the producer runs several times per output
                await asyncio.sleep(0)
        await producer
    assert out == [x + 1 for x in range(n) for _ in range(expansion)]
    assert max(samples) <= capacity + expansion
    assert max(samples) >= capacity - 1  # the producer did fill it


@pytest.mark.parametrize("runtime", ENGINES)
async def test_memory_stays_bounded_with_a_slow_consumer(runtime):
    n, size, capacity = 20_000, 10_000, 16
    pipeline = Pipeline([PassThroughNode(name="p"), PassThroughNode(name="q")])

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    gc.collect()
    rss_before = rss()
    tracemalloc.start()
    try:
        received = 0
        total = 0
        async with make_session(pipeline, runtime, capacity) as s:
            async def produce():
                for i in range(n):
                    await s.send(bytes([i % 251]) * size)  # a new 10 KB object each time
                await s.end()

            producer = asyncio.create_task(produce())
            async for out in s:
                received += 1
                total += len(out)
                if received % 4 == 0:
                    await asyncio.sleep(0)
            await producer
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == n and total == n * size
    # All of it at once would be 200 MB; the session holds about capacity items.
    assert peak < 4 * 1024 * 1024, peak
    assert rss() - rss_before < 64 * 1024 * 1024


# ------------------------------------------------------------------------------ concurrency


@pytest.mark.parametrize("runtime", ENGINES)
async def test_many_concurrent_sessions_each_get_their_own_outputs(runtime):
    sessions, items_each = 50, 300

    def make():
        return Pipeline([CalculatorNode(name="add", operation="add", operand=1), InOrder("order"),
                         MapNode(name="m", expression="item * 2"), Numbered("num")])

    async def one(k):
        items = list(range(k * 10_000, k * 10_000 + items_each))
        got = await through_session(make(), items, runtime, capacity=1 + k % 7)
        assert got == ("ok", [(x + 1) * 2 for x in items]), k
        return len(got[1])

    counts = await asyncio.gather(*(one(k) for k in range(sessions)))
    assert counts == [items_each] * sessions


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sessions_in_many_threads(runtime):
    errors_seen = []
    results = {}

    def worker(k):
        try:
            pipeline = Pipeline([CalculatorNode(name="add", operation="add", operand=k), InOrder("order")])
            items = list(range(500))
            results[k] = list(pipeline.stream_sync(items, runtime=runtime, capacity=4))
        except BaseException as exc:  # noqa: BLE001
            errors_seen.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors_seen
    assert results == {k: [x + k for x in range(500)] for k in range(8)}


@pytest.mark.parametrize("runtime", ENGINES)
async def test_no_session_outlives_its_use(runtime):
    from remotemedia.core import session as session_module

    def live():
        gc.collect()
        kinds = (session_module._PyCore, session_module._NativeBase)
        native = [o for o in gc.get_objects() if type(o).__name__ == "NativeSession"]
        return sum(isinstance(o, kinds) for o in gc.get_objects()) + len(native)

    before, threads = live(), threading.active_count()
    for k in range(60):
        pipeline = Pipeline([CalculatorNode(name="c", operation="add", operand=1), FailOn("f", bad=5), Twice("t")])
        if k % 3 == 0:  # ends normally, outputs unread (4 outputs: within capacity)
            async with make_session(pipeline, runtime, 4) as s:
                for x in range(2):
                    await s.send(x)
        elif k % 3 == 1:  # cancelled mid-stream
            async with make_session(pipeline, runtime, 4) as s:
                await s.send(1)
                await s.cancel()
        else:  # fails on item 4 (5 after the add)
            got = await through_session(pipeline, range(10), runtime, 4)
            assert got[0] == "error" and got[1].item_index == 4
        s = got = pipeline = None
    # A worker thread that opened or cancelled a session (off the loop) lets go of its last
    # reference a moment after the awaiting task resumes.
    deadline = time.monotonic() + 2
    while live() != before and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert live() == before
    assert threading.active_count() <= threads + 1 + len(_native.run_threads()._threads)  # and the run threads


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_failed_session_never_closed_is_collected(runtime):
    # The error a consumer receives holds its traceback, whose frames hold the session; natively,
    # the session's C++ error holds that exception again: a cycle through C++ that the garbage
    # collector must be told about.
    def native_sessions():
        return sum(type(o).__name__ == "NativeSession" for o in gc.get_objects())

    def pipeline():
        return Pipeline([CalculatorNode(name="c", operation="add", operand=1), FailOn("f", bad=3)])

    async def fail_async():
        s = make_session(pipeline(), runtime, 4)
        await s.open()
        for x in range(3):
            await s.send(x)
        got = []
        try:
            async for out in s:
                got.append(out)
        except ValueError as exc:
            assert exc.node_id == "f" and exc.item_index == 2
        assert got == [1, 2]
        assert await wait_for_state(s) == "failed"
        return [weakref.ref(s), weakref.ref(s._engine), weakref.ref(s._pipeline), weakref.ref(s._pipeline.nodes[1])]

    def fail_sync():
        s = make_sync_session(pipeline(), runtime, 4).open()
        for x in range(3):
            s.send(x)
        got = []
        try:
            for out in s:
                got.append(out)
        except ValueError as exc:
            assert exc.node_id == "f"
        assert got == [1, 2]
        return [weakref.ref(s), weakref.ref(s._engine), weakref.ref(s._pipeline), weakref.ref(s._pipeline.nodes[1])]

    gc.collect()
    before = native_sessions()
    for refs in (await fail_async(), fail_sync()):
        deadline = time.monotonic() + 5
        while any(r() is not None for r in refs):  # threaded: a pool thread may still be closing
            assert time.monotonic() < deadline, [r() for r in refs]
            gc.collect()
            await asyncio.sleep(0.001)
        assert native_sessions() == before


# ----------------------------------------------------------------------------------- streams


async def agen(items):
    for x in items:
        await asyncio.sleep(0)
        yield x


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", PIPELINES)
async def test_stream_equals_run(runtime, name):
    make = PIPELINES[name]
    expected = reference(make, ITEMS)[1]
    assert [x async for x in make().stream(ITEMS, runtime=runtime, capacity=4)] == expected
    assert [x async for x in make().stream(agen(ITEMS), runtime=runtime, capacity=2)] == expected
    assert list(make().stream_sync(ITEMS, runtime=runtime, capacity=3)) == expected
    assert list(make().stream_sync(iter(ITEMS), runtime=runtime)) == expected


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_stream_errors_and_early_exit(runtime):
    got = []
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        async for x in failing_chain().stream([5, 4, 3, 0, 6], runtime=runtime):
            got.append(x)
    assert got == [13, 13, 16, 16, 21, 21] and info.value.item_index == 3

    got = []
    with pytest.raises(errors.NodeZeroDivisionError):
        for x in failing_chain().stream_sync([5, 4, 3, 0, 6], runtime=runtime, capacity=1):
            got.append(x)
    assert got == [13, 13, 16, 16, 21, 21]

    # the source fails: the session is cancelled and the source's error raised
    log = []

    async def bad_source():
        yield 1
        yield 2
        raise LookupError("source")

    got = []
    with pytest.raises(LookupError, match="source"):
        async for x in Pipeline([Lifecycle("a", log=log)]).stream(bad_source(), runtime=runtime):
            got.append(x)
    assert log == [("initialize", "a"), ("cleanup", "a")]
    assert got in ([], [1], [1, 2])

    # leaving early cancels the session
    log.clear()
    gen = Pipeline([Lifecycle("a", log=log)]).stream(agen(range(10**6)), runtime=runtime, capacity=4)
    async for x in gen:
        if x == 10:
            break
    await gen.aclose()
    assert log == [("initialize", "a"), ("cleanup", "a")]

    log.clear()
    sync_gen = Pipeline([Lifecycle("a", log=log)]).stream_sync(range(10**6), runtime=runtime, capacity=4)
    for x in sync_gen:
        if x == 10:
            break
    sync_gen.close()
    assert log == [("initialize", "a"), ("cleanup", "a")]


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_cancelling_a_task_consuming_a_stream(runtime):
    log = []
    seen = asyncio.Event()

    async def consume():
        async for _ in Pipeline([Lifecycle("a", log=log), AsyncAdd("b")]).stream(agen(range(10**6)), runtime=runtime):
            seen.set()

    task = asyncio.create_task(consume())
    await seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == [("initialize", "a"), ("cleanup", "a")]


# ----------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("runtime", ENGINES)
async def test_metrics_counts_and_percentiles(runtime):
    n = 200
    pipeline = Pipeline([PassThroughNode(name="in"), CalculatorNode(name="add", operation="add", operand=1),
                         FilterNode(name="even", condition="item % 2 == 0"), Twice("twice")])
    async with make_session(pipeline, runtime, 16) as s:
        m = s.metrics()
        assert m["state"] == "running" and m["items_in"] == 0 and m["latency_us"]["count"] == 0
        got = (await through_session_open(s, range(n)))
        m = s.metrics()
    assert got == [y for x in range(n) if (x + 1) % 2 == 0 for y in (x + 1, x + 1)]
    assert m == s.metrics()
    assert m["state"] == "ended"
    assert (m["items_in"], m["items_out"], m["queued"], m["pending_outputs"]) == (n, n, 0, 0)
    lat = m["latency_us"]
    assert lat["count"] == n
    assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"]
    assert [(d["id"], d["items_in"], d["items_out"], d["errors"]) for d in m["nodes"]] == [
        ("in", n, n, 0), ("add", n, n, 0), ("even", n, n // 2, 0), ("twice", n // 2, n, 0)]
    for d in m["nodes"]:
        assert set(d) == {"id", "node_type", "items_in", "items_out", "errors", "process_us"}
        assert 0 <= d["process_us"]["p50"] <= d["process_us"]["p99"]
    assert m["nodes"][1]["node_type"] == "CalculatorNode"
    assert json.loads(s.metrics_json()) == m


def metrics_pipeline(fail):
    return Pipeline([
        PassThroughNode(name="in"),
        CalculatorNode(name="add", operation="add", operand=1),
        FilterNode(name="keep", condition="item % 3 != 0"),
        MapNode(name="div", expression="120 // (item - 31)" if fail else "item * 2"),
        BufferNode(name="buf", buffer_size=4),  # emits its remainder when it flushes
        Twice("twice"),
        PassThroughNode(name="out"),
    ])


@pytest.mark.parametrize("runtime", [pytest.param("native", marks=native_only),
                                     pytest.param("native-threaded", marks=native_only)])
@pytest.mark.parametrize("fail", [False, True])
async def test_per_node_metrics_equal_the_python_engines(runtime, fail):
    items = list(range(43))  # 29 kept: seven lists of four, and one at the flush (or a failure on 30)

    async def node_metrics(engine):
        s = make_session(metrics_pipeline(fail), engine, 8)
        async with s:
            async def produce():
                try:
                    for x in items:
                        await s.send(x)
                    await s.end()
                except errors.NodeZeroDivisionError:
                    pass

            producer = asyncio.create_task(produce())
            try:
                async for _ in s:
                    pass
            except errors.NodeZeroDivisionError as exc:
                assert fail and exc.node_id == "div"
            await producer
        m = s.metrics()
        # After a failure, how many items were sent before it was seen depends on timing.
        items_in = None if fail else m["items_in"]
        return m["state"], items_in, m["items_out"], [
            (n["id"], n["items_in"], n["items_out"], n["errors"]) for n in m["nodes"]]

    expected = await node_metrics("python")
    assert expected[0] == ("failed" if fail else "ended")
    assert expected[3][3] == (("div", 21, 20, 1) if fail else ("div", 29, 29, 0))
    assert expected[3][4] == (("buf", 20, 5, 0) if fail else ("buf", 29, 8, 0))
    assert await node_metrics(runtime) == expected


async def through_session_open(s, items):
    async def produce():
        for x in items:
            await s.send(x)
        await s.end()

    producer = asyncio.create_task(produce())
    out = [x async for x in s]
    await producer
    return out


def test_log_histogram():
    h = LogHistogram()
    assert h.percentile(0.5) == 0.0
    h.record(7)
    assert h.percentile(0.0) == h.percentile(0.5) == h.percentile(1.0) == 7
    h = LogHistogram(range(1, 10_001))
    for q in (0.5, 0.9, 0.99, 0.999):
        exact = q * 10_000
        assert abs(h.percentile(q) - exact) / exact < 0.05
    assert h.percentile(0.5) <= h.percentile(0.99) <= h.percentile(0.999) <= h.max == 10_000
    other = LogHistogram([0.2, 1e9])
    h.merge(other)
    assert h.count == 10_002 and h.min == 0.2 and h.max == 1e9
    assert h.summary(1e-3, p50=0.5) == {"p50": round(h.percentile(0.5) * 1e-3, 3)}
    with pytest.raises(ValueError):
        h.record(-1)


def test_session_arguments_are_checked():
    p = Pipeline([PassThroughNode(name="p")])
    with pytest.raises(ValueError, match="capacity"):
        p.session(capacity=0)
    with pytest.raises(ValueError, match="runtime"):
        p.sync_session(runtime="rust")
    with pytest.raises(RuntimeError, match="not open"):
        p.sync_session().send(1)


# ------------------------------------------------------------ cleanup failures, as in run()
# A cleanup failure replaces the outcome as an exception raised in a `finally` does (docs/SEMANTICS.md,
# docs/SESSIONS.md): a node's earlier error becomes its __context__, a clean end becomes a failure.
# The session reports it only once every node's cleanup has run (a slow cleanup shows a report made
# too early).


class CleanupFails(Node):
    """Passes items on; its cleanup raises KeyError after ``delay`` seconds."""

    def __init__(self, name=None, delay=0.0, **kw):
        super().__init__(name, **kw)
        self.delay = delay

    def process(self, x):
        return x

    def cleanup(self):
        time.sleep(self.delay)
        raise KeyError(f"cleanup of {self.name}")


class AsyncCleanupFails(CleanupFails):
    async def cleanup(self):
        await asyncio.sleep(self.delay)
        raise LookupError(f"async cleanup of {self.name}")


class InitFails(Node):
    def initialize(self):
        raise RuntimeError(f"no {self.name}")

    def process(self, x):
        return x


CLEANUP_CASES = {
    # name: (pipeline, items, outputs before the error)
    "a Python node fails, then a cleanup": (
        lambda: Pipeline([CleanupFails("c", delay=0.02), PassThroughNode(name="p"), FailOn("f", bad=2)]),
        [0, 1, 2, 3], [0, 1]),
    "a native node fails, then a cleanup": (
        lambda: Pipeline([CleanupFails("c"), MapNode(name="m", expression="10 / item")]), [5, 2, 0, 1], [2.0, 5.0]),
    "the cleanup alone, after a clean end": (
        lambda: Pipeline([CleanupFails("c", delay=0.02), BufferNode(name="b", buffer_size=2)]), [1, 2, 3], [[1, 2], [3]]),
    "two cleanups after a failure: the first node's wins": (
        lambda: Pipeline([CleanupFails("c1"), AsyncCleanupFails("c2", delay=0.01), FailOn("f", bad=1)]), [0, 1], [0]),
    "an async cleanup after a flush failure": (
        lambda: Pipeline([AsyncCleanupFails("c", delay=0.01), BufferNode(name="b", buffer_size=2),
                          MapNode(name="m", expression="1 / (len(item) - 1)")]),
        [1, 2, 3], [1.0]),
}


def run_error(make, items, runtime):
    with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
        make().run_sync(items, runtime=runtime)
    return caught.value


def through_sync_session(pipeline, items, runtime):
    """As through_session, with a SyncSession: a thread sends while this one iterates."""
    outputs = []
    session = make_sync_session(pipeline, runtime)
    try:
        session.open()
    except Exception as exc:  # noqa: BLE001
        return "error", exc, outputs, session
    with session as s:
        def produce():
            try:
                for item in items:
                    s.send(item)
                s.end()
            except Exception:  # noqa: BLE001 - the consumer receives the session's error
                pass

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            for out in s:
                outputs.append(out)
        except Exception as exc:  # noqa: BLE001
            producer.join()
            return "error", exc, outputs, s
        producer.join()
    return "ok", outputs, s


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("case", CLEANUP_CASES)
async def test_a_cleanup_failure_replaces_the_outcome_as_in_run(runtime, kind, case):
    make, items, before = CLEANUP_CASES[case]
    python_run, native_run = run_error(make, items, "python"), None
    if HAS_NATIVE_SESSION:
        native_run = run_error(make, items, "native")
        assert describe(native_run) == describe(python_run)  # run agrees with itself first
    if kind == "async":
        got = await through_session(make(), items, runtime)
        session = None
    else:
        got = await asyncio.to_thread(through_sync_session, make(), items, runtime)
        session = got[3]
    assert got[0] == "error", got
    error, outputs = got[1], got[2]
    assert outputs == before  # every output before the failure, none after it
    assert describe(error) == describe(python_run)
    # The errors it replaced, in order, as the __context__ chain of Python's run (the native run's:
    # tests/python/system/test_cleanup_errors.py).
    assert context_chain(error) == context_chain(python_run)
    if session is not None:
        assert session.metrics()["state"] == "failed"
        with pytest.raises(type(error)) as again:
            session.send(99)
        assert again.value is error  # one exception, however often it is raised


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_cleanup_failure_nobody_received_is_raised_on_leaving(runtime):
    make, items, _ = CLEANUP_CASES["the cleanup alone, after a clean end"]
    s = make_session(make(), runtime)
    with pytest.raises(KeyError, match="cleanup of c") as caught:
        async with s:
            for x in items:
                await s.send(x)
    assert caught.value.__context__ is None
    assert s.metrics()["state"] == "failed"
    assert [n["errors"] for n in s.metrics()["nodes"]] == [0, 0]  # a cleanup is no process or flush

    make, items, _ = CLEANUP_CASES["a Python node fails, then a cleanup"]
    s = make_sync_session(make(), runtime)
    with pytest.raises(KeyError, match="cleanup of c") as caught:
        with s:
            for x in items[:3]:
                s.send(x)
    assert type(caught.value.__context__) is ValueError and caught.value.__context__.item_index == 2


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_cleanup_failure_replaces_an_initialize_failure_as_in_run(runtime, kind):
    def make():
        return Pipeline([CleanupFails("c1"), AsyncCleanupFails("c2"), InitFails("i"), CleanupFails("never")])

    expected = run_error(make, [1], "python")
    if HAS_NATIVE_SESSION:
        assert describe(run_error(make, [1], "native")) == describe(expected)
    with pytest.raises(KeyError) as caught:
        if kind == "async":
            async with make_session(make(), runtime):
                pass
        else:
            with make_sync_session(make(), runtime):
                pass
    assert context_chain(caught.value) == context_chain(expected)
    assert [d[0] for d in context_chain(caught.value)] == [KeyError, LookupError, RuntimeError]


# ------------------------------------------------------------ a cancel after the outcome is decided
# A cancel stands only when it comes first (docs/SESSIONS.md). After a node's failure, or after the
# flush (which only a cleanup may still fail), it drops the outputs still held but leaves the
# outcome: a failed session stays failed, so iterating raises its error, a send raises it, and
# leaving `with` raises it when the consumer never received it; an ended session's iteration stops.

def wait_for_state_sync(session, states=("cancelled", "ended", "failed"), timeout=5.0):
    deadline = time.monotonic() + timeout
    while session.metrics()["state"] not in states:
        assert time.monotonic() < deadline, session.metrics()
        time.sleep(0.001)
    return session.metrics()["state"]


def failing_pipeline():
    return Pipeline([PassThroughNode(name="p"), FailOn("f", bad=2)])


def expected_failure():
    with pytest.raises(ValueError) as caught:
        failing_pipeline().run_sync([0, 1, 2, 3], runtime="python")
    return describe(caught.value)


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_cancel_after_a_failure_leaves_the_error_to_raise(runtime):
    expected = expected_failure()
    # Never received: iterating after the cancel raises it (no outputs: they were dropped), and
    # raises it again, as a failed session does; leaving `async with` then does not.
    s = make_session(failing_pipeline(), runtime)
    async with s:
        for x in [0, 1, 2]:
            await s.send(x)
        assert await wait_for_state(s) == "failed"
        await s.cancel()
        assert s.metrics()["state"] == "failed"
        with pytest.raises(ValueError) as first:
            async for _ in s:
                pass
        assert describe(first.value) == expected
        with pytest.raises(ValueError) as again:
            await s.__anext__()
        assert again.value is first.value
        with pytest.raises(ValueError) as sent:
            await s.send(5)
        assert sent.value is first.value
    # Never received, not even by iterating: leaving `async with` raises it.
    s = make_session(failing_pipeline(), runtime)
    with pytest.raises(ValueError) as left:
        async with s:
            for x in [0, 1, 2]:
                await s.send(x)
            assert await wait_for_state(s) == "failed"
            await s.cancel()
    assert describe(left.value) == expected
    assert s.metrics()["state"] == "failed"
    # Received before the cancel: not raised again on leaving.
    s = make_session(failing_pipeline(), runtime)
    async with s:
        for x in [0, 1, 2]:
            await s.send(x)
        with pytest.raises(ValueError):
            async for _ in s:
                pass
        await s.cancel()


@pytest.mark.parametrize("runtime", ENGINES)
def test_a_cancel_after_a_failure_leaves_the_error_to_raise_sync(runtime):
    expected = expected_failure()
    s = make_sync_session(failing_pipeline(), runtime)
    with pytest.raises(ValueError) as left:
        with s:
            for x in [0, 1, 2]:
                s.send(x)
            assert wait_for_state_sync(s) == "failed"
            s.cancel()
            assert s.metrics()["state"] == "failed"
    assert describe(left.value) == expected
    s = make_sync_session(failing_pipeline(), runtime)
    with s:
        for x in [0, 1, 2]:
            s.send(x)
        wait_for_state_sync(s)
        s.cancel()
        with pytest.raises(ValueError) as first:
            list(s)
        assert describe(first.value) == expected
        with pytest.raises(ValueError) as again:
            next(s)
        assert again.value is first.value


@pytest.mark.parametrize("runtime", ENGINES)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_cancel_after_the_flush_leaves_the_end_or_a_cleanup_failure(runtime, kind):
    def ended_then_cancelled(make, leave):
        # The flush finished (state ended or, after a failing cleanup, failed), then a cancel.
        async def run_async():
            s = make_session(make(), runtime)
            async with s:
                for x in [1, 2, 3]:
                    await s.send(x)
                await s.end()
                await wait_for_state(s)
                await s.cancel()
                if not leave:
                    return s, [x async for x in s]  # raises a failure
            return s, None

        def run_sync():
            s = make_sync_session(make(), runtime)
            with s:
                for x in [1, 2, 3]:
                    s.send(x)
                s.end()
                wait_for_state_sync(s)
                s.cancel()
                if not leave:
                    return s, list(s)
            return s, None

        return run_async() if kind == "async" else asyncio.to_thread(run_sync)

    def ended():
        return Pipeline([PassThroughNode(name="p"), BufferNode(name="b", buffer_size=2)])

    # Ended cleanly: the outputs not read are dropped, iteration stops, nothing is raised.
    s, outputs = await ended_then_cancelled(ended, leave=False)
    assert outputs == [] and s.metrics()["state"] == "ended"
    s, _ = await ended_then_cancelled(ended, leave=True)
    assert s.metrics()["state"] == "ended"

    # A cleanup failed the ended session: its error is raised, by iterating or on leaving.
    make = CLEANUP_CASES["the cleanup alone, after a clean end"][0]
    expected = run_error(make, [1, 2, 3], "python")
    for leave in (False, True):
        with pytest.raises(KeyError) as caught:
            await ended_then_cancelled(make, leave=leave)
        assert describe(caught.value) == describe(expected)
        assert caught.value.__context__ is None


@pytest.mark.parametrize("runtime", ENGINES)
async def test_a_cancel_before_a_failure_stands(runtime):
    # The item that would fail is never processed: the session is cancelled, without an error.
    s = make_session(Pipeline([FailOn("f", bad=2)]), runtime, capacity=8)
    async with s:
        await s.send(0)
        await s.cancel()
        assert s.metrics()["state"] == "cancelled"
        assert [x async for x in s] == []
        with pytest.raises(SessionClosedError):
            await s.send(2)


# ------------------------------------------------------- stream_sync's native fast path (push_ready)
# On the native engine, stream_sync sends an item and takes the outputs ready in one native call
# (NativeSession.push_ready); these check that it keeps every semantic of the general loop, on
# both engines.


class Counted:
    """An iterable that counts the items taken from it."""

    def __init__(self, items):
        self.items = list(items)
        self.taken = 0

    def __iter__(self):
        for x in self.items:
            self.taken += 1
            yield x


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("capacity", [1, 2, 64])
def test_stream_sync_equals_run_at_every_capacity(runtime, capacity):
    for name, make in PIPELINES.items():
        expected = reference(make, ITEMS)[1]
        assert list(make().stream_sync(ITEMS, runtime=runtime, capacity=capacity)) == expected, name


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("capacity", [1, 3])
def test_stream_sync_reads_the_source_as_it_goes(runtime, capacity):
    # each item gives 4 outputs; when the output of item i is yielded, at most `capacity` items
    # past it have been taken from the source (they are held by the session, unprocessed)
    class Four(Node):
        def process(self, x):
            for k in range(4):
                yield (x, k)

    source = Counted(range(200))
    got = []
    for x, k in Pipeline([Four("four")]).stream_sync(source, runtime=runtime, capacity=capacity):
        assert source.taken <= x + 1 + capacity, (x, source.taken)
        got.append((x, k))
    assert got == [(x, k) for x in range(200) for k in range(4)]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_sync_a_python_node_raising_inside(runtime):
    # 60 // 2 + 1 == 31: FailOn (a Python node inside a native pipeline) raises on item 4
    items = [6, 10, 5, 60, 2, 1]
    _, prefix = reference(failing_chain, items[:4])
    got = []
    with pytest.raises(ValueError, match="31 is bad") as info:
        for x in failing_chain().stream_sync(items, runtime=runtime, capacity=2):
            got.append(x)
    assert got == prefix  # every output before the error, nothing after it
    assert info.value.node_id == "fail" and info.value.item_index == 4
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(f.name == "process" and "raise ValueError" in (f.line or "") for f in frames)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_sync_an_error_on_the_last_item_and_on_the_flush(runtime):
    got = []
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        for x in failing_chain().stream_sync([5, 4, 0], runtime=runtime):
            got.append(x)
    assert got == [13, 13, 16, 16] and info.value.item_index == 2

    class FlushFails(Node):
        def process(self, x):
            return x

        def flush(self):
            raise KeyError("at the end")

    got = []
    with pytest.raises(KeyError) as info:
        for x in Pipeline([FlushFails("f")]).stream_sync([1, 2, 3], runtime=runtime, capacity=1):
            got.append(x)
    assert got == [1, 2, 3] and info.value.node_id == "f"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_sync_closed_mid_stream_cancels(runtime):
    log = []
    source = Counted(range(10**6))
    gen = Pipeline([Lifecycle("a", log=log), Twice("t")]).stream_sync(source, runtime=runtime, capacity=2)
    got = [next(gen) for _ in range(7)]
    assert got == [0, 0, 1, 1, 2, 2, 3]
    gen.close()
    assert log == [("initialize", "a"), ("cleanup", "a")]
    assert source.taken <= 4 + 2
    with pytest.raises(StopIteration):
        next(gen)


@native_only
def test_native_push_ready_and_wait_change():
    compiled = Pipeline([Twice("t")])._compiled("native")
    native = _module.NativeSession(compiled, 3)
    assert native.push_ready(1) == [1, 1]
    since = native.generation()
    t0 = time.monotonic()
    native.wait_change(since, 0.05)  # no news: returns after the timeout
    assert time.monotonic() - t0 >= 0.04 and native.generation() == since
    assert native.push(2) and native.push(3)  # held: 2, 2, 3, 3 (over capacity by one item's outputs)
    assert native.push_ready(4) is None  # full: nothing taken
    assert native.pop() == ("item", 2)
    assert native.generation() >= since + 2  # each processed item is news (and room again)
    threading.Timer(0.05, native.wake).start()
    native.wait_change(native.generation())  # returns when woken
    native.end()
    assert [native.pop() for _ in range(4)] == [("item", 2), ("item", 3), ("item", 3), ("end", None)]
    with pytest.raises(RuntimeError, match="ended"):
        native.push_ready(5)

    failing = _module.NativeSession(Pipeline([FailOn("f", bad=2)])._compiled("native"), 8)
    assert failing.push_ready(1) == [1]
    assert failing.push_ready(2) == []  # the error is pop's to raise
    with pytest.raises(ValueError, match="2 is bad"):
        failing.pop()
    with pytest.raises(ValueError, match="2 is bad"):
        failing.push_ready(3)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_two_sessions_on_one_pipeline_have_their_own_built_in_nodes(runtime):
    # The Python engine used the pipeline's BufferNode for both: each session got the other's items.
    pipeline = Pipeline([BufferNode(name="b", buffer_size=2)])
    with pipeline.sync_session(runtime=runtime) as a, pipeline.sync_session(runtime=runtime) as b:
        for i in range(4):
            a.send(("a", i))
            b.send(("b", i))
        a.end()
        b.end()
        assert list(a) == [[("a", 0), ("a", 1)], [("a", 2), ("a", 3)]]
        assert list(b) == [[("b", 0), ("b", 1)], [("b", 2), ("b", 3)]]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_two_sessions_on_one_pipeline_share_a_user_nodes_instance(runtime):
    # docs/SESSIONS.md: a user node is the user's object, the same in every session of its pipeline.
    class Count(Node):
        def initialize(self):
            self.n = 0

        def process(self, x):
            self.n += 1
            return self.n

    pipeline = Pipeline([Count("c")])
    with pipeline.sync_session(runtime=runtime) as a, pipeline.sync_session(runtime=runtime) as b:
        for _ in range(2):
            a.send(0)
            b.send(0)
        a.end()
        b.end()
        assert (list(a), list(b)) == ([1, 3], [2, 4])
