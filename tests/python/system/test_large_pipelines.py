"""Pipelines of hundreds of thousands of nodes load in time linear in their size.

Building a Pipeline used to compare each new node's id with every node before it (100,000 nodes
did not load in 20 s, where the native validator takes 0.3 s). The load runs in a subprocess under a
timeout far above the linear cost (a few seconds) and far below the quadratic one (minutes), so the
test fails on a regression without measuring time itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from remotemedia import Pipeline
from remotemedia.errors import GraphError
from remotemedia.nodes import PassThroughNode

LOAD = textwrap.dedent(
    """
    import sys
    from remotemedia import Pipeline

    n, graph = int(sys.argv[1]), sys.argv[2] == "graph"
    doc = {"version": "v1", "nodes": [{"id": f"n{i}", "node_type": "PassThroughNode"} for i in range(n)]}
    if graph:
        doc["connections"] = [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)]
    pipeline = Pipeline.from_manifest(doc)
    assert len(pipeline.nodes) == n
    assert pipeline.nodes[-1].name == f"n{n - 1}"
    assert (pipeline.connections is None) != graph
    print("loaded", n)
    """
)


@pytest.mark.parametrize("shape", ["chain", "graph"])
def test_from_manifest_of_200000_nodes_completes(shape):
    n = 200_000
    done = subprocess.run([sys.executable, "-c", LOAD, str(n), shape], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["loaded", str(n)]


def test_duplicate_ids_are_still_found_with_their_first_position():
    nodes = [PassThroughNode(name=f"n{i}") for i in range(5)]
    with pytest.raises(GraphError) as info:
        Pipeline([*nodes, PassThroughNode(name="n2")])
    assert info.value.path == "$.nodes[5].id"
    assert "already used by $.nodes[2]" in info.value.message


def test_connect_adds_a_node_once_and_refuses_another_node_with_its_name():
    a, b = PassThroughNode(name="a"), PassThroughNode(name="b")
    pipeline = Pipeline([a])
    pipeline.connect(a, b).connect(a, b)
    assert [n.name for n in pipeline.nodes] == ["a", "b"]
    with pytest.raises(GraphError) as info:
        pipeline.connect(b, PassThroughNode(name="a"))
    assert info.value.path == "$.nodes[2].id"
