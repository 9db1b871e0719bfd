"""Python nodes inside native pipelines (mixed execution): same outputs and errors as the Python
executor, the GIL rules of DESIGN.md in practice (threads, shutdown), and no leaked references."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import traceback

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("remotemedia._runtime")

from remotemedia import Node, Pipeline, errors  # noqa: E402
from remotemedia.nodes.base import PassThroughNode  # noqa: E402
from remotemedia.nodes.calculator import CalculatorNode  # noqa: E402


# --------------------------------------------------------------------------- user node kinds


class AddK(Node):
    def __init__(self, name=None, k=1, **kw):
        super().__init__(name, **kw)
        self.k = k

    def process(self, x):
        return x + self.k


class DropOdd(Node):
    def process(self, x):
        return None if x % 2 else x


class Twice(Node):
    def process(self, x):
        yield x
        yield x


class Counter(Node):
    """Stateful: numbers its items per run, emits the count at end of stream."""

    def initialize(self):
        self.seen = 0

    def process(self, x):
        self.seen += 1
        return (x, self.seen) if isinstance(x, int) and x < 0 else x

    def flush(self):
        return self.seen


class AsyncScale(Node):
    async def process(self, x):
        await asyncio.sleep(0)
        return x * 3


class AsyncSplit(Node):
    async def process(self, x):
        yield x
        await asyncio.sleep(0)
        yield -x


class BatchSum(Node):
    """process_batch: one call per batch."""

    def process_batch(self, items):
        return [sum(items)] if items else []


class Failing(Node):
    def __init__(self, name=None, at=0, exc=ValueError, **kw):
        super().__init__(name, **kw)
        self.at, self.exc = at, exc

    def process(self, x):
        if x == self.at:
            raise self.exc(f"refused {x}")
        return x


class CustomError(Exception):
    pass


def user_node(draw, i):
    kind = draw(st.sampled_from(["add", "drop", "twice", "counter", "async", "asyncgen", "fail",
                                 "calc_python", "batch"]))
    name = f"u{i}"
    if kind == "add":
        return AddK(name, k=draw(st.integers(-3, 3)))
    if kind == "drop":
        return DropOdd(name)
    if kind == "twice":
        return Twice(name)
    if kind == "counter":
        return Counter(name)
    if kind == "async":
        return AsyncScale(name)
    if kind == "asyncgen":
        return AsyncSplit(name)
    if kind == "batch":
        return BatchSum(name)
    if kind == "calc_python":  # a built-in forced onto its Python code
        return CalculatorNode(name=name, operation=draw(st.sampled_from(["add", "multiply", "modulo"])),
                              operand=draw(st.integers(-3, 3)), runtime_hint="python")
    exc = draw(st.sampled_from([ValueError, KeyError, CustomError, ZeroDivisionError]))
    return Failing(name, at=draw(st.integers(-5, 5)), exc=exc)


@st.composite
def mixed_pipelines(draw):
    nodes = []
    for i in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            nodes.append(user_node(draw, i))
        elif draw(st.booleans()):
            nodes.append(PassThroughNode(name=f"n{i}"))
        else:
            nodes.append(CalculatorNode(name=f"n{i}", operation=draw(st.sampled_from(["add", "multiply", "subtract"])),
                                        operand=draw(st.integers(-3, 3))))
    return nodes


def outcome(pipeline, items, runtime):
    try:
        return "ok", pipeline.run_sync(items, runtime=runtime)
    except Exception as exc:  # noqa: BLE001 - compared below
        return "error", exc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=mixed_pipelines(), items=st.lists(st.one_of(st.integers(-6, 6), st.just("s")), max_size=6))
def test_mixed_pipelines_agree_with_the_python_executor(nodes, items):
    pipeline = Pipeline(nodes)
    assert any(p.runs_on == "python" for p in pipeline.explain()) or all(
        type(n) in (PassThroughNode, CalculatorNode) for n in nodes)
    python = outcome(pipeline, items, "python")
    native = outcome(pipeline, items, "native")
    context = f"{nodes} on {items}"
    assert python[0] == native[0], f"{context}: {python} vs {native}"
    if python[0] == "ok":
        assert python[1] == native[1], context
        assert [type(x) for x in python[1]] == [type(x) for x in native[1]], context
    else:
        p, n = python[1], native[1]
        assert type(p) is type(n), f"{context}: {p!r} vs {n!r}"
        assert (getattr(p, "node_id", None), getattr(p, "item_index", None)) == (
            getattr(n, "node_id", None), getattr(n, "item_index", None)), f"{context}: {p!r} vs {n!r}"
        if not isinstance(p, errors.NodeError):  # a user's exception: the very same text
            assert str(p) == str(n), context


# --------------------------------------------------------------------------- specific behaviour


def test_python_nodes_run_inside_the_native_pipeline_not_on_the_python_executor():
    pipeline = Pipeline([PassThroughNode(name="a"), AddK("b"), CalculatorNode(name="c", operation="multiply", operand=2)])
    runs = {p.node.name: p.runs_on for p in pipeline.explain()}
    assert runs == {"a": "native", "b": "python", "c": "native"}
    compiled = pipeline._compiled("native")
    assert compiled.node_ids == ["a", "b", "c"]  # one native pipeline holds all three
    assert pipeline.run_sync([1, 2], runtime="native") == [4, 6]


def test_generators_async_and_async_generators():
    pipeline = Pipeline([Twice("t"), AsyncScale("s"), AsyncSplit("g")])
    assert pipeline.run_sync([1, 2], runtime="native") == [3, -3, 3, -3, 6, -6, 6, -6]


async def test_async_nodes_inside_a_running_event_loop():
    """The caller's loop is busy running this test; coroutines run on the runtime's own loop."""
    pipeline = Pipeline([AsyncScale("s"), PassThroughNode(name="p")])
    assert await pipeline.run([1, 2, 3], runtime="native") == [3, 6, 9]


def test_state_persists_across_items_and_initialize_runs_each_run():
    counter = Counter("c")
    pipeline = Pipeline([PassThroughNode(name="p"), counter])
    assert pipeline.run_sync([-1, 5, -2], runtime="native") == [(-1, 1), 5, (-2, 3), 3]
    assert pipeline.run_sync([-9], runtime="native") == [(-9, 1), 1]  # initialize reset it
    assert counter.seen == 1  # the user's own instance ran


def test_process_batch_gets_the_whole_batch_once():
    calls = []

    class Spy(Node):
        def process_batch(self, items):
            calls.append(list(items))
            return np.asarray(items) * 2

    out = Pipeline([PassThroughNode(name="p"), Spy("s")]).run_sync([1, 2, 3], runtime="native")
    assert [int(x) for x in out] == [2, 4, 6]
    assert calls == [[1, 2, 3]]


@pytest.mark.parametrize("exc_type", [ValueError, KeyError, CustomError, ZeroDivisionError, RuntimeError])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_exceptions_keep_type_message_traceback_and_location(exc_type, position):
    nodes = [PassThroughNode(name="a"), AddK("b", k=0), CalculatorNode(name="c", operation="add", operand=0)]
    nodes.insert(position, Failing("boom", at=4, exc=exc_type))
    pipeline = Pipeline(nodes)
    with pytest.raises(exc_type) as info:
        pipeline.run_sync([1, 4, 7], runtime="native")
    exc = info.value
    assert type(exc) is exc_type and "refused 4" in str(exc)
    assert (exc.node_id, exc.node_type, exc.item_index) == ("boom", "Failing", 1)
    frames = [f.name for f in traceback.extract_tb(exc.__traceback__)]
    assert "process" in frames  # the user's own frame survived the trip through C++
    assert any("raised in node 'boom' (Failing) on item 1" in note for note in exc.__notes__)


def test_errors_in_initialize_and_cleanup():
    class BadInit(Node):
        def initialize(self):
            raise OSError("no device")

        def process(self, x):
            return x

    class BadCleanup(Node):
        def process(self, x):
            return x

        def cleanup(self):
            raise LookupError("cleanup failed")

    for runtime in ("native", "python"):
        with pytest.raises(OSError, match="no device") as info:
            Pipeline([PassThroughNode(name="p"), BadInit("i")]).run_sync([1], runtime=runtime)
        assert any("initialize() of node 'i'" in n for n in info.value.__notes__)
        with pytest.raises(LookupError, match="cleanup failed"):
            Pipeline([BadCleanup("c"), PassThroughNode(name="p")]).run_sync([1], runtime=runtime)


def test_user_node_registered_by_name_round_trips_through_a_manifest():
    from remotemedia.core.registry import register_node_type, unregister_node_type
    from remotemedia.core.params import ParamSpec

    @register_node_type
    class Offset(Node):
        PARAMS = (ParamSpec("by", "int", required=True),)

        def process(self, x):
            return x + self.config["by"]

    try:
        pipeline = Pipeline([PassThroughNode(name="p"), Offset("o", by=10)])
        text = pipeline.serialize()
        again = Pipeline.from_manifest(text)
        assert again.serialize() == text
        assert again.run_sync([1, 2], runtime="native") == [11, 12]
        assert [p.runs_on for p in again.explain()] == ["native", "python"]
    finally:
        unregister_node_type("Offset")


# --------------------------------------------------------------------------- GIL, threads, leaks


def test_runs_from_several_threads_at_once():
    errors: list[BaseException] = []

    def work(k):
        try:
            pipeline = Pipeline([PassThroughNode(name="p"), AddK("a", k=k), Twice("t"),
                                 CalculatorNode(name="c", operation="multiply", operand=2)])
            items = list(range(200))
            expected = [v for x in items for v in ((x + k) * 2, (x + k) * 2)]
            for _ in range(50):
                assert pipeline.run_sync(items, runtime="native") == expected
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_ten_thousand_runs_leak_no_references():
    node = AddK("a", k=1)
    failing = Failing("f", at=3, exc=KeyError)
    ok = Pipeline([PassThroughNode(name="p"), node, CalculatorNode(name="c", operation="add", operand=1)])
    bad = Pipeline([node, failing])
    token = object()
    items = [1, 2, 3]
    ok.run_sync(items, runtime="native")  # compile both (a compiled pipeline holds its nodes)
    with pytest.raises(KeyError):
        bad.run_sync([2], runtime="native")
    gc.collect()
    before = (sys.getrefcount(node), sys.getrefcount(failing), sys.getrefcount(token), len(gc.get_objects()))
    for i in range(10_000):
        if i % 10 == 0:
            with pytest.raises(KeyError):
                bad.run_sync([0, 1, 2, token], runtime="native")
        else:
            assert ok.run_sync(items, runtime="native") == [3, 4, 5]
    gc.collect()
    after = (sys.getrefcount(node), sys.getrefcount(failing), sys.getrefcount(token), len(gc.get_objects()))
    assert after[:3] == before[:3]
    assert after[3] - before[3] < 50  # no growth proportional to the 10,000 runs


def test_interpreter_shutdown_with_runs_in_flight_does_not_crash():
    script = textwrap.dedent("""
        import threading, time
        from remotemedia import Pipeline, Node
        from remotemedia.nodes.base import PassThroughNode

        class Slow(Node):
            def process(self, x):
                time.sleep(0.0005)
                return x + 1

        class SlowAsync(Node):
            async def process(self, x):
                import asyncio
                await asyncio.sleep(0.0005)
                return x

        def work(nodes):
            p = Pipeline(nodes)
            while True:
                try:
                    p.run_sync(list(range(500)), runtime="native")
                except Exception:
                    return

        for nodes in ([PassThroughNode(name="a"), Slow("s")], [SlowAsync("x"), PassThroughNode(name="b")]):
            threading.Thread(target=work, args=(nodes,), daemon=True).start()
        time.sleep(0.2)
        print("bye", flush=True)
    """)
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "bye"
        assert "Fatal Python error" not in done.stderr
