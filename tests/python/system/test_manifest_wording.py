"""The native runtime (``_runtime.validate``) and the Python parser (``parse_manifest``, which
``Pipeline.from_manifest`` runs first) report every manifest, graph and parameter fault with the same
class and the same words (docs/SEMANTICS.md, "Error messages"): over the shared corpus, over probes
of names that need escaping, and over pairs of bad parameters of every node type with a native
implementation, where the first bad parameter in declaration order is the one reported."""

from __future__ import annotations

import itertools
import json

import pytest

runtime = pytest.importorskip("remotemedia._runtime")

import manifest_corpus as corpus  # noqa: E402

from remotemedia.core import registry  # noqa: E402
from remotemedia.core.manifest import parse_manifest  # noqa: E402
from remotemedia.errors import quoted  # noqa: E402


def _text(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _fault(parse, text) -> tuple[str, str] | None:
    try:
        parse(text)
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return type(exc).__name__, str(exc)
    return None


def both(text) -> tuple:
    """(native fault, Python fault), each (class name, str(exc)) or None."""
    return _fault(runtime.validate, text), _fault(parse_manifest, text)


def assert_same(text):
    native, python = both(text)
    assert native == python
    return python


# ------------------------------------------------------------------------------------ quoting


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a", "'a'"),
        ("a'b", r"'a\'b'"),
        ('a"b', "'a\"b'"),
        ("a\\b", r"'a\\b'"),
        ("x\ny\tz\r", r"'x\ny\tz\r'"),
        ("\x00\x01\x1f\x7f", r"'\x00\x01\x1f\x7f'"),
        ("ïd €😀", "'ïd €😀'"),
        ("", "''"),
    ],
)
def test_quoted_escapes_backslash_quote_and_control_characters_only(text, expected):
    assert quoted(text) == expected


# ------------------------------------------------------------------------------------- corpus

def _corpus_params():
    for name, data, expected in corpus.invalid_cases():
        yield pytest.param(data, id=name)
    for name in corpus.generated_invalid_names():
        yield pytest.param(name, id=name)


@pytest.mark.parametrize("data", list(_corpus_params()))
def test_corpus_faults_read_the_same(data):
    if isinstance(data, str):
        _, data, _ = corpus.generated_invalid_case(data)
    native, python = both(_text(data))
    assert python is not None
    assert native == python


# Rules 1-3 on the text, worded by the one vocabulary of json_fault (src/core/json_fault.cpp and
# python/remotemedia/core/json_fault.py) whatever nlohmann and CPython's json say.
_V1 = '{"version": "v1", "nodes": []'
TEXT_FAULTS = {
    "empty": (b"", "line 1 column 1: unexpected end of input"),
    "truncated": (_V1.encode(), "line 1 column 30: unexpected end of input"),
    "trailing comma": (b'{"version": "v1", "nodes": [],}', "line 1 column 31: unexpected character '}'"),
    "extra data": (_V1.encode() + b"} {}", "line 1 column 32: extra data after the value"),
    "leading zero": (b'{"version": "v1", "nodes": [], "x": 01}', "line 1 column 38: unexpected character '1'"),
    "bad fraction": (b'{"version": "v1", "x": [1.]}', "line 1 column 25: invalid number"),
    "python literal": (b'{"version": "v1", "x": True}', "line 1 column 24: unexpected character 'T'"),
    "bad literal": (b'{"version": "v1", "x": nul}', "line 1 column 24: invalid literal"),
    "NaN": (b'{"version": "v1", "x": NaN}', "line 1 column 24: NaN is not a JSON value"),
    "-Infinity": (b'{"version": "v1",\n "x": -Infinity}', "line 2 column 7: -Infinity is not a JSON value"),
    "overflow": (b'{"version": "v1", "x": [1, -1e400]}', "line 1 column 28: number out of the range of a double"),
    "huge integer": (b'{"x": ' + b"9" * 400 + b"}", "line 1 column 7: number out of the range of a double"),
    "unterminated": (b'{"version": "v1", "x": "abc', "line 1 column 24: unterminated string"),
    "bad escape": (b'{"version": "v\\x1"}', "line 1 column 15: invalid escape"),
    "lone surrogate": (b'{"x": "\xc3\xa9\\udc00"}', "line 1 column 9: lone surrogate escape"),
    "control char": (b'{"x": "a\tb"}', "line 1 column 9: control character U+0009 in a string"),
    "invalid UTF-8": (b'{"x": "\xc3\xa9\xff"}', "line 1 column 9: invalid UTF-8 byte 0xff"),
    "byte-order mark": (b"\xef\xbb\xbf{}", "line 1 column 1: unexpected character U+FEFF"),
    "non-ASCII": (b'{"x": 1 \xe2\x82\xac}', "line 1 column 9: unexpected character U+20AC"),
    "duplicate key": (b'{"nodes": [],\n  "n\\u006fdes": []}', 'line 2 column 3: duplicate key "n\\u006fdes"'),
}


