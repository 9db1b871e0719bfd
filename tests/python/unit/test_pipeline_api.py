"""Pipeline: constructor forms, graph building, manifests, runs and the choice of executor.

The choice of executor is tested against a fake native module, so these tests run with or
without the real one."""

from __future__ import annotations

import asyncio
import json
import re
import warnings

import numpy as np
import pytest

from remotemedia import Node, Pipeline, _native, errors
from remotemedia.nodes import CalculatorNode, PassThroughNode


class FakeCompiled:
    def __init__(self, manifest_json, result=None, python_nodes=None):
        self.manifest = json.loads(manifest_json)
        self.python_nodes = python_nodes or {}
        self.result = result
        self.runs = []

    def run(self, items, stop=None, check_signals=False):
        self.runs.append(items)
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result if self.result is not None else ["native", *list(items)]


class FakeRuntime:
    """Stands in for remotemedia._runtime."""

    __version__ = "0.0-fake"

    def __init__(self, result=None):
        self.types = {"PassThroughNode", "PassThrough", "CalculatorNode", "Calculator"}
        self.compiled: list[FakeCompiled] = []
        self.result = result

    def has_node_type(self, name):
        return name in self.types

    class RunStop:
        def set(self):
            pass

    def CompiledPipeline(self, manifest_json, python_nodes=None):
        self.compiled.append(FakeCompiled(manifest_json, self.result, python_nodes))
        return self.compiled[-1]


@pytest.fixture
def fake_native(monkeypatch):
    fake = FakeRuntime()
    monkeypatch.setattr(_native, "_module", fake)
    return fake


@pytest.fixture
def no_native(monkeypatch):
    monkeypatch.setattr(_native, "_module", None)
    monkeypatch.setattr(_native, "_import_error", ImportError("No module named '_runtime'"))
    monkeypatch.setattr(_native, "_warned", False)


class Mine(Node):
    def process(self, item):
        return ("mine", item)


def calc_entry(node_id, operation, operand, node_type="CalculatorNode"):
    """A manifest node entry for a CalculatorNode."""
    params = {"operation": operation, "operand": operand}
    return {"id": node_id, "node_type": node_type, "params": params}


def seed_pipeline():
    pipeline = Pipeline("fast")
    pipeline.add_node(PassThroughNode(name="p1"))
    pipeline.add_node(CalculatorNode(name="calc", operation="add", operand=5))
    return pipeline


# ------------------------------------------------------------------------------ construction


def test_constructor_forms():
    assert Pipeline("fast").name == "fast" and Pipeline("fast").nodes == ()
    assert Pipeline(name="n").name == "n" and Pipeline().name is None
    nodes = [PassThroughNode("a"), PassThroughNode("b")]
    pipeline = Pipeline(nodes, name="two")
    assert pipeline.nodes == tuple(nodes) and pipeline.name == "two"
    assert Pipeline(nodes=iter([PassThroughNode("c")])).nodes[0].name == "c"
    with pytest.raises(TypeError):
        Pipeline("fast", name="slow")


def test_add_node_is_chainable_and_nodes_is_a_snapshot():
    pipeline = Pipeline("p")
    a, b = PassThroughNode("a"), PassThroughNode("b")
    assert pipeline.add_node(a).add_node(b) is pipeline
    snapshot = pipeline.nodes
    pipeline.add_node(PassThroughNode("c"))
    assert snapshot == (a, b) and [n.name for n in pipeline.nodes] == ["a", "b", "c"]


def test_default_node_names_are_unique_per_class():
    first, second = CalculatorNode(operation="add", operand=1), CalculatorNode(
        operation="add", operand=1
    )
    assert re.fullmatch(r"CalculatorNode_\d+", first.name)
    assert first.name != second.name
    assert re.fullmatch(r"PassThroughNode_\d+", PassThroughNode().name)
    Pipeline().add_node(first).add_node(second)  # no clash


def test_duplicate_node_names_and_non_nodes_are_rejected():
    pipeline = Pipeline([PassThroughNode("a"), PassThroughNode("b")])
    with pytest.raises(errors.GraphError) as info:
        pipeline.add_node(PassThroughNode("a"))
    assert info.value.path == "$.nodes[2].id" and "duplicate node id 'a'" in str(info.value)
    with pytest.raises(TypeError):
        pipeline.add_node(lambda x: x)
    assert len(pipeline.nodes) == 2


# ---------------------------------------------------------------------------------- manifest


