"""The Python executor (remotemedia.core.executor): the reference semantics of docs/SEMANTICS.md."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from remotemedia import Node, errors
from remotemedia.core.executor import PipelineRun, execute
from remotemedia.nodes import CalculatorNode, PassThroughNode


class Fn(Node):
    """A node whose process is the given function."""

    def __init__(self, name, fn):
        super().__init__(name)
        self.fn = fn

    def process(self, item):
        return self.fn(item)


class Repeat(Node):
    """Yields each item ``times`` times (a generator node)."""

    def __init__(self, name, times):
        super().__init__(name)
        self.times = times

    def process(self, item):
        for _ in range(self.times):
            yield item


class AsyncAddOne(Node):
    async def process(self, item):
        await asyncio.sleep(0)
        return None if item is None else item + 1


class AsyncSplit(Node):
    """Async generator: yields item and -item."""

    async def process(self, item):
        yield item
        await asyncio.sleep(0)
        yield -item


class Batch(Node):
    """Groups items in pairs; flush emits the incomplete last group."""

    def __init__(self, name):
        super().__init__(name)
        self.pending = []

    def process(self, item):
        self.pending.append(item)
        if len(self.pending) == 2:
            group, self.pending = self.pending, []
            return group
        return None

    def flush(self):
        group, self.pending = self.pending, []
        return group or None


class Recorder(Node):
    """Records its hooks in a shared log."""

    def __init__(self, name, log, fail_in=None, asynchronous=False):
        super().__init__(name)
        self.log, self.fail_in = log, fail_in
        if asynchronous:
            self.initialize, self.cleanup = self._async_initialize, self._async_cleanup

    def initialize(self):
        self.log.append(("initialize", self.name))
        if self.fail_in == "initialize":
            raise RuntimeError("initialize failed")

    def cleanup(self):
        self.log.append(("cleanup", self.name))

    async def _async_initialize(self):
        await asyncio.sleep(0)
        self.log.append(("initialize", self.name))

    async def _async_cleanup(self):
        await asyncio.sleep(0)
        self.log.append(("cleanup", self.name))

    def process(self, item):
        self.log.append(("process", self.name, item))
        if self.fail_in == "process":
            raise KeyError(item)
        return item

    def flush(self):
        self.log.append(("flush", self.name))


def fail_on(values, exc=ValueError):
    def fn(item):
        if item in values:
            raise exc(f"bad {item}")
        return item

    return fn


# ------------------------------------------------------------------------------------ chains


async def test_chain_runs_nodes_in_order_and_keeps_item_order():
    nodes = [Fn("double", lambda x: x * 2), Fn("inc", lambda x: x + 1)]
    assert await execute(nodes, [1, 2, 3]) == [3, 5, 7]  # (x*2)+1, not (x+1)*2


async def test_empty_pipeline_is_the_identity_and_returns_a_new_list():
    items = [1, None, "a"]
    result = await execute([], items)
    assert result == items and result is not items
    assert await execute([], iter([4, 5]), connections=[]) == [4, 5]


async def test_none_results_are_filtered_and_none_items_can_be_dropped_by_passthrough():
    nodes = [Fn("odd", lambda x: x if x % 2 else None), PassThroughNode("p")]
    assert await execute(nodes, range(6)) == [1, 3, 5]
    assert await execute([PassThroughNode("p")], [1, None, 2]) == [1, 2]


async def test_result_is_a_list_for_any_iterable_input():
    result = await execute([PassThroughNode("p")], (x for x in (1, 2)))
    assert type(result) is list and result == [1, 2]


async def test_generator_emits_each_yielded_item_including_none():
    nodes = [Repeat("r", 2), Fn("neg", lambda x: -x if x is not None else "none")]
    assert await execute(nodes, [1, 2]) == [-1, -1, -2, -2]
    assert await execute([Repeat("r", 2)], [None]) == [None, None]
    assert await execute([Repeat("r", 0), PassThroughNode("p")], [1, 2]) == []


async def test_coroutine_and_async_generator_nodes():
    nodes = [AsyncAddOne("a"), AsyncSplit("s"), AsyncAddOne("b")]
    assert await execute(nodes, [1, 10]) == [3, -1, 12, -10]
    assert PipelineRun(nodes).needs_event_loop
    assert not PipelineRun([PassThroughNode("p"), Repeat("r", 1)]).needs_event_loop


async def test_coroutine_returning_none_emits_nothing():
    class Drop(Node):
        async def process(self, item):
            return None

    assert await execute([Drop("d")], [1, 2]) == []


async def test_plain_def_returning_a_coroutine_is_a_plain_function():
    # The kind comes from the definition, detected once per run, not from each result.
    async def later(x):
        return x

    result = await execute([Fn("f", later)], [1])
    assert len(result) == 1 and asyncio.iscoroutine(result[0])
    result[0].close()


async def test_flush_emits_leftovers_through_downstream_nodes_in_chain_order():
    nodes = [Batch("pairs"), Fn("sum", sum), Batch("pairs2")]
    # pairs: [0,1] [2,3] then flush [4]; sums 1, 5, 4; pairs2: [1,5] then flush [4]
    assert await execute(nodes, range(5)) == [[1, 5], [4]]


@pytest.mark.parametrize("kind", ["plain", "generator", "coroutine", "async generator"])
async def test_flush_of_every_kind(kind):
    class Tail(Node):
        def process(self, item):
            return item

    if kind == "plain":
        Tail.flush = lambda self: "end"
    elif kind == "generator":

        def flush(self):
            yield "end"
            yield "end2"

        Tail.flush = flush
    elif kind == "coroutine":

        async def flush(self):
            return "end"

        Tail.flush = flush
    else:

        async def flush(self):
            yield "end"
            yield "end2"

        Tail.flush = flush
    result = await execute([Tail("t"), Fn("upper", str.upper)], ["a"])
    assert result == (["A", "END"] if kind in ("plain", "coroutine") else ["A", "END", "END2"])


async def test_initialize_and_cleanup_run_once_per_run_in_order():
    log = []
    nodes = [Recorder("a", log), Recorder("b", log, asynchronous=True)]
    assert await execute(nodes, [1, 2]) == [1, 2]
    assert log == [
        ("initialize", "a"),
        ("initialize", "b"),
        ("process", "a", 1),
        ("process", "a", 2),
        ("process", "b", 1),
        ("process", "b", 2),
        ("flush", "a"),
        ("flush", "b"),
        ("cleanup", "b"),
        ("cleanup", "a"),
    ]
    log.clear()
    await execute(nodes, [])
    assert [entry[0] for entry in log] == ["initialize"] * 2 + ["flush"] * 2 + ["cleanup"] * 2


async def test_cleanup_runs_after_a_failure_and_flush_does_not():
    log = []
    nodes = [Recorder("a", log), Recorder("b", log, fail_in="process")]
    with pytest.raises(KeyError):
        await execute(nodes, [7])
    assert ("cleanup", "a") in log and ("cleanup", "b") in log
    assert not any(entry[0] == "flush" for entry in log)


async def test_failed_initialize_cleans_up_only_what_was_initialized():
    log = []
    nodes = [Recorder("a", log), Recorder("b", log, fail_in="initialize"), Recorder("c", log)]
    with pytest.raises(RuntimeError, match="initialize failed") as info:
        await execute(nodes, [1])
    assert log == [("initialize", "a"), ("initialize", "b"), ("cleanup", "a")]
    assert any("initialize() of node 'b'" in note for note in info.value.__notes__)


# ---------------------------------------------------------------------------------- errors


async def test_node_error_gets_node_id_type_and_index_in_that_nodes_input_stream():
    nodes = [
        Fn("evens", lambda x: x if x % 2 == 0 else None),
        CalculatorNode("calc", operation="add", operand=1),
        Fn("boom", fail_on({3})),  # its input is 1, 3: 3 is its item 1 (pipeline item 2)
    ]
    with pytest.raises(ValueError) as info:
        await execute(nodes, [0, 1, 2, 3])
    exc = info.value
    assert (exc.node_id, exc.node_type, exc.item_index) == ("boom", "Fn", 1)
    assert "raised in node 'boom' (Fn) on item 1" in exc.__notes__


async def test_builtin_node_error_message_names_the_location():
    nodes = [PassThroughNode("p"), CalculatorNode("calc", operation="divide", operand=0)]
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        await execute(nodes, [5])
    assert (info.value.node_id, info.value.node_type, info.value.item_index) == (
        "calc",
        "CalculatorNode",
        0,
    )
    assert str(info.value) == "node 'calc' (CalculatorNode) failed on item 0: division by zero"


async def test_first_error_in_item_at_a_time_order_wins_downstream_first():
    # item 1 fails in 'second' before item 3 reaches 'first'
    nodes = [Fn("first", fail_on({3})), Fn("second", fail_on({1}, KeyError))]
    with pytest.raises(KeyError) as info:
        await execute(nodes, [0, 1, 2, 3])
    assert (info.value.node_id, info.value.item_index) == ("second", 1)


async def test_first_error_in_item_at_a_time_order_wins_upstream_first():
    nodes = [Fn("first", fail_on({1})), Fn("second", fail_on({3}, KeyError))]
    with pytest.raises(ValueError) as info:
        await execute(nodes, [0, 1, 2, 3])
    assert (info.value.node_id, info.value.item_index) == ("first", 1)


async def test_error_on_the_same_item_is_the_upstream_one():
    nodes = [Fn("first", fail_on({2})), Fn("second", fail_on({2}, KeyError))]
    with pytest.raises(ValueError) as info:
        await execute(nodes, [0, 1, 2])
    assert info.value.node_id == "first"


async def test_outputs_a_generator_yielded_before_failing_go_downstream_first():
    class YieldThenFail(Node):
        def process(self, item):
            yield item
            raise ValueError("after yield")

    nodes = [YieldThenFail("gen"), Fn("down", fail_on({5}, KeyError))]
    with pytest.raises(KeyError) as info:
        await execute(nodes, [5])
    assert info.value.node_id == "down"
    with pytest.raises(ValueError) as info:
        await execute([YieldThenFail("gen"), PassThroughNode("p")], [4])
    assert (info.value.node_id, info.value.item_index) == ("gen", 0)


async def test_async_node_errors_are_located():
    class AsyncFail(Node):
        async def process(self, item):
            if item == 2:
                raise ValueError("async boom")
            return item

    with pytest.raises(ValueError) as info:
        await execute([AsyncFail("af")], [0, 1, 2])
    assert (info.value.node_id, info.value.item_index) == ("af", 2)


async def test_stop_iteration_from_a_plain_process_is_an_error_not_a_truncation():
    def fn(item):
        if item == 2:
            raise StopIteration
        return item

    with pytest.raises(RuntimeError, match="StopIteration") as info:
        await execute([Fn("stopper", fn)], [0, 1, 2, 3])
    assert (info.value.node_id, info.value.item_index) == ("stopper", 2)


async def test_flush_error_has_no_item_index_and_downstream_errors_win():
    class BadFlush(Node):
        def process(self, item):
            return item

        def flush(self):
            yield "leftover"
            raise ValueError("flush failed")

    with pytest.raises(ValueError) as info:
        await execute([BadFlush("bf")], [1])
    assert (info.value.node_id, info.value.item_index) == ("bf", None)
    assert "at end of stream" in info.value.__notes__[0]
    with pytest.raises(KeyError) as info:
        await execute([BadFlush("bf"), Fn("down", fail_on({"leftover"}, KeyError))], [1])
    assert (info.value.node_id, info.value.item_index) == ("down", 1)


async def test_no_partial_result_and_no_flush_after_an_error():
    flushed = []

    class Tail(Node):
        def process(self, item):
            return item

        def flush(self):
            flushed.append(True)

    with pytest.raises(ValueError):
        await execute([Tail("t"), Fn("f", fail_on({1}))], [0, 1])
    assert flushed == []


# ------------------------------------------------------------------------------------ graphs


async def test_fan_out_delivers_each_output_to_successors_in_connection_order():
    nodes = [PassThroughNode("src"), Fn("a", lambda x: ("a", x)), Fn("b", lambda x: ("b", x))]
    edges = [("src", "b"), ("src", "a")]
    assert await execute(nodes, [1, 2], edges) == [("b", 1), ("a", 1), ("b", 2), ("a", 2)]


async def test_fan_in_and_depth_first_order():
    # src -> left -> join; src -> right -> join; left yields twice
    nodes = [
        PassThroughNode("src"),
        Repeat("left", 2),
        Fn("right", lambda x: x * 10),
        Fn("join", lambda x: ("j", x)),
    ]
    edges = [("src", "left"), ("src", "right"), ("left", "join"), ("right", "join")]
    result = await execute(nodes, [1, 2], edges)
    assert result == [("j", 1), ("j", 1), ("j", 10), ("j", 2), ("j", 2), ("j", 20)]


async def test_several_sources_get_every_item_in_node_order_and_sinks_append():
    nodes = [Fn("x", lambda v: f"x{v}"), Fn("y", lambda v: f"y{v}")]
    assert await execute(nodes, [1, 2], connections=[]) == ["x1", "y1", "x2", "y2"]


async def test_graph_flush_runs_in_topological_order_with_node_order_ties():
    log = []

    class Flusher(Node):
        def process(self, item):
            return item

        def flush(self):
            log.append(self.name)
            return f"{self.name}-end"

    # node order: c, b, a; edges a -> c; b has none. Topological: b (index 1) and a (2) are
    # ready first -> b, then a, then c.
    nodes = [Flusher("c"), Flusher("b"), Flusher("a")]
    result = await execute(nodes, [], [("a", "c")])
    assert log == ["b", "a", "c"]
    assert result == ["b-end", "a-end", "c-end"]  # a's leftover passes through c at once


async def test_graph_error_is_the_first_in_item_at_a_time_order():
    # item 1 fails in 'late' (second successor) before item 2 fails in 'early'
    nodes = [PassThroughNode("src"), Fn("early", fail_on({2})), Fn("late", fail_on({1}, KeyError))]
    with pytest.raises(KeyError) as info:
        await execute(nodes, [0, 1, 2], [("src", "early"), ("src", "late")])
    assert (info.value.node_id, info.value.item_index) == ("late", 1)


async def test_graph_outputs_before_a_generator_failure_go_downstream_first():
    class YieldThenFail(Node):
        def process(self, item):
            yield item
            raise ValueError("after yield")

    nodes = [YieldThenFail("gen"), PassThroughNode("ok"), Fn("down", fail_on({5}, KeyError))]
    edges = [("gen", "ok"), ("gen", "down")]
    with pytest.raises(KeyError) as info:
        await execute(nodes, [5], edges)
    assert info.value.node_id == "down"
    with pytest.raises(ValueError) as info:
        await execute(nodes, [4], edges)
    assert (info.value.node_id, info.value.item_index) == ("gen", 0)


async def test_deep_graph_does_not_hit_the_recursion_limit():
    depth = 3000
    nodes = [PassThroughNode(f"n{i}") for i in range(depth)] + [Fn("side", str.upper)]
    edges = [(f"n{i}", f"n{i + 1}") for i in range(depth - 1)] + [("n0", "side")]
    # each item runs down the long branch (first connection of n0) before the side branch
    assert await execute(nodes, ["a", "b"], edges) == ["a", "A", "b", "B"]


async def test_graph_item_index_counts_each_nodes_own_input():
    nodes = [Repeat("src", 3), Fn("sink", fail_on({7}))]
    with pytest.raises(ValueError) as info:
        await execute(nodes, [1, 7], [("src", "sink")])
    assert info.value.item_index == 3


async def test_chain_given_as_scrambled_connections_equals_the_chain():
    nodes = [Fn("c", lambda x: x - 1), Fn("a", lambda x: x * 3), Fn("b", lambda x: x + 2)]
    # a -> b -> c
    result = await execute(nodes, [1, 2], [("b", "c"), ("a", "b")])
    assert result == [(x * 3 + 2) - 1 for x in (1, 2)]


async def test_graph_with_async_nodes():
    nodes = [AsyncSplit("split"), AsyncAddOne("inc"), PassThroughNode("copy")]
    edges = [("split", "inc"), ("split", "copy")]
    assert await execute(nodes, [5], edges) == [6, 5, -4, -5]


async def test_cycle_is_a_graph_error():
    nodes = [PassThroughNode("a"), PassThroughNode("b"), PassThroughNode("c")]
    with pytest.raises(errors.GraphError):
        await execute(nodes, [1], [("a", "b"), ("b", "c"), ("c", "b")])


# ----------------------------------------------------------------------- array in, array out


async def test_array_in_array_out():
    values = np.arange(5, dtype=np.int32)
    result = await execute([CalculatorNode("c", operation="multiply", operand=3)], values)
    assert type(result) is np.ndarray and result.dtype == np.int32
    assert result.tolist() == [0, 3, 6, 9, 12]


async def test_array_items_are_numpy_scalars_and_rows():
    seen = []
    await execute([Fn("spy", lambda x: seen.append(type(x)))], np.arange(2.0))
    assert seen == [np.float64, np.float64]
    grid = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = await execute([Fn("sum", lambda row: row.sum())], grid)
    assert result.tolist() == [1.0, 5.0, 9.0] and result.dtype == np.float32


async def test_no_outputs_give_an_empty_array_of_the_input_dtype_and_row_shape():
    grid = np.ones((4, 3), dtype=np.float32)
    result = await execute([Fn("none", lambda row: None)], grid)
    assert type(result) is np.ndarray and result.shape == (0, 3) and result.dtype == np.float32
    empty = await execute([PassThroughNode("p")], np.array([], dtype=np.int64))
    assert empty.shape == (0,) and empty.dtype == np.int64
    identity = await execute([], np.arange(3))
    assert type(identity) is np.ndarray and identity.tolist() == [0, 1, 2]


async def test_list_input_of_arrays_gives_a_list():
    arrays = [np.arange(2), np.arange(2)]
    result = await execute([PassThroughNode("p")], arrays)
    assert type(result) is list and len(result) == 2
