"""A NaN compares false with every bound, so a bounded float parameter must refuse it explicitly
(the fuzzer found EnergyVADNode(hangover_ms=nan) reaching a NaN -> int64 cast natively). JSON has no
NaN, so a Python node's parameters are where one can come from; the native check is in
tests/cpp/registry_test.cpp."""

import math

import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import _runtime  # noqa: E402
from remotemedia.core import registry  # noqa: E402
from remotemedia.errors import InvalidParameterError  # noqa: E402

BOUNDED = [(info["name"], p["name"]) for info in _runtime.node_types() for p in info["params"]
           if p.get("type") == "number" and (p.get("minimum") is not None or p.get("maximum") is not None)]


def test_there_are_bounded_float_parameters():
    assert ("EnergyVADNode", "hangover_ms") in BOUNDED


@pytest.mark.parametrize("node_type,param", BOUNDED)
def test_nan_is_refused_alike(node_type, param):
    with pytest.raises(InvalidParameterError) as python:
        registry.create_node(node_type, "n", {param: math.nan})
    assert str(python.value).endswith(f"parameter '{param}' must be finite (JSON has no inf or nan)")