def test_serialize_writes_a_v1_manifest_with_chain_connections():
    document = json.loads(seed_pipeline().serialize())
    assert document == {
        "version": "v1",
        "metadata": {"name": "fast"},
        "nodes": [
            {"id": "p1", "node_type": "PassThroughNode", "params": {}},
            {
                "id": "calc",
                "node_type": "CalculatorNode",
                "params": {"operation": "add", "operand": 5},
            },
        ],
        "connections": [{"from": "p1", "to": "calc"}],
    }
    assert seed_pipeline().to_manifest() == document


def test_serialize_of_an_unnamed_single_node_pipeline():
    document = json.loads(Pipeline([PassThroughNode("only")]).serialize())
    assert document["metadata"] == {} and document["connections"] == []


def test_serialize_rejects_parameters_json_cannot_carry():
    class Holder(Node):
        def params(self):
            return {"thing": object()}

        def process(self, item):
            return item

    pipeline = Pipeline([PassThroughNode("p"), Holder("h")])
    with pytest.raises(errors.InvalidParameterError) as info, pytest.warns(UserWarning, match="not a registered"):
        pipeline.serialize()
    assert info.value.path == "$.nodes[1].params" and "'h'" in str(info.value)


def test_from_manifest_round_trips_and_resolves_aliases():
    text = json.dumps(
        {
            "version": "v1",
            "metadata": {"name": "m"},
            "nodes": [
                {"id": "p", "node_type": "PassThrough"},
                calc_entry("c", "power", 2, node_type="Calculator"),
            ],
        }
    )
    pipeline = Pipeline.from_manifest(text)
    assert pipeline.name == "m" and pipeline.connections is None
    p, c = pipeline.nodes
    assert type(p) is PassThroughNode and type(c) is CalculatorNode
    assert (c.name, c.node_type) == ("c", "CalculatorNode")
    assert c.params() == {"operation": "power", "operand": 2}
    assert pipeline.run_sync([3], runtime="python") == [9]
    again = Pipeline.from_manifest(pipeline.serialize())
    assert again.serialize() == pipeline.serialize()
    assert Pipeline.from_manifest(json.loads(text)).serialize() == pipeline.serialize()


def test_from_manifest_keeps_an_explicit_graph():
    document = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "PassThroughNode"},
            calc_entry("x10", "multiply", 10),
            calc_entry("neg", "multiply", -1),
        ],
        "connections": [{"from": "src", "to": "x10"}, {"from": "src", "to": "neg"}],
    }
    pipeline = Pipeline.from_manifest(document)
    assert pipeline.connections == (("src", "x10"), ("src", "neg"))
    assert pipeline.run_sync([1, 2], runtime="python") == [10, -1, 20, -2]
    assert json.loads(pipeline.serialize())["connections"] == document["connections"]
    with pytest.raises(errors.GraphError, match="2 sinks"):
        pipeline.add_node(PassThroughNode("after"))


def test_add_node_after_a_graph_with_one_sink_connects_it():
    document = {
        "version": "v1",
        "nodes": [
            calc_entry("b", "add", 1),
            calc_entry("a", "multiply", 2),
        ],
        "connections": [{"from": "a", "to": "b"}],
    }
    pipeline = Pipeline.from_manifest(document)
    pipeline.add_node(CalculatorNode("c", operation="subtract", operand=3))
    assert pipeline.connections == (("a", "b"), ("b", "c"))
    assert pipeline.run_sync([5], runtime="python") == [5 * 2 + 1 - 3]


def test_from_manifest_reports_manifest_errors():
    with pytest.raises(errors.UnknownNodeTypeError) as info:
        Pipeline.from_manifest({"version": "v1", "nodes": [{"id": "x", "node_type": "Nope"}]})
    assert info.value.path == "$.nodes[0].node_type"
    with pytest.raises(errors.ManifestError):
        Pipeline.from_manifest("{not json")


# -------------------------------------------------------------------------------------- runs