@pytest.mark.parametrize("name", TEXT_FAULTS)
def test_text_faults_read_the_same_words(name):
    data, where = TEXT_FAULTS[name]
    assert both(_text(data)) == (("ManifestError", f"$: not valid JSON at {where}"),) * 2


def test_size_and_depth_read_the_same_words():
    too_large = ("ManifestError", "$: manifest text is more than the 16 MiB limit (16777216 bytes)")
    assert both(_V1 + "}" + " " * (16 * 1024 * 1024 - len(_V1))) == (too_large,) * 2
    too_deep = ("ManifestError", "$: arrays and objects nested deeper than 64 levels")
    assert both('{"x": ' + "[" * 64 + "]" * 64 + "}") == (too_deep,) * 2
    assert both("[" * 65 + "oops") == (too_deep,) * 2  # too deep wins over not JSON


# ------------------------------------------------------------------------------------- probes

ODD_NAMES = ["a'b", 'a"b', "a\\b", "line\nbreak", "tab\there", "cr\r", "nul\x00", "bell\x07", "del\x7f",
             "ïd", "名前", "😀", " ", "a b"]


def doc(nodes, connections=None, **top):
    d = {"version": "v1", "nodes": nodes, **top}
    if connections is not None:
        d["connections"] = [c if isinstance(c, dict) else {"from": c[0], "to": c[1]} for c in connections]
    return json.dumps(d)


def node(id_, node_type="PassThroughNode", **fields):
    return {"id": id_, "node_type": node_type, **fields}


def calc(id_, **params):
    return node(id_, "CalculatorNode", params=params)


