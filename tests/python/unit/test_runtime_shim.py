"""The seed's ``remotemedia_runtime`` module, the package version, and (when the native module is
built) agreement between the native registry and the Python one."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import remotemedia
import remotemedia_runtime
from remotemedia import _native, errors
from remotemedia.core import registry

SEED_MANIFEST = json.dumps(
    {
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
)


@pytest.fixture(autouse=True)
def quiet_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the fallback warning, without native
        yield


async def test_execute_pipeline_with_input_runs_the_seed_manifest():
    result = await remotemedia_runtime.execute_pipeline_with_input(SEED_MANIFEST, [1, 2, 3])
    assert type(result) is list and result == [6, 7, 8]
    document = json.loads(SEED_MANIFEST)
    assert await remotemedia_runtime.execute_pipeline_with_input(document, [0.5]) == [5.5]


async def test_execute_pipeline_with_input_keeps_array_in_array_out():
    result = await remotemedia_runtime.execute_pipeline_with_input(
        SEED_MANIFEST, np.arange(3, dtype=np.int32)
    )
    assert type(result) is np.ndarray and result.tolist() == [5, 6, 7]


async def test_execute_pipeline_without_input_returns_an_empty_list():
    assert await remotemedia_runtime.execute_pipeline(SEED_MANIFEST) == []


async def test_errors_are_raised_not_swallowed():
    with pytest.raises(errors.ManifestError):
        await remotemedia_runtime.execute_pipeline_with_input('{"version": "v2"}', [1])
    bad = SEED_MANIFEST.replace('"add"', '"divide"').replace('"operand": 5', '"operand": 0')
    with pytest.raises(errors.NodeZeroDivisionError) as info:
        await remotemedia_runtime.execute_pipeline_with_input(bad, [1])
    assert (info.value.node_id, info.value.item_index) == ("calc", 0)


def test_versions_and_availability():
    assert remotemedia.__version__ == remotemedia_runtime.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", remotemedia.__version__)
    assert remotemedia_runtime.is_available() is (_native.runtime_module() is not None)
    version = remotemedia_runtime.get_runtime_version()
    if remotemedia_runtime.is_available():
        assert version == _native.runtime_module().__version__
    else:
        assert version == remotemedia.__version__


def test_package_exports():
    assert set(remotemedia.__all__) >= {"Pipeline", "Node", "errors", "nodes", "__version__"}
    from remotemedia.nodes.base import PassThroughNode
    from remotemedia.nodes.calculator import CalculatorNode

    assert remotemedia.nodes.PassThroughNode is PassThroughNode
    assert remotemedia.nodes.CalculatorNode is CalculatorNode


# --------------------------------------------------------------------- with the native module


def test_native_registry_publishes_the_python_specs():
    runtime = pytest.importorskip("remotemedia._runtime")
    native = {t["name"]: t for t in runtime.node_types()}
    for spec in registry.node_types():
        if not runtime.has_node_type(spec.name):
            continue
        published = native[spec.name]
        assert published["aliases"] == list(spec.aliases)
        assert published["description"] == spec.description
        assert published["params"] == [
            {
                "name": p.name,
                "type": p.type,
                "required": p.required,
                "default": p.default,
                "choices": list(p.choices),
                "description": p.description,
                "minimum": p.minimum,
                "maximum": p.maximum,
            }
            for p in spec.params
        ]
    assert {"PassThroughNode", "CalculatorNode", "BufferNode"} <= native.keys()


async def test_seed_manifest_runs_natively_with_the_same_result():
    pytest.importorskip("remotemedia._runtime")
    pipeline = remotemedia.Pipeline.from_manifest(SEED_MANIFEST)
    items = [1, -2, 2.5, True]
    native = await pipeline.run(items, runtime="native")
    python = await pipeline.run(items, runtime="python")
    assert native == python and [type(x) for x in native] == [type(x) for x in python]