async def test_seed_snippet_runs_as_written():
    pipeline = Pipeline("fast")
    pipeline.add_node(PassThroughNode(name="p1"))
    pipeline.add_node(CalculatorNode(name="calc", operation="add", operand=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no native module: one fallback warning
        result = await pipeline.run(list(range(1, 101)))
    assert result == [x + 5 for x in range(1, 101)]
    assert await pipeline.run([1, 2, 3], runtime="python") == [6, 7, 8]


def test_run_sync_without_an_event_loop():
    assert seed_pipeline().run_sync([1, 2.5], runtime="python") == [6, 7.5]


class SlowDouble(Node):
    async def process(self, item):
        await asyncio.sleep(0)
        return item * 2


def test_run_sync_of_async_nodes_without_a_running_loop():
    assert Pipeline([SlowDouble("d")]).run_sync([1, 2], runtime="python") == [2, 4]


async def test_run_sync_inside_a_running_loop():
    # async nodes: a worker thread runs its own loop; sync nodes: no loop is needed at all
    assert Pipeline([SlowDouble("d")]).run_sync([1, 2], runtime="python") == [2, 4]
    assert seed_pipeline().run_sync([1], runtime="python") == [6]


def test_run_accepts_only_known_runtimes():
    with pytest.raises(ValueError, match="runtime"):
        seed_pipeline().run_sync([1], runtime="rust")


def test_array_input_gives_array_output_on_the_python_executor():
    result = seed_pipeline().run_sync(np.array([1, 2], dtype=np.int32), runtime="python")
    assert type(result) is np.ndarray and result.dtype == np.int32 and result.tolist() == [6, 7]


# --------------------------------------------------------------------------- executor choice


def test_auto_runs_native_and_compiles_once_until_a_node_is_added(fake_native):
    pipeline = seed_pipeline()
    assert pipeline.run_sync([1, 2]) == ["native", 1, 2]
    assert pipeline.run_sync([3]) == ["native", 3]
    assert len(fake_native.compiled) == 1
    assert fake_native.compiled[0].manifest == pipeline.to_manifest()
    pipeline.add_node(PassThroughNode("p2"))
    pipeline.run_sync([4])
    assert len(fake_native.compiled) == 2
    assert [n["id"] for n in fake_native.compiled[1].manifest["nodes"]] == ["p1", "calc", "p2"]


async def test_async_run_uses_native_too(fake_native):
    assert await seed_pipeline().run([1]) == ["native", 1]


def test_use_rust_is_an_alias_for_auto_and_python(fake_native):
    pipeline = seed_pipeline()
    assert pipeline.run_sync([1], use_rust=True) == ["native", 1]
    assert pipeline.run_sync([1], use_rust=False) == [6]
    assert pipeline.run_sync([1], use_rust=True, runtime="native") == ["native", 1]
    with pytest.raises(ValueError, match="contradicts"):
        pipeline.run_sync([1], use_rust=True, runtime="python")
    with pytest.raises(ValueError, match="contradicts"):
        pipeline.run_sync([1], use_rust=False, runtime="native")


def test_python_runtime_never_touches_native(fake_native):
    seed_pipeline().run_sync([1], runtime="python")
    assert fake_native.compiled == []


def test_native_array_results_pass_through_and_lists_become_arrays(fake_native):
    column = np.array([1, 2], dtype=np.int64)
    fake_native.result = [np.int64(6), np.int64(7)]
    result = seed_pipeline().run_sync(column)
    assert type(result) is np.ndarray and result.tolist() == [6, 7]
    assert type(fake_native.compiled[0].runs[0]) is np.ndarray  # the array itself went native
    fake_native.result = []
    empty = seed_pipeline().run_sync(np.ones((3, 2), dtype=np.float32))
    assert empty.shape == (0, 2) and empty.dtype == np.float32
    fake_native.result = np.array([9])
    assert seed_pipeline().run_sync(column) is fake_native.result


def test_native_gets_a_list_for_any_iterable(fake_native):
    seed_pipeline().run_sync(x for x in (1, 2))
    assert fake_native.compiled[0].runs[0] == [1, 2]


def test_node_without_native_implementation_runs_as_python_inside_the_native_pipeline(fake_native):
    mine = Mine("mine")
    pipeline = seed_pipeline().add_node(mine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no whole-pipeline fallback, so no warning
        assert pipeline.run_sync([1], runtime="native") == ["native", 1]
    (compiled,) = fake_native.compiled
    assert compiled.python_nodes == {"mine": mine}
    assert [n["node_type"] for n in compiled.manifest["nodes"]] == ["PassThroughNode", "CalculatorNode", "Mine"]
    placements = {p.node.name: p.runs_on for p in pipeline.explain()}
    assert placements == {"p1": "native", "calc": "native", "mine": "python"}


def test_user_class_sharing_a_builtin_type_name_runs_its_own_python(fake_native):
    class Impostor(Node):
        node_type = "PassThroughNode"

        def process(self, item):
            return "impostor"

    impostor = Impostor("i")
    Pipeline([impostor]).run_sync([1])
    assert fake_native.compiled[0].python_nodes == {"i": impostor}
    (placement,) = Pipeline([impostor]).explain()
    assert placement.runs_on == "python" and "Impostor" in placement.reason


def test_runtime_hints_place_nodes(fake_native):
    calc = CalculatorNode(name="calc", operation="add", operand=5, runtime_hint="python")
    pipeline = Pipeline([PassThroughNode(name="p1"), calc])
    pipeline.run_sync([1])
    assert fake_native.compiled[0].python_nodes == {"calc": calc}
    assert fake_native.compiled[0].manifest["nodes"][1]["runtime_hint"] == "python"
    assert Pipeline.from_manifest(pipeline.serialize()).nodes[1].runtime_hint == "python"
    stubborn = Pipeline([Mine("m", runtime_hint="native")])
    with pytest.raises(errors.RuntimeUnavailableError, match=r"'m' has runtime_hint='native'"):
        stubborn.run_sync([1])
    with pytest.raises(errors.ManifestError, match="runtime_hint"):
        Mine("bad", runtime_hint="gpu")


def test_native_errors_are_raised_not_hidden_by_a_fallback(fake_native):
    error = errors.NodeZeroDivisionError(
        "division by zero", node_id="calc", node_type="CalculatorNode", item_index=0
    )
    fake_native.result = error
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        seed_pipeline().run_sync([1])
    assert info.value is error


def test_missing_native_module_falls_back_with_one_warning_per_process(no_native):
    with pytest.warns(RuntimeWarning, match="cannot be imported") as record:
        assert seed_pipeline().run_sync([1]) == [6]
        assert seed_pipeline().run_sync([2]) == [7]
    assert len([w for w in record if "cannot be imported" in str(w.message)]) == 1


def test_missing_native_module_with_native_requested_raises(no_native):
    with pytest.raises(errors.RuntimeUnavailableError, match="cannot be imported"):
        seed_pipeline().run_sync([1], runtime="native")
    # The seed's use_rust=True fell back automatically, and still does.
    with pytest.warns(RuntimeWarning, match="cannot be imported"):
        assert seed_pipeline().run_sync([1], use_rust=True) == [6]


@pytest.mark.parametrize("items,kind", [("abc", "str"), (b"ab", "bytes"), (bytearray(b"a"), "bytearray"),
                                        ({"a": 1}, "dict")])
@pytest.mark.parametrize("runtime", ["python", "auto"])
def test_a_string_bytes_or_dict_is_not_a_list_of_items(items, kind, runtime):
    pipeline = Pipeline([PassThroughNode()])
    message = f"items must be an iterable of items .* not a {kind}: to run one {kind}, pass \\[item\\]"
    with pytest.raises(TypeError, match=message):
        pipeline.run_sync(items, runtime=runtime)
    with pytest.raises(TypeError, match=message):
        asyncio.run(pipeline.run(items, runtime=runtime))
    with pytest.raises(TypeError, match=message):
        pipeline.stream_sync(items, runtime=runtime)
    assert pipeline.run_sync([items], runtime=runtime) == [items]


@pytest.mark.parametrize("items", [5, None, 2.5])
def test_a_single_value_is_not_a_list_of_items(items):
    with pytest.raises(TypeError, match=f"not {type(items).__name__}: to run one item, pass \\[item\\]"):
        Pipeline([PassThroughNode()]).run_sync(items, runtime="python")


def test_host_capabilities_and_metadata_survive_a_round_trip():
    manifest = {"version": "v1", "metadata": {"name": "x", "owner": "me", "tags": [1, {"a": None}]},
                "nodes": [{"id": "a", "node_type": "PassThroughNode", "params": {}, "capabilities": {"gpu": True},
                           "host": "gpu1"},
                          {"id": "b", "node_type": "CalculatorNode", "params": {"operation": "add", "operand": 1}}],
                "connections": [{"from": "a", "to": "b"}]}
    pipeline = Pipeline.from_manifest(json.dumps(manifest))
    assert (pipeline.nodes[0].host, pipeline.nodes[0].capabilities) == ("gpu1", {"gpu": True})
    assert json.loads(pipeline.serialize()) == manifest


def test_a_node_with_a_host_runs_here_with_one_warning():
    manifest = {"version": "v1", "nodes": [{"id": "a", "node_type": "CalculatorNode", "host": "gpu1",
                                            "params": {"operation": "add", "operand": 1}}]}
    pipeline = Pipeline.from_manifest(json.dumps(manifest))
    with pytest.warns(RuntimeWarning, match=r"remote execution is not available yet: node 'a' \(host 'gpu1'\) runs "
                                            r"here"):
        assert pipeline.run_sync([1], runtime="python") == [2]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pipeline.run_sync([2], runtime="python") == [3]  # once per pipeline


def test_use_rust_does_not_retry_a_failed_native_run_on_the_python_executor(fake_native):
    calls = []

    class Counting(Node):
        def process(self, x):
            calls.append(x)
            return x

    fake_native.result = errors.NodeValueError("boom")
    with pytest.raises(errors.NodeValueError, match="boom"):
        Pipeline([Counting("c")]).run_sync([1, 2], use_rust=True)
    assert calls == [] and len(fake_native.compiled[-1].runs) == 1  # once, natively, and not again