def _probes():
    for name in ODD_NAMES:
        yield f"duplicate id {name!r}", doc([node(name), node(name)])
        yield f"unknown type {name!r}", doc([node("a", name)])
        yield f"dangling from {name!r}", doc([node("a")], [(name, "a")])
        yield f"dangling to {name!r}", doc([node("a")], [("a", name)])
        yield f"duplicate connection {name!r}", doc([node(name), node("b")], [(name, "b"), (name, "b")])
        yield f"cycle {name!r}", doc([node(name), node("b")], [(name, "b"), ("b", name)])
        yield f"self loop {name!r}", doc([node(name)], [(name, name)])
        yield f"unknown param {name!r}", doc([calc("a", operation="add", operand=1, **{name: 1})])
        yield f"bad choice {name!r}", doc([calc("a", operation=name, operand=1)])
        yield f"unknown top-level key {name!r}", json.dumps({"version": "v1", "nodes": [], name: 1})
        yield f"unknown node key {name!r}", doc([node("a", **{name: 1})])
        yield f"unknown connection key {name!r}", doc([node("a"), node("b")], [{"from": "a", "to": "b", name: 1}])
        yield f"version {name!r}", json.dumps({"version": name, "nodes": []})
        yield f"runtime hint {name!r}", doc([node("a", runtime_hint=name)])
        yield f"no port {name!r}", doc([node("a"), node("b")], [{"from": "a", "to": "b", "from_port": name}])
        yield f"node failing id {name!r}", doc([node(name, "RouterNode", params={"routes": []})])
    yield "missing param", doc([calc("a", operation="add")])
    yield "missing params", doc([node("a", "CalculatorNode")])
    yield "wrong type", doc([calc("a", operation="add", operand="1")])
    yield "wrong type bool", doc([calc("a", operation="add", operand=True)])
    yield "operand beyond int64", doc([calc("a", operation="add", operand=2**63)])
    yield "two faults: unknown and missing", doc([calc("a", operation="add", bogus=1)])
    yield "two faults: bad choice and bad type", doc([calc("a", operation="sqrt", operand="x")])
    yield "two faults: bad params then duplicate id", doc([calc("a", operation="sqrt"), node("a")])
    yield "two faults: duplicate id then unknown type", doc([node("a"), node("a", "Nope")])
    yield "two faults: dangling and cycle", doc([node("a"), node("b")], [("a", "b"), ("b", "a"), ("a", "ghost")])
    yield "two faults: two dangling", doc([node("a")], [("x", "y")])
    yield "alias in a port message", doc([node("a", "Calculator", params={"operation": "add", "operand": 1}),
                                          node("b")], [{"from": "a", "to": "b", "from_port": "nope"}])
    yield "router without from_port", doc([node("r", "RouterNode", params={"routes": [{"when": "item > 0", "to": "p"}],
                                                                           "default": "q"}), node("b")],
                                          [("r", "b")])
    yield "router in a chain", doc([node("r", "RouterNode", params={"routes": [{"when": "item > 0", "to": "p"}],
                                                                    "default": "q"}), node("b")])
    yield "bad expression", doc([node("m", "MapNode", params={"expression": "item +"})])
    yield "expression names 'x'", doc([node("m", "MapNode", params={"expression": "x"})])
    yield "node not an object", doc([1])
    yield "id empty", doc([node("")])
    yield "id number", doc([node(5)])
    yield "connection not an object", doc([node("a")], [["a", "a"]])
    yield "from empty", doc([node("a")], [{"from": "", "to": "a"}])
    yield "from_port empty", doc([node("a"), node("b")], [{"from": "a", "to": "b", "from_port": ""}])
    yield "runtime hint null", doc([node("a", runtime_hint=None)])
    yield "runtime hint number", doc([node("a", runtime_hint=1)])
    yield "version missing", json.dumps({"nodes": []})
    yield "version number", json.dumps({"version": 1, "nodes": []})
    yield "nodes missing", json.dumps({"version": "v1"})
    yield "manifest an array", "[]"
    yield "params a list", doc([node("a", params=[])])
    yield "host a number", doc([node("a", host=1)])
    yield "metadata name a number", doc([], metadata={"name": 1})


PROBES = dict(_probes())


@pytest.mark.parametrize("name", PROBES)
def test_probes_read_the_same(name):
    assert assert_same(PROBES[name]) is not None


@pytest.mark.parametrize("name", ["a'b", "line\nbreak", "nul\x00", "名前"])
def test_odd_names_are_quoted_by_the_one_rule(name):
    _, message = assert_same(doc([node(name), node(name)]))
    assert message == f"$.nodes[1].id: duplicate node id {quoted(name)} (already used by $.nodes[0])"
    _, message = assert_same(doc([node(name), node("b")], [(name, "b"), ("b", name)]))
    assert message == f"$.connections: connections form a cycle: {quoted(name)} -> 'b' -> {quoted(name)}"


def test_plain_names_read_as_before():
    assert both(doc([node("a"), node("a")]))[0] == (
        "GraphError", "$.nodes[1].id: duplicate node id 'a' (already used by $.nodes[0])")
    assert both(doc([node("a"), node("b")], [("a", "b"), ("a", "b")]))[0] == (
        "GraphError", "$.connections[1]: duplicate connection 'a' -> 'b' (same as $.connections[0])")
    assert both(doc([node("a")], [("a", "ghost")]))[0] == (
        "GraphError", "$.connections[0].to: connection target 'ghost' names no node")


