"""Flow nodes (Buffer, Filter, Map, Router) and real graphs (ports, fan-out, fan-in, several
sinks): each node's edge cases on both runtimes, and random graphs through both executors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from random_nodes import BUILTIN_KINDS, builtin_node
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("remotemedia._runtime")

from remotemedia import Node, Pipeline, errors  # noqa: E402
from remotemedia.core.node import ToPort  # noqa: E402
from remotemedia.nodes import (  # noqa: E402
    BufferNode,
    FilterNode,
    MapNode,
    PassThroughNode,
    RouterNode,
)

RUNTIMES = ("python", "native")


def both(pipeline, items):
    """Runs on both executors and checks they agree; returns the common outcome."""
    results = []
    for runtime in RUNTIMES:
        try:
            results.append(("ok", pipeline.run_sync(items, runtime=runtime)))
        except Exception as exc:  # noqa: BLE001 - compared below
            results.append(("error", exc))
    (pk, pv), (nk, nv) = results
    assert pk == nk, results
    if pk == "error":
        assert type(pv) is type(nv), results
        assert (getattr(pv, "node_id", None), getattr(pv, "item_index", None)) == (
            getattr(nv, "node_id", None), getattr(nv, "item_index", None)), results
        return results[0]
    if isinstance(pv, np.ndarray):
        assert isinstance(nv, np.ndarray) and pv.dtype == nv.dtype and np.array_equal(pv, nv), results
    else:
        assert pv == nv and [type(x) for x in pv] == [type(x) for x in nv], results
    return results[0]


# ----------------------------------------------------------------------------------- Buffer


@pytest.mark.parametrize("size,n,expected", [
    (3, 0, []),
    (1, 3, [[0], [1], [2]]),
    (3, 6, [[0, 1, 2], [3, 4, 5]]),            # exact multiple: no remainder
    (3, 7, [[0, 1, 2], [3, 4, 5], [6]]),       # remainder flushed
    (5, 2, [[0, 1]]),                          # fewer than one buffer
])
def test_buffer_groups_and_flushes_the_remainder(size, n, expected):
    assert both(Pipeline([BufferNode(name="b", buffer_size=size)]), list(range(n))) == ("ok", expected)


def test_buffer_of_mixed_items_then_buffer_of_buffers():
    items = [1, "a", 2.5, None, [1], {"k": 1}]
    pipeline = Pipeline([BufferNode(name="b", buffer_size=2), BufferNode(name="bb", buffer_size=2)])
    # None is an item to a Buffer (it is the input, not a node's "nothing")
    assert both(pipeline, items) == ("ok", [[[1, "a"], [2.5, None]], [[[1], {"k": 1}]]])


def test_buffer_rejects_a_size_below_one_on_both_parsers():
    with pytest.raises(errors.InvalidParameterError, match="at least 1"):
        BufferNode(name="b", buffer_size=0)
    manifest = {"version": "v1", "nodes": [{"id": "b", "node_type": "Buffer", "params": {"buffer_size": -2}}]}
    from remotemedia import _runtime
    for parse in (Pipeline.from_manifest, _runtime.validate):
        with pytest.raises(errors.InvalidParameterError) as info:
            parse(json.dumps(manifest))
        assert info.value.path == "$.nodes[0].params.buffer_size"


# ------------------------------------------------------------------------------ Filter, Map


@pytest.mark.parametrize("items", [[], [4], list(range(-5, 6)), [1.5, -2.0, 3, 0.0]])
def test_filter_and_map_on_lists_and_columns(items):
    pipeline = Pipeline([FilterNode(name="f", condition="item > 0 and item % 2 == 0"),
                         MapNode(name="m", expression="item * 3 - 1")])
    expected = [x * 3 - 1 for x in items if x > 0 and x % 2 == 0]
    assert both(pipeline, items) == ("ok", expected)
    for dtype in (np.int64, np.float64):
        status, out = both(pipeline, np.asarray(items, dtype=dtype))
        assert status == "ok" and out.tolist() == [dtype(x) * 3 - 1 for x in items if x > 0 and x % 2 == 0]


def test_map_to_none_emits_nothing_and_fields_are_read():
    items = [{"v": 1, "keep": True}, {"v": 2, "keep": False}, {"v": 3, "keep": True}]
    pipeline = Pipeline([MapNode(name="m", expression="item.keep and item.v"), PassThroughNode(name="p")])
    assert both(pipeline, items) == ("ok", [1, False, 3])  # `False and ...` is False: a value, kept
    pipeline = Pipeline([FilterNode(name="f", condition="item.keep"), MapNode(name="m", expression="item['v']")])
    assert both(pipeline, items) == ("ok", [1, 3])


@pytest.mark.parametrize("condition,items,error,index", [
    ("item > 1", [0, 1, "x", 3], errors.NodeTypeError, 2),
    ("item.v > 1", [{"v": 2}, {"w": 1}], errors.NodeValueError, 1),
    ("10 / item > 1", [5, 2, 0], errors.NodeZeroDivisionError, 2),
])
def test_conditions_that_raise_name_the_node_and_item(condition, items, error, index):
    status, exc = both(Pipeline([PassThroughNode(name="p"), FilterNode(name="f", condition=condition)]), items)
    assert status == "error" and type(exc) is error and (exc.node_id, exc.item_index) == ("f", index)


def test_expression_syntax_errors_point_at_the_parameter_and_column():
    from remotemedia import _runtime
    manifest = {"version": "v1", "nodes": [{"id": "m", "node_type": "MapNode", "params": {"expression": "item +* 2"}}]}
    for parse in (Pipeline.from_manifest, _runtime.validate):
        with pytest.raises(errors.InvalidParameterError, match="column 7") as info:
            parse(json.dumps(manifest))
        assert info.value.path == "$.nodes[0].params.expression"


def test_filter_with_a_python_callable_runs_as_python_inside_the_native_pipeline():
    pipeline = Pipeline([FilterNode(name="f", condition=lambda x: x % 3 == 0), MapNode(name="m", expression="item + 1")])
    assert [p.runs_on for p in pipeline.explain()] == ["python", "native"]
    assert both(pipeline, list(range(10))) == ("ok", [1, 4, 7, 10])
    with pytest.raises(errors.InvalidParameterError):  # a callable has no JSON form
        pipeline.serialize()


def test_map_with_a_python_callable_runs_as_python_inside_the_native_pipeline():
    # None from the function emits nothing, as a None value of an expression does.
    pipeline = Pipeline([MapNode(name="m", expression=lambda x: None if x % 2 else x * 10),
                         MapNode(name="n", expression="item + 1")])
    assert [p.runs_on for p in pipeline.explain()] == ["python", "native"]
    assert both(pipeline, list(range(6))) == ("ok", [1, 21, 41])
    with pytest.raises(errors.InvalidParameterError):  # a callable has no JSON form
        pipeline.serialize()


@pytest.mark.parametrize("cls", [FilterNode, MapNode])
def test_a_function_given_as_the_node_name_says_to_pass_it_by_keyword(cls):
    with pytest.raises(errors.ManifestError, match=r"a function goes by keyword: FilterNode\(condition=f\), "
                                                    r"MapNode\(expression=f\)"):
        cls(lambda x: x)


# ----------------------------------------------------------------------------------- Router


def sign_router(default="zero"):
    return RouterNode(name="r", routes=[{"when": "item < 0", "to": "neg"}, {"when": "item > 0", "to": "pos"}],
                      default=default)


def test_router_sends_items_to_ports_and_unconnected_ports_are_sinks():
    r = sign_router()
    pipeline = (Pipeline()
                .connect(r.output("neg"), MapNode(name="negate", expression="-item"))
                .connect(r.output("pos"), MapNode(name="double", expression="item * 2")))
    assert r.output_ports() == ("neg", "pos", "zero")
    # "zero" has no connection: its items join the result, in item-at-a-time order
    assert both(pipeline, [3, -1, 0, -5, 2]) == ("ok", [6, 1, 0, 5, 4])


def test_router_without_default_drops_unmatched_items_and_matches_the_first_route():
    r = RouterNode(name="r", routes=[{"when": "item > 5", "to": "big"}, {"when": "item > 0", "to": "small"}])
    pipeline = Pipeline().connect(r.output("big"), PassThroughNode(name="b")).connect(
        r.output("small"), MapNode(name="s", expression="item * 100"))
    assert both(pipeline, [7, 3, -2, 6, 0]) == ("ok", [7, 300, 6])


@pytest.mark.parametrize("params,path", [
    ({"routes": []}, "$.nodes[0].params.routes"),
    ({"routes": [5]}, "$.nodes[0].params.routes[0]"),
    ({"routes": [{"when": "item", "to": "a", "x": 1}]}, "$.nodes[0].params.routes[0].x"),
    ({"routes": [{"to": "a"}]}, "$.nodes[0].params.routes[0].when"),
    ({"routes": [{"when": "item"}]}, "$.nodes[0].params.routes[0].to"),
    ({"routes": [{"when": "item >", "to": "a"}]}, "$.nodes[0].params.routes[0].when"),
    ({"routes": [{"when": "item", "to": "a"}], "default": 3}, "$.nodes[0].params.default"),
])
def test_bad_routes_are_parameter_errors_at_the_same_path_on_both_parsers(params, path):
    from remotemedia import _runtime
    manifest = json.dumps({"version": "v1", "nodes": [{"id": "r", "node_type": "RouterNode", "params": params}]})
    for parse in (Pipeline.from_manifest, _runtime.validate):
        with pytest.raises(errors.InvalidParameterError) as info:
            parse(manifest)
        assert info.value.path == path


def test_connections_must_name_a_port_of_a_router():
    from remotemedia import _runtime
    nodes = [{"id": "r", "node_type": "Router", "params": {"routes": [{"when": "item", "to": "a"}], "default": "b"}},
             {"id": "p", "node_type": "PassThrough"}]
    for conn, path in [({"from": "r", "to": "p"}, "$.connections[0]"),
                       ({"from": "r", "to": "p", "from_port": "c"}, "$.connections[0].from_port")]:
        manifest = json.dumps({"version": "v1", "nodes": nodes, "connections": [conn]})
        for parse in (Pipeline.from_manifest, _runtime.validate):
            with pytest.raises(errors.GraphError) as info:
                parse(manifest)
            assert info.value.path == path


def test_graphs_round_trip_through_serialize():
    r = sign_router()
    merge = PassThroughNode(name="merge")
    pipeline = (Pipeline(name="g")
                .connect(r.output("neg"), MapNode(name="negate", expression="-item"))
                .connect(r.output("pos"), merge)
                .connect(r.output("zero"), merge))
    pipeline.connect(pipeline.nodes[1], merge)  # fan-in: negate -> merge
    text = pipeline.serialize()
    again = Pipeline.from_manifest(text)
    assert again.serialize() == text
    assert json.loads(text)["connections"][0] == {"from": "r", "to": "negate", "from_port": "neg"}
    assert both(again, [2, -3, 0]) == both(pipeline, [2, -3, 0]) == ("ok", [2, 3, 0])


# ---------------------------------------------------------------------- random graphs, both


EXPRESSIONS = ["item > 2", "item % 3 == 0", "item * 2 - 1", "-item", "abs(item) + 1", "item // 2",
               "is_int(item) and item > 0", "item / 4", "min(item, 3)", "item ** 2 > 10", "item != 1"]


class Tag(Node):
    """A Python node among the native ones: pairs each item with its own index."""

    def initialize(self):
        self.n = 0

    def process(self, item):
        self.n += 1
        return [item, self.n] if isinstance(item, int) and item < 0 else item


class SplitPy(Node):
    """A Python node with two output ports."""

    @classmethod
    def ports_for(cls, params):
        return ("even", "odd")

    def process(self, item):
        if not isinstance(item, int):
            raise TypeError(f"SplitPy takes ints, got {type(item).__name__}")
        return ToPort("even" if item % 2 == 0 else "odd", item)


def make_node(draw, i):
    kind = draw(st.sampled_from([*BUILTIN_KINDS, "tag", "split"]))
    name = f"n{i}"
    if kind == "tag":
        return Tag(name)
    if kind == "split":
        return SplitPy(name)
    return builtin_node(draw, kind, name, EXPRESSIONS)


@st.composite
def graphs(draw):
    nodes = [make_node(draw, i) for i in range(draw(st.integers(1, 6)))]
    pipeline = Pipeline(name="random")
    edges = []
    for j in range(1, len(nodes)):
        for source in draw(st.lists(st.sampled_from(nodes[:j]), max_size=2, unique_by=lambda n: n.name)):
            ports = source.output_ports()
            edges.append((source if len(ports) == 1 else source.output(draw(st.sampled_from(ports))), nodes[j]))
    if not edges:
        return Pipeline(nodes)  # a chain
    for source, target in edges:
        pipeline.connect(source, target)
    for node in nodes:  # nodes no edge touches are both sources and sinks
        if not any(n is node for n in pipeline.nodes):
            pipeline._append(node)
    return pipeline


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipeline=graphs(), items=st.lists(st.one_of(st.integers(-8, 8), st.floats(-4, 4), st.just("s")), max_size=6))
def test_random_graphs_agree_on_both_executors(pipeline, items):
    both(pipeline, items)
