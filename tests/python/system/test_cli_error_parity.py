"""The two commands, `remotemedia-runtime run` (C++) and `remotemedia run` (Python), report the same
fault with the same first line on stderr and the same exit code: a manifest with a cycle, an unknown
node type, a bad parameter or expression, a node that fails on an item. (The C++ program adds a note
after an unknown node type: it runs native node types only.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [REPO / "build" / "tests" / "remotemedia-runtime", REPO / "build" / "dev" / "remotemedia-runtime"]
PROGRAM = next((p for p in CANDIDATES if p.exists()), None) or shutil.which("remotemedia-runtime")
pytestmark = pytest.mark.skipif(PROGRAM is None, reason="remotemedia-runtime is not built")


def node(id_, node_type="PassThroughNode", **params):
    return {"id": id_, "node_type": node_type, "params": params}


def manifest(nodes, connections=()):
    return json.dumps({"version": "v1", "nodes": nodes, "connections": [{"from": a, "to": b} for a, b in connections]})


def both(tmp_path, manifest_text, items="[1]"):
    path = tmp_path / "m.json"
    path.write_text(manifest_text, encoding="utf-8")
    commands = {"native": [str(PROGRAM), "run", str(path)],
                "python": [sys.executable, "-m", "remotemedia.cli", "run", str(path), "--runtime", "python"]}
    out = {}
    for name, command in commands.items():
        done = subprocess.run(command, input=items, capture_output=True, text=True, timeout=120)
        out[name] = (done.returncode, done.stderr.splitlines()[0] if done.stderr else "")
    return out


MANIFEST_FAULTS = {
    "two-node cycle": (manifest([node("a"), node("b")], [("a", "b"), ("b", "a")]), 1,
                       "error: GraphError: $.connections: connections form a cycle: 'a' -> 'b' -> 'a'"),
    "self loop": (manifest([node("a")], [("a", "a")]), 1,
                  "error: GraphError: $.connections: connections form a cycle: 'a' -> 'a'"),
    "cycle after a source": (manifest([node("s"), node("a"), node("b"), node("c")],
                                      [("s", "a"), ("a", "b"), ("b", "c"), ("c", "a")]), 1,
                             "error: GraphError: $.connections: connections form a cycle: 'a' -> 'b' -> 'c' -> 'a'"),
    "unknown node type": (manifest([node("a", "NoSuchNode")]), 1,
                          "error: UnknownNodeTypeError: $.nodes[0].node_type: unknown node type 'NoSuchNode'"),
    "bad choice": (manifest([node("a", "CalculatorNode", operation="sqrt", operand=1)]), 1,
                   "error: InvalidParameterError: $.nodes[0].params.operation: parameter 'operation' must be one "
                   "of add, subtract, multiply, divide, power, modulo; got 'sqrt'"),
    "bad type": (manifest([node("a", "CalculatorNode", operation="add", operand="x")]), 1,
                 "error: InvalidParameterError: $.nodes[0].params.operand: parameter 'operand' must be a number, "
                 "got string"),
    "missing parameter": (manifest([node("a", "CalculatorNode", operation="add")]), 1,
                          "error: InvalidParameterError: $.nodes[0].params: missing required parameter 'operand' "
                          "for CalculatorNode"),
    "bad expression": (manifest([node("a", "MapNode", expression="item +")]), 1,
                       "error: InvalidParameterError: $.nodes[0].params.expression: syntax error at column 7: "
                       "unexpected end of expression"),
}


@pytest.mark.parametrize("name", MANIFEST_FAULTS)
def test_manifest_faults_read_the_same(tmp_path, name):
    text, code, line = MANIFEST_FAULTS[name]
    assert both(tmp_path, text) == {"native": (code, line), "python": (code, line)}


NODE_FAULTS = {
    "int64 overflow": ("multiply", 2, "[9223372036854775807]",
                       "error: NodeOverflowError: node 'a' (CalculatorNode) failed on item 0: "
                       "9223372036854775807 * 2 does not fit in int64"),
    "int beyond int64": ("add", 1, "[1180591620717411303424]",
                         "error: NodeOverflowError: node 'a' (CalculatorNode) failed on item 0: "
                         "int too large to convert to int64"),
    "null item": ("add", 1, "[1, null]",
                  "error: NodeTypeError: node 'a' (CalculatorNode) failed on item 1: "
                  "unsupported operand type NoneType (expected int, float or a numeric numpy array)"),
    "negative base": ("power", 0.5, "[-1]",
                      "error: NodeValueError: node 'a' (CalculatorNode) failed on item 0: "
                      "(-1) ** 0.5: a negative base to a fractional power has no real result"),
}


@pytest.mark.parametrize("name", NODE_FAULTS)
def test_node_faults_read_the_same(tmp_path, name):
    operation, operand, items, line = NODE_FAULTS[name]
    text = manifest([node("a", "CalculatorNode", operation=operation, operand=operand)])
    assert both(tmp_path, text, items) == {"native": (2, line), "python": (2, line)}


BAD_JSON = ['{"version": "v1", "nodes": [', '{"version": "v1", "nodes": [}', '{"version": "v1", "nodes": []} x', ""]


@pytest.mark.parametrize("text", BAD_JSON)
def test_invalid_manifest_json_exits_1_as_a_manifest_error_at_the_root(tmp_path, text):
    out = both(tmp_path, text)
    for code, line in out.values():
        assert code == 1 and line.startswith("error: ManifestError: $: "), out


@pytest.mark.xfail(strict=True, reason="the JSON parsers' own reasons differ (nlohmann vs CPython's json); "
                                       "issue 11, not yet worded alike")
@pytest.mark.parametrize("text", BAD_JSON)
def test_invalid_manifest_json_reads_the_same(tmp_path, text):
    out = both(tmp_path, text)
    assert out["native"] == out["python"]


@pytest.mark.parametrize("items", ["[1", "", "[1] x", "[1,]"])
def test_invalid_input_json_exits_3(tmp_path, items):
    out = both(tmp_path, manifest([node("a")]), items)
    assert out["native"][0] == out["python"][0] == 3, out


@pytest.mark.xfail(strict=True, reason="the JSON parsers' own reasons differ (nlohmann vs CPython's json); "
                                       "issue 11, not yet worded alike")
@pytest.mark.parametrize("items", ["[1", "", "[1] x", "[1,]"])
def test_invalid_input_json_reads_the_same(tmp_path, items):
    out = both(tmp_path, manifest([node("a")]), items)
    assert out["native"] == out["python"]