# ------------------------------------------------------------------- bad parameters, in pairs

# A value that passes the schema for the parameters a node type requires, so that a sweep of its
# other parameters meets their faults only.
REQUIRED = {
    "AudioFileSinkNode": {"path": "/tmp/never-written.wav"},
    "AudioGainNode": {"db": 0},
    "AudioResampleNode": {"sample_rate": 16000},
    "BufferNode": {"buffer_size": 2},
    "CalculatorNode": {"operation": "add", "operand": 1},
    "FilterNode": {"condition": "item > 0"},
    "MapNode": {"expression": "item"},
    "RouterNode": {"routes": [{"when": "item > 0", "to": "a"}]},
}
# Wrong type, negative, zero, giant, out of choice, per parameter type.
BAD_VALUES = {
    "int": ["x", -5, 0, 2**62, 1.5],
    "number": ["x", -5, 0, 2**62, True],
    "string": [5, "no-such-choice", ""],
    "bool": ["x", 0],
    "list": ["x", [], [1]],
    "map": ["x", 0],
    "any": ["x", -5, 0, [1]],
}
# Rules between two parameters that a node type reports at the earlier one, because the later one
# decides whether the earlier is wrong (a path without an extension is wrong only without a format;
# no routes only without a default): with the later one bad too, the later one is reported.
CROSS_RULES = {("AudioFileSinkNode", "path", "format"), ("RouterNode", "routes", "default")}

NATIVE_TYPES = [s for s in registry.node_types() if runtime.has_node_type(s.name)]


def _params_doc(spec, params):
    return doc([node("n", spec.name, params={**REQUIRED.get(spec.name, {}), **params})])


def test_every_native_node_type_is_swept():
    assert len(NATIVE_TYPES) >= 15
    assert {s.name for s in NATIVE_TYPES} >= set(REQUIRED)


@pytest.mark.parametrize("spec", NATIVE_TYPES, ids=lambda s: s.name)
def test_pairs_of_bad_parameters_read_the_same_and_the_first_declared_is_reported(spec):
    alone = {}
    for p in spec.params:
        for v in BAD_VALUES[p.type]:
            alone[p.name, json.dumps(v)] = assert_same(_params_doc(spec, {p.name: v}))
    for p, q in itertools.combinations(spec.params, 2):  # p is declared before q
        for v, w in itertools.product(BAD_VALUES[p.type], BAD_VALUES[q.type]):
            fault = assert_same(_params_doc(spec, {p.name: v, q.name: w}))
            first, second = alone[p.name, json.dumps(v)], alone[q.name, json.dumps(w)]
            if first and second and (spec.name, p.name, q.name) not in CROSS_RULES:
                assert fault == first, (p.name, v, q.name, w)


def test_energy_vad_reports_its_first_declared_bad_parameter():
    spec = registry.lookup("EnergyVADNode")
    fault = assert_same(_params_doc(spec, {"threshold_db": "x", "frame_ms": -5, "hangover_ms": -1}))
    assert fault == ("InvalidParameterError",
                     "$.nodes[0].params.threshold_db: parameter 'threshold_db' must be a number, got string")
    # The node's own check (frame_ms) comes before the schema's bound on a later parameter.
    fault = assert_same(_params_doc(spec, {"frame_ms": -5, "hangover_ms": -1}))
    assert fault == ("InvalidParameterError",
                     "$.nodes[0].params.frame_ms: parameter 'frame_ms' must be greater than 0 and at most 10000")


# The router's own check words an unknown route key itself (src/nodes/flow.cpp and
# python/remotemedia/nodes/flow.py): the key quoted by the one rule, its path by key_path.
@pytest.mark.parametrize("key", ["a\\b", "x\ny", "é", "it's", "when2"])
def test_an_odd_route_key_reads_the_same(key):
    assert_same(doc([node("r", "RouterNode", params={"routes": [{"when": "item", "to": "a", key: 1}]})]))
