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
    """Texts may be bytes, to give the commands what is not UTF-8."""
    path = tmp_path / "m.json"
    path.write_bytes(manifest_text if isinstance(manifest_text, bytes) else manifest_text.encode())
    commands = {"native": [str(PROGRAM), "run", str(path)],
                "python": [sys.executable, "-m", "remotemedia.cli", "run", str(path), "--runtime", "python"]}
    out = {}
    for name, command in commands.items():
        done = subprocess.run(command, input=items if isinstance(items, bytes) else items.encode(),
                              capture_output=True, timeout=120)
        stderr = done.stderr.decode("utf-8", "replace")
        out[name] = (done.returncode, stderr.splitlines()[0] if stderr else "")
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


# Each parser's own reasons and positions differ (nlohmann's, CPython's json): both commands scan a
# text they refuse again and word its first fault from one vocabulary, at the line and column (in
# characters, 1-based) where it is.
BAD_MANIFESTS = {
    "unexpected end": ('{"version": "v1", "nodes": [', "line 1 column 29: unexpected end of input"),
    "unexpected character": ('{"version": "v1", "nodes": [}', "line 1 column 29: unexpected character '}'"),
    "extra data": ('{"version": "v1", "nodes": []} x', "line 1 column 32: extra data after the value"),
    "empty": ("", "line 1 column 1: unexpected end of input"),
    "unterminated string": ('{"version": "v1', "line 1 column 13: unterminated string"),
    "bad escape": ('{"version": "v\\1"}', "line 1 column 15: invalid escape"),
    "trailing comma in an object": ('{"version": "v1",}', "line 1 column 18: unexpected character '}'"),
    "invalid UTF-8": (b'{"version": "v\xff"}', "line 1 column 15: invalid UTF-8 byte 0xff"),
    "bare word": ("version", "line 1 column 1: unexpected character 'v'"),
    "columns in characters": ('{"version": "v1",\n "nodes": ["\u00e9", x]}', "line 2 column 17: unexpected character 'x'"),
    "byte order mark": ("\ufeff{}", "line 1 column 1: unexpected character U+FEFF"),
    "bad number": ('{"version": -}', "line 1 column 13: invalid number"),
    "control character": ('{"version": "v\n1"}', "line 1 column 15: control character U+000A in a string"),
    "duplicate key": ('{"version": "v1", "version": "v1"}', 'line 1 column 19: duplicate key "version"'),
}


@pytest.mark.parametrize("name", BAD_MANIFESTS)
def test_invalid_manifest_json_reads_the_same(tmp_path, name):
    text, where = BAD_MANIFESTS[name]
    line = f"error: ManifestError: $: not valid JSON at {where}"
    assert both(tmp_path, text) == {"native": (1, line), "python": (1, line)}


BAD_INPUTS = {
    "unexpected end": ("[1", "line 1 column 3: unexpected end of input"),
    "empty": ("", "line 1 column 1: unexpected end of input"),
    "extra data": ("[1] x", "line 1 column 5: extra data after the value"),
    "trailing comma": ("[1,]", "line 1 column 4: unexpected character ']'"),
    "unterminated string": ('["abc', "line 1 column 2: unterminated string"),
    "bad escape": ('["a\\q"]', "line 1 column 4: invalid escape"),
    "trailing comma in an object": ('[{"a": 1,}]', "line 1 column 10: unexpected character '}'"),
    "invalid UTF-8": (b'["\xff"]', "line 1 column 3: invalid UTF-8 byte 0xff"),
    "truncated UTF-8": (b'["\xe2\x82"]', "line 1 column 3: invalid UTF-8 byte 0xe2"),
    "bare word": ("hello", "line 1 column 1: unexpected character 'h'"),
    "literal": ("[tru]", "line 1 column 2: invalid literal"),
    "columns in characters": ('["\u20ac", 1 2]', "line 1 column 9: unexpected character '2'"),
    "second line": ("[1,\n 2,,]", "line 2 column 4: unexpected character ','"),
    "lone surrogate": ('["\\ud800"]', "line 1 column 3: lone surrogate escape"),
    # CPython's json keeps the last of two equal keys, nlohmann refuses them: both commands refuse.
    "duplicate key": ('[{"a": 1, "b": {"a": 2}, "a": 3}]', 'line 1 column 26: duplicate key "a"'),
    "duplicate key written as an escape": ('[{"\u00e9": 1, "\\u00e9": 2}]', 'line 1 column 11: duplicate key "\\u00e9"'),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_invalid_input_json_reads_the_same(tmp_path, name):
    items, where = BAD_INPUTS[name]
    line = f"error: input is not valid JSON at {where}"
    assert both(tmp_path, manifest([node("a")]), items) == {"native": (3, line), "python": (3, line)}


# JSON has no NaN or Infinity, and nlohmann reads every number as a double first: both commands
# refuse these in the input (exit 3) and in the manifest (exit 1).
NON_FINITE = {
    "NaN": ("NaN", "NaN is not a JSON value"),
    "Infinity": ("Infinity", "Infinity is not a JSON value"),
    "-Infinity": ("-Infinity", "-Infinity is not a JSON value"),
    "overflowing float": ("-1e400", "number out of the range of a double"),
    "overflowing integer": ("1" + "0" * 400, "number out of the range of a double"),
    "overflowing long mantissa": ("1" + "0" * 250 + "e99", "number out of the range of a double"),
}


@pytest.mark.parametrize("name", NON_FINITE)
def test_non_finite_numbers_in_the_input_are_refused_alike(tmp_path, name):
    token, reason = NON_FINITE[name]
    line = f"error: input is not valid JSON at line 1 column 5: {reason}"
    assert both(tmp_path, manifest([node("a")]), f"[1, {token}]") == {"native": (3, line), "python": (3, line)}


@pytest.mark.parametrize("name", NON_FINITE)
def test_non_finite_numbers_in_the_manifest_are_refused_alike(tmp_path, name):
    token, reason = NON_FINITE[name]
    text = '{"version": "v1", "nodes": [], "metadata": {"x": %s}}' % token
    line = f"error: ManifestError: $: not valid JSON at line 1 column 50: {reason}"
    assert both(tmp_path, text) == {"native": (1, line), "python": (1, line)}


def test_numbers_within_range_still_pass(tmp_path):
    items = "[1e308, -0.0, 1e-400, 123456789012345678901234567890, 1%se-99]" % ("0" * 300)
    out = both(tmp_path, manifest([node("a")]), items)
    assert out == {"native": (0, ""), "python": (0, "")}


def test_a_non_finite_output_is_refused_alike(tmp_path):
    text = manifest([node("a", "CalculatorNode", operation="multiply", operand=10)])
    line = "error: output has no JSON form: a non-finite float has no JSON form"
    assert both(tmp_path, text, "[1e308, 2]") == {"native": (3, line), "python": (3, line)}
    assert both(tmp_path, text, "[1e307, 2]") == {"native": (0, ""), "python": (0, "")}
