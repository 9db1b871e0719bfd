"""Node base class and the Python node-type registry."""

from __future__ import annotations

import pytest

from remotemedia import Node, ParamSpec, errors, register_node_type
from remotemedia.core import registry
from remotemedia.core.manifest import parse_manifest
from remotemedia.nodes import CalculatorNode, PassThroughNode


@pytest.fixture
def scratch_types():
    """Unregisters whatever node types a test registers."""
    before = {s.name for s in registry.node_types()}
    yield
    for spec in registry.node_types():
        if spec.name not in before:
            registry.unregister_node_type(spec.name)


def test_node_type_defaults_to_the_class_name_and_subclasses_get_their_own():
    class Scale(Node):
        pass

    class Louder(Scale):
        pass

    class Named(Node):
        node_type = "Custom"

    assert (Scale.node_type, Louder.node_type, Named.node_type) == ("Scale", "Louder", "Custom")
    assert PassThroughNode("p").node_type == "PassThroughNode"


def test_node_requires_process():
    with pytest.raises(NotImplementedError):
        Node("n").process(1)


def test_declared_params_are_checked_kept_and_serialized():
    class Gain(Node):
        PARAMS = (ParamSpec("gain", "number", required=True), ParamSpec("label", "string"))

        def process(self, item):
            return item * self.config["gain"]

    node = Gain("g", gain=2.5)
    assert node.config == {"gain": 2.5} and node.params() == {"gain": 2.5}
    assert node.params() is not node.config
    with pytest.raises(errors.InvalidParameterError, match="missing required parameter 'gain'"):
        Gain("g")
    with pytest.raises(errors.InvalidParameterError, match="'label' must be a string"):
        Gain("g", gain=1, label=3)
    with pytest.raises(errors.InvalidParameterError, match="unknown parameter 'gian' for Gain"):
        Gain("g", gian=1)


def test_node_without_params_accepts_none():
    with pytest.raises(errors.InvalidParameterError, match="unknown parameter 'x' for PassThrough"):
        PassThroughNode("p", x=1)


@pytest.mark.parametrize("name", ["", 5])
def test_node_name_must_be_a_non_empty_string(name):
    with pytest.raises(errors.ManifestError):
        PassThroughNode(name)


def test_builtins_are_registered_with_aliases():
    for name in ("PassThroughNode", "PassThrough"):
        spec = registry.lookup(name)
        assert spec.name == "PassThroughNode" and spec.node_class is PassThroughNode
        assert spec.aliases == ("PassThrough",) and spec.params == ()
    calc = registry.lookup("Calculator")
    assert calc.node_class is CalculatorNode and calc.name == "CalculatorNode"
    assert [p.name for p in calc.params] == ["operation", "operand"]
    assert calc.param("operation").choices == (
        "add", "subtract", "multiply", "divide", "power", "modulo"
    )
    assert calc.description
    assert registry.lookup("passthroughnode") is None
    names = [s.name for s in registry.node_types()]
    assert names == sorted(names) and {"BufferNode", "CalculatorNode", "PassThroughNode"} <= set(names)


def test_create_node_builds_from_a_name_or_alias():
    node = registry.create_node("Calculator", "c1", {"operation": "divide", "operand": 4})
    assert type(node) is CalculatorNode and node.name == "c1" and node.process(2) == 0.5
    assert registry.create_node("PassThrough", "p", None).name == "p"
    with pytest.raises(errors.UnknownNodeTypeError):
        registry.create_node("Missing", "x", {})


def test_register_as_decorator_with_and_without_arguments(scratch_types):
    @register_node_type
    class Doubler(Node):
        """Doubles items."""

        def process(self, item):
            return item * 2

    @register_node_type(name="Tripler", aliases=("x3",))
    class TripleNode(Node):
        def process(self, item):
            return item * 3

    assert registry.lookup("Doubler").description == "Doubles items."
    assert registry.lookup("x3").node_class is TripleNode
    assert TripleNode.node_type == "Tripler"  # serializes under the registered name
    assert TripleNode("t").node_type == "Tripler"
    manifest = {"version": "v1", "nodes": [{"id": "t", "node_type": "x3"}]}
    assert parse_manifest(manifest).nodes[0].node_type == "x3"


def test_registered_params_are_what_the_manifest_validator_checks(scratch_types):
    @register_node_type
    class Threshold(Node):
        PARAMS = (ParamSpec("level", "int", required=True),)

        def process(self, item):
            return item if item >= self.config["level"] else None

    node = {"id": "t", "node_type": "Threshold", "params": {"level": 1.5}}
    doc = {"version": "v1", "nodes": [node]}
    with pytest.raises(errors.InvalidParameterError) as info:
        parse_manifest(doc)
    assert info.value.path == "$.nodes[0].params.level"
    with pytest.raises(errors.InvalidParameterError) as direct:
        Threshold("t", level=1.5)
    assert direct.value.message == info.value.message


def test_names_taken_by_another_class_are_refused(scratch_types):
    class Other(Node):
        node_type = "PassThroughNode"

    with pytest.raises(ValueError, match="already registered"):
        register_node_type(Other)
    with pytest.raises(ValueError, match="already registered"):
        register_node_type(Other, name="Fresh", aliases=("Calculator",))
    assert registry.lookup("Fresh") is None
    assert registry.lookup("PassThroughNode").node_class is PassThroughNode
    with pytest.raises(TypeError):
        register_node_type(object)


def test_registering_a_class_again_replaces_its_names(scratch_types):
    class Again(Node):
        pass

    register_node_type(Again, aliases=("A1",))
    register_node_type(Again, aliases=("A2",))
    assert registry.lookup("A1") is None and registry.lookup("A2").node_class is Again
    registry.unregister_node_type("A2")
    assert registry.lookup("Again") is None
