"""A user's node and its parameters (docs/PYTHON_NODES.md): keyword parameters without PARAMS are
kept when they are JSON data, arguments of its own __init__ are never dropped silently by
serialize(), and an unregistered node type is serialized with a warning."""

from __future__ import annotations

import warnings

import pytest

from remotemedia import Node, ParamSpec, Pipeline, errors, register_node_type


class Plain(Node):
    def process(self, x):
        return x + self.config.get("k", 0)


def test_keyword_parameters_without_params_are_kept_when_they_are_json():
    node = Plain("p", k=5, tags=["a", {"b": None}])
    assert node.params() == {"k": 5, "tags": ["a", {"b": None}]}
    assert Pipeline([node]).run_sync([1], runtime="python") == [6]


@pytest.mark.parametrize("value", [object(), float("nan"), {"a": {1, 2}}])
def test_a_parameter_that_is_not_json_says_to_keep_it_as_an_attribute(value):
    with pytest.raises(errors.InvalidParameterError, match="parameter 'k' of Plain is not JSON data .*keep other "
                                                           "values as attributes set in Plain.__init__"):
        Plain("p", k=value)


def test_an_undeclared_parameter_of_a_node_with_params_says_how_to_declare_it():
    class Declared(Node):
        PARAMS = (ParamSpec("k", "int"),)

    with pytest.raises(errors.InvalidParameterError, match=r"unknown parameter 'j' for Declared \(declare it in "
                                                           r"Declared.PARAMS"):
        Declared("d", j=1)


def test_a_built_in_node_still_refuses_unknown_parameters():
    from remotemedia.nodes import PassThroughNode

    with pytest.raises(errors.InvalidParameterError, match="unknown parameter 'x' for PassThroughNode$"):
        PassThroughNode(x=1)


class WithInit(Node):
    def __init__(self, factor, name=None, **kw):
        super().__init__(name, **kw)
        self.factor = factor

    def process(self, x):
        return x * self.factor


def test_serialize_refuses_a_node_whose_init_argument_it_would_lose():
    with pytest.raises(errors.InvalidParameterError) as info:
        Pipeline([WithInit(3, name="w")]).serialize()
    assert info.value.path == "$.nodes[0].params"
    assert "node 'w' (WithInit): WithInit.__init__ takes 'factor', which the manifest cannot carry: declare it " \
           "in PARAMS" in str(info.value)
    assert Pipeline([WithInit(3, name="w")]).run_sync([2], runtime="python") == [6]  # running is fine


def test_serialize_keeps_an_init_argument_passed_on_as_a_parameter():
    @register_node_type
    class Scaled(Node):
        PARAMS = (ParamSpec("factor", "int", required=True),)

        def __init__(self, name=None, factor=1, **kw):
            super().__init__(name, factor=factor, **kw)

        def process(self, x):
            return x * self.config["factor"]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # registered: no warning
        text = Pipeline([Scaled("s", factor=4)]).serialize()
    assert Pipeline.from_manifest(text).run_sync([2], runtime="python") == [8]


def test_serialize_warns_that_an_unregistered_node_type_loads_nowhere_else():
    with pytest.warns(UserWarning, match=r"node 'p' \(Plain\) is not a registered node type: the manifest loads only "
                                         r"where Plain is registered"):
        Pipeline([Plain("p", k=1)]).serialize()


def test_a_registered_node_without_params_round_trips_its_parameters_through_a_manifest():
    @register_node_type
    class AddK(Node):
        def process(self, x):
            return x + self.config["k"]

    text = Pipeline([AddK("a", k=5)]).serialize()
    assert Pipeline.from_manifest(text).run_sync([1], runtime="python") == [6]


def test_numpy_scalars_are_taken_where_python_numbers_are():
    import numpy as np

    from remotemedia.nodes import AudioResampleNode, CalculatorNode, EnergyVADNode

    calc = CalculatorNode("c", operation=np.str_("add"), operand=np.int64(3))
    assert calc.params() == {"operation": "add", "operand": 3} and type(calc.params()["operand"]) is int
    assert Pipeline([calc]).run_sync([1], runtime="python") == [4]
    assert type(AudioResampleNode(sample_rate=np.float64(16000.0)).params()["sample_rate"]) is int
    assert type(AudioResampleNode(sample_rate=16000.0).params()["sample_rate"]) is int  # integral: an int
    assert EnergyVADNode(threshold_db=np.float32(-40.0)).params()["threshold_db"] == -40.0
    assert Plain("p", k=np.int16(2)).params() == {"k": 2}
    with pytest.raises(errors.InvalidParameterError, match="parameter 'sample_rate' must be an integer, got number"):
        AudioResampleNode(sample_rate=16000.5)


def test_constructor_errors_name_the_node():
    from remotemedia.nodes import AudioChunkerNode

    with pytest.raises(errors.InvalidParameterError, match=r"^node 'ch' \(AudioChunkerNode\): give exactly one of "
                                                           r"'frames' and 'duration_ms'$"):
        AudioChunkerNode("ch", frames=5, duration_ms=3)
