"""parse_manifest against docs/MANIFEST.md: every corpus case raises exactly the expected class at
the expected path; valid manifests parse to the expected graph; large and deep inputs fail cleanly."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import manifest_corpus as corpus
from remotemedia.core.graph import (
    edges,
    find_cycle,
    format_cycle,
    sinks,
    sources,
    topological_order,
)
from remotemedia.core.manifest import (
    MAX_MANIFEST_BYTES,
    Connection,
    Manifest,
    NodeSpec,
    key_path,
    manifest_to_dict,
    manifest_to_json,
    parse_manifest,
)
from remotemedia.errors import (
    GraphError,
    InvalidParameterError,
    ManifestError,
    UnknownNodeTypeError,
)

lookup = corpus.reference_lookup

INVALID = corpus.invalid_cases()
VALID = corpus.valid_cases()

# The class each rule of docs/MANIFEST.md raises.
RULE_ERRORS = {r: "ManifestError" for r in range(1, 18)}
RULE_ERRORS.update({18: "GraphError", 19: "UnknownNodeTypeError", 20: "InvalidParameterError"})
RULE_ERRORS.update({21: "GraphError", 22: "GraphError", 23: "GraphError"})
# Words of the Python parser's message that tell rules 1-4 apart (they share the path `$`).
TEXT_RULE_WORDS = {1: "16 MiB", 2: "nested", 3: "not valid JSON", 4: "must be a JSON object"}


def _raise(text, lk=lookup):
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, lk)
    return info.value


def _check(err: ManifestError, expected: dict) -> None:
    assert type(err) is corpus.error_class(expected["error"]), (type(err), str(err))
    assert err.path == expected["path"], str(err)
    message = str(err)
    assert message.startswith(expected["path"] + ": "), message
    assert err.message and err.message in message
    for word in expected.get("mentions", ()):
        assert word in err.message, (word, message)
    for word in expected.get("excludes", ()):
        assert word not in err.message, (word, message)
    rule = expected["rule"]
    if rule in TEXT_RULE_WORDS:
        assert TEXT_RULE_WORDS[rule] in err.message, message
    if rule == 3:
        assert "line" in err.message and "column" in err.message


# ------------------------------------------------------------------------------------ the corpus


def test_corpus_is_complete_and_consistent():
    assert len(INVALID) >= 40
    every = corpus.all_invalid_cases()
    rules = {exp["rule"] for _, _, exp in every}
    assert rules == set(range(1, 24)), sorted(set(range(1, 24)) - rules)
    for name, _, exp in every:
        assert exp["error"] in corpus.ERROR_NAMES, name
        assert RULE_ERRORS[exp["rule"]] == exp["error"], name
        assert exp["structural"] == (4 <= exp["rule"] <= 17), name
        if exp["rule"] <= 4:
            assert exp["path"] == "$", name
        assert exp["path"].startswith("$"), name


@pytest.mark.parametrize("name,text,expected", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_manifest_bytes(name, text, expected):
    _check(_raise(text), expected)


@pytest.mark.parametrize("name,text,expected", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_manifest_str_and_dict_agree(name, text, expected):
    try:
        as_str = text.decode("utf-8")
    except UnicodeDecodeError:
        return  # only bytes can carry invalid UTF-8
    _check(_raise(as_str), expected)
    if expected["rule"] >= 4:
        # The same document given parsed (a dict, or a list for rule 4) fails the same check.
        parsed = json.loads(as_str)
        if isinstance(parsed, (dict, list)):
            _check(_raise(parsed), expected)


@pytest.mark.parametrize("name", corpus.generated_invalid_names())
def test_generated_invalid_manifest(name):
    _, text, expected = corpus.generated_invalid_case(name)
    _check(_raise(text), expected)  # a RecursionError or MemoryError would fail here


@pytest.mark.parametrize("name,text,expected", VALID, ids=[c[0] for c in VALID])
def test_valid_manifest(name, text, expected):
    m = parse_manifest(text, lookup)
    assert topological_order(m) == expected["order"]
    assert sorted(n.id for n in m.nodes) == sorted(expected["order"])
    assert sources(m) == expected["sources"]
    assert sinks(m) == expected["sinks"]
    assert m.is_chain is expected["chain"]
    assert [n.index for n in m.nodes] == list(range(len(m.nodes)))
    if m.connections is not None:
        assert [c.index for c in m.connections] == list(range(len(m.connections)))
    # str and dict inputs give the same Manifest; the dict form round-trips.
    assert parse_manifest(text.decode("utf-8"), lookup) == m
    assert parse_manifest(json.loads(text), lookup) == m
    assert parse_manifest(manifest_to_dict(m), lookup) == m
    assert parse_manifest(manifest_to_json(m), lookup) == m


@pytest.mark.parametrize("name", corpus.generated_valid_names())
def test_generated_valid_manifest(name):
    _, text, expected = corpus.generated_valid_case(name)
    m = parse_manifest(text, lookup)
    assert topological_order(m) == expected["order"]
    assert sources(m) == expected["sources"]
    assert sinks(m) == expected["sinks"]
    assert m.is_chain is expected["chain"]


def test_ten_thousand_node_chain_contents():
    _, text, _ = corpus.generated_valid_case("gen_chain_10000.json")
    m = parse_manifest(text, lookup)
    assert len(m.nodes) == 10_000
    assert m.nodes[9_999].id == "c9999"
    assert m.nodes[9_999].params == {"operation": "add", "operand": 1}
    assert edges(m)[-1] == ("p9998", "c9999") and len(edges(m)) == 9_999


def test_long_cycle_is_found_without_recursion():
    _, text, _ = corpus.generated_invalid_case("gen_cycle_10000.json")
    err = _raise(text)
    assert err.message.endswith(format_cycle([f"n{i}" for i in range(10_000)]))


# ------------------------------------------------------------------------------------ valid details


def _valid(name: str) -> Manifest:
    text = dict((n, t) for n, t, _ in VALID)[name]
    return parse_manifest(text, lookup)


def test_number_types_follow_the_json_literal():
    ops = {n.id: n.params["operand"] for n in _valid("operand_bounds.json").nodes}
    assert ops["imax"] == 2**63 - 1 and type(ops["imax"]) is int
    assert ops["imin"] == -(2**63) and type(ops["imin"]) is int
    assert ops["five_float"] == 5.0 and type(ops["five_float"]) is float
    assert ops["big_float"] == 1e308 and type(ops["big_float"]) is float
    assert type(ops["neg_zero_float"]) is float and math.copysign(1, ops["neg_zero_float"]) == -1
    assert ops["zero"] == 0 and type(ops["zero"]) is int
    assert type(ops["big_float_integral"]) is float  # 1e+20 is a float, not an int outside int64
    crlf = _valid("crlf_compact.json").nodes[1].params["operand"]
    assert crlf == 0 and type(crlf) is int  # -0 is the integer 0
    exponent = _valid("unicode_ids.json").nodes[1].params["operand"]
    assert exponent == 100.0 and type(exponent) is float  # 1E2


def test_escapes_decode_to_the_same_ids():
    m = _valid("unicode_ids.json")
    assert [n.id for n in m.nodes] == ["ñandú", "日本", "emoji 😀"]
    assert m.name == "ñandú 😀"
    assert m.metadata["note \"quoted\""] == "\\ and [brackets {in strings"
    assert [(c.source, c.target) for c in m.connections] == [("ñandú", "日本"), ("日本", "emoji 😀")]


def test_optional_fields_are_kept():
    m = _valid("all_optional_fields.json")
    auto, native, python, bare = m.nodes
    assert (auto.runtime_hint, auto.host, auto.capabilities) == ("auto", "", {})
    assert native.runtime_hint == "native" and native.host == "localhost:5000"
    assert native.capabilities == {"gpu": False, "memory_mb": 64}
    assert python.capabilities == {"nested": {"deep": [1, [2, [3]]]}}
    assert (bare.params, bare.capabilities, bare.host, bare.runtime_hint) == ({}, None, None, None)
    assert m.metadata["owner"] == {"team": "media", "tags": ["a", 1, None, True]}
    d = manifest_to_dict(m)
    assert d["nodes"][3] == {"id": "bare", "node_type": "PassThroughNode", "params": {}}
    assert d["nodes"][1]["host"] == "localhost:5000"


def test_aliases_are_kept_as_written():
    m = _valid("aliases.json")
    assert [n.node_type for n in m.nodes] == ["PassThrough", "Calculator", "PassThroughNode"]


def test_absent_and_empty_keys_are_distinguished():
    bare = parse_manifest('{"version": "v1", "nodes": []}', lookup)
    assert bare == Manifest(version="v1", name=None, metadata=None, nodes=[], connections=None)
    assert manifest_to_dict(bare) == {"version": "v1", "nodes": []}
    empty = _valid("empty_nodes_empty_connections.json")
    assert empty.metadata == {} and empty.connections == [] and not empty.is_chain
    assert manifest_to_dict(empty) == {"version": "v1", "metadata": {}, "nodes": [], "connections": []}


def test_examples_seed_pipelines():
    found = {name.rsplit("/", 1)[-1]: parse_manifest(text, lookup) for name, text in corpus.example_manifests()}
    for name in ("seed_simple.json", "seed_medium.json", "seed_complex.json", "seed_calc_heavy.json"):
        assert name in found, name
        assert found[name].metadata["description"]

    def shape(m):
        return [(n.node_type, n.params.get("operation"), n.params.get("operand")) for n in m.nodes]

    P = ("PassThroughNode", None, None)
    assert shape(found["seed_simple.json"]) == [P, P, P]
    assert shape(found["seed_medium.json"]) == [
        P, ("CalculatorNode", "add", 5), P, ("CalculatorNode", "multiply", 2), P,
    ]
    complex_ = found["seed_complex.json"]
    assert len(complex_.nodes) == 10
    assert topological_order(complex_) == [n.id for n in complex_.nodes]  # a chain
    ops = [op for t, op, _ in shape(complex_) if t == "CalculatorNode"]
    assert sorted(ops) == sorted(["add", "subtract", "multiply", "divide", "power", "modulo"])
    assert sum(t == "PassThroughNode" for t, _, _ in shape(complex_)) == 4
    heavy = shape(found["seed_calc_heavy.json"])
    assert len(heavy) == 7 and all(t == "CalculatorNode" for t, _, _ in heavy)


# ------------------------------------------------------------------------------------ text rules


def test_size_limit_counts_utf8_bytes_not_characters():
    body = '{"version": "v1", "metadata": {"name": "%s"}, "nodes": []}'
    chars = (MAX_MANIFEST_BYTES // 2) + 10  # 'é' is two bytes: fewer chars than the limit
    text = body % ("é" * chars)
    assert len(text) < MAX_MANIFEST_BYTES < len(text.encode())
    err = _raise(text)
    assert type(err) is ManifestError and err.path == "$" and "16 MiB" in err.message


def test_size_limit_boundary_is_exact():
    _, at_limit, _ = corpus.generated_valid_case("gen_exactly_16mib.json")
    assert len(at_limit) == MAX_MANIFEST_BYTES
    parse_manifest(at_limit, lookup)
    parse_manifest(at_limit.decode(), lookup)
    err = _raise(at_limit + b" ")
    assert "16 MiB" in err.message


def test_size_is_checked_before_json_validity():
    err = _raise(b"{" + b"x" * MAX_MANIFEST_BYTES)
    assert err.path == "$" and "16 MiB" in err.message


def test_depth_is_checked_before_json_validity():
    err = _raise("[" * 65 + "oops")
    assert "nested" in err.message
    assert "not valid JSON" in _raise("[" * 64 + "oops").message


@pytest.mark.parametrize(
    "text,line,column",
    [
        ('{\n  "version": "v1",\n  "nodes": [,]\n}', 3, 13),
        ('{"version": "v1",\n "nodes": [],\n "x": NaN}', 3, 7),
        ('{"version": "v1",\n "nodes": [{"id": "a", "id": "b"}]}', 2, 24),
        ("\ufeff{}", 1, 1),
        ('{"nodes": [],\n  "version": 1e999}', 2, 14),
        ('{"version": "v1", "nodes": [], "m": "\\udc00"}', 1, 38),
    ],
)
def test_json_errors_give_line_and_column(text, line, column):
    err = _raise(text)
    assert type(err) is ManifestError and err.path == "$"
    assert f"line {line} column {column}" in err.message


def test_surrogate_pairs_are_fine_and_lone_surrogates_are_not():
    ok = '{"version": "v1", "metadata": {"name": "\\ud83d\\ude00 \\\\ud800"}, "nodes": []}'
    assert parse_manifest(ok, lookup).name == "😀 \\ud800"  # an escaped backslash, not an escape
    for bad in ("\\ud83d", "\\ude00", "\\ud83d\\u0041", "x\\ud83dy"):
        text = '{"version": "v1", "metadata": {"name": "%s"}, "nodes": []}' % bad
        assert "surrogate" in _raise(text).message, bad
    err = _raise('{"version": "v1", "metadata": {"name": "\ud800"}, "nodes": []}')
    assert err.path == "$" and "surrogate" in err.message  # a raw lone surrogate in a str


def test_duplicate_keys_are_rejected_at_any_depth():
    err = _raise('{"version": "v1", "metadata": {"a": {"k": 1, "k": 1}}, "nodes": []}')
    assert 'duplicate key "k"' in err.message
    err = _raise('{"version": "v1", "version": "v1", "nodes": []}')
    assert 'duplicate key "version"' in err.message
    # the same key in sibling objects is fine
    parse_manifest('{"version": "v1", "metadata": {"a": {"k": 1}, "b": {"k": 1}}, "nodes": []}', lookup)


def test_brackets_inside_strings_do_not_count_towards_depth():
    node_id = "[" * 100 + "\\\"{" * 100
    text = '{"version": "v1", "nodes": [{"id": "%s", "node_type": "PassThrough"}]}' % node_id
    assert parse_manifest(text, lookup).nodes[0].id == "[" * 100 + '"{' * 100


# ------------------------------------------------------------------------------------ dict input


def _nested_dict(levels: int) -> dict:
    inner: dict = {}
    doc = {"version": "v1", "metadata": inner, "nodes": []}
    for _ in range(levels):
        inner["x"] = {}
        inner = inner["x"]
    return doc


def test_deep_dict_fails_cleanly():
    parse_manifest(_nested_dict(62), lookup)  # 64 levels
    for levels in (63, 10_000):
        err = _raise(_nested_dict(levels))
        assert type(err) is ManifestError and err.path == "$" and "64" in err.message


def test_self_referencing_dict_fails_cleanly():
    doc = {"version": "v1", "metadata": {}, "nodes": []}
    doc["metadata"]["me"] = doc
    err = _raise(doc)
    assert type(err) is ManifestError and err.path == "$"


@pytest.mark.parametrize(
    "value,where",
    [
        ((1, 2), "$.nodes[0].params.operand"),
        (float("nan"), "$.nodes[0].params.operand"),
        (float("inf"), "$.nodes[0].params.operand"),
        ({1: "a"}, "$.nodes[0].params.operand"),
        (b"5", "$.nodes[0].params.operand"),
    ],
)
def test_dict_must_hold_json_data(value, where):
    doc = {
        "version": "v1",
        "nodes": [{"id": "c", "node_type": "Calculator", "params": {"operation": "add", "operand": value}}],
    }
    err = _raise(doc)
    assert type(err) is ManifestError and err.path == "$"
    assert where in err.message


def test_dict_subclass_values_are_not_json_data():
    class Five(int):
        pass

    doc = {"version": "v1", "nodes": [{"id": "c", "node_type": "Calculator",
                                        "params": {"operation": "add", "operand": Five(5)}}]}
    err = _raise(doc)
    assert type(err) is ManifestError and "$.nodes[0].params.operand" in err.message


def test_dict_input_is_copied():
    doc = {"version": "v1", "nodes": [{"id": "c", "node_type": "Calculator",
                                        "params": {"operation": "add", "operand": 5}}]}
    m = parse_manifest(doc, lookup)
    doc["nodes"][0]["params"]["operand"] = "changed"
    doc["nodes"].append({"id": "x"})
    assert m.nodes[0].params == {"operation": "add", "operand": 5} and len(m.nodes) == 1
    out = manifest_to_dict(m)
    out["nodes"][0]["params"]["operand"] = 99
    assert m.nodes[0].params["operand"] == 5


def test_dict_param_checks_match_text():
    def calc(operand):
        return {"version": "v1", "nodes": [{"id": "c", "node_type": "CalculatorNode",
                                             "params": {"operation": "add", "operand": operand}}]}

    for bad in (True, 2**63, -(2**63) - 1, "5", None):
        err = _raise(calc(bad))
        assert type(err) is InvalidParameterError and err.path == "$.nodes[0].params.operand", bad
    for good in (5.0, 2**63 - 1, -(2**63), 0, -1.5):
        assert parse_manifest(calc(good), lookup).nodes[0].params["operand"] == good


def test_other_inputs_are_a_type_error():
    with pytest.raises(TypeError):
        parse_manifest(42, lookup)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_manifest(None, lookup)  # type: ignore[arg-type]
    err = _raise([{"version": "v1", "nodes": []}])  # a parsed non-object is rule 4
    assert err.path == "$" and "must be a JSON object" in err.message


# ------------------------------------------------------------------------------------ order & lookup


def test_lookup_runs_only_after_structural_checks():
    calls = []

    def recording(node_type):
        calls.append(node_type)
        return lookup(node_type)

    text = dict((n, t) for n, t, _ in INVALID)["074_structural_beats_duplicate_id.json"]
    err = _raise(text, recording)
    assert err.path == "$.connections[0].to" and calls == []
    parse_manifest(dict((n, t) for n, t, _ in VALID)["aliases.json"], recording)
    assert calls == ["PassThrough", "Calculator", "PassThroughNode"]


def test_lookup_is_not_needed_for_an_empty_pipeline():
    def boom(node_type):  # pragma: no cover - must not be called
        raise AssertionError(node_type)

    assert parse_manifest('{"version": "v1", "nodes": []}', boom).nodes == []


def test_params_checked_by_the_spec_lookup_returns():
    from remotemedia.core.params import NodeTypeSpec, ParamSpec

    spec = NodeTypeSpec("Gain", params=(ParamSpec("db", "int", required=False),
                                        ParamSpec("mode", "any", required=True)))
    doc = '{"version": "v1", "nodes": [{"id": "g", "node_type": "Gain", "params": {"db": 2.5, "mode": 1}}]}'
    err = _raise(doc, {"Gain": spec}.get)
    assert type(err) is InvalidParameterError and err.path == "$.nodes[0].params.db"
    err = _raise(doc.replace('"db": 2.5, "mode": 1', '"db": 3'), {"Gain": spec}.get)
    assert err.path == "$.nodes[0].params" and "mode" in err.message


def test_default_lookup_is_the_registry():
    pytest.importorskip("remotemedia.core.registry")
    for name, text, expected in INVALID:
        with pytest.raises(ManifestError) as info:
            parse_manifest(text)
        assert type(info.value) is corpus.error_class(expected["error"]), name
        assert info.value.path == expected["path"], (name, str(info.value))
    for name, text, expected in VALID:
        assert topological_order(parse_manifest(text)) == expected["order"], name


# ------------------------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    "key,path",
    [
        ("a", "$.a"),
        ("_x1", "$._x1"),
        ("operand", "$.operand"),
        ("1x", '$["1x"]'),
        ("a b", '$["a b"]'),
        ("", '$[""]'),
        ('q"', '$["q\\""]'),
        ("back\\slash", '$["back\\\\slash"]'),
        ("new\nline", '$["new\\nline"]'),
        ("\x01", '$["\\u0001"]'),
        ("é", '$["é"]'),
        ("a.b", '$["a.b"]'),
    ],
)
def test_key_path(key, path):
    assert key_path("$", key) == path


# ------------------------------------------------------------------------------------ graph helpers


def _graph(n: int, edge_list, listed=None) -> Manifest:
    ids = listed or [f"n{i}" for i in range(n)]
    return Manifest(
        nodes=[NodeSpec(id=i, node_type="PassThroughNode", index=k) for k, i in enumerate(ids)],
        connections=[Connection(a, b, j) for j, (a, b) in enumerate(edge_list)],
    )


def test_find_cycle_reports_exactly_the_cycle():
    m = _graph(0, [("alpha", "beta"), ("beta", "gamma"), ("gamma", "alpha"), ("gamma", "delta")],
               ["alpha", "beta", "gamma", "delta"])
    assert find_cycle(m) == ["alpha", "beta", "gamma"]
    assert format_cycle(["alpha", "beta", "gamma"]) == "'alpha' -> 'beta' -> 'gamma' -> 'alpha'"
    m = _graph(0, [("src", "left"), ("left", "right"), ("right", "left")], ["src", "left", "right"])
    assert find_cycle(m) == ["left", "right"]
    assert find_cycle(_graph(0, [("a", "a")], ["a"])) == ["a"]
    assert find_cycle(_graph(3, [("n0", "n1"), ("n1", "n2"), ("n0", "n2")])) is None
    with pytest.raises(GraphError) as info:
        topological_order(_graph(0, [("a", "b"), ("b", "a")], ["a", "b"]))
    assert info.value.path == "$.connections" and "'a' -> 'b' -> 'a'" in info.value.message


def _reference_order(n: int, edge_list) -> list[str]:
    """The smallest-index-first topological order, the slow obvious way."""
    placed: list[int] = []
    preds = {b: set() for b in range(n)}
    for a, b in edge_list:
        preds[b].add(a)
    while len(placed) < n:
        nxt = min(i for i in range(n) if i not in placed and preds[i] <= set(placed))
        placed.append(nxt)
    return [f"n{i}" for i in placed]


@st.composite
def dags(draw):
    n = draw(st.integers(1, 12))
    rank = draw(st.permutations(range(n)))  # edges go from lower to higher rank: acyclic
    pairs = [(a, b) for a in range(n) for b in range(n) if rank[a] < rank[b]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
    return n, chosen


@settings(max_examples=200, deadline=None)
@given(dags(), st.data())
def test_random_dags(dag, data):
    n, edge_list = dag
    doc = {
        "version": "v1",
        "nodes": [{"id": f"n{i}", "node_type": "PassThrough"} for i in range(n)],
        "connections": [{"from": f"n{a}", "to": f"n{b}"} for a, b in edge_list],
    }
    m = parse_manifest(json.dumps(doc), lookup)
    assert topological_order(m) == _reference_order(n, edge_list)
    if not edge_list:
        return
    # Reversing any edge of a path a -> ... -> b closes a cycle; the cycle reported must be a
    # real cycle of the graph.
    a, b = data.draw(st.sampled_from(edge_list))
    doc["connections"].append({"from": f"n{b}", "to": f"n{a}"})
    with pytest.raises(GraphError) as info:
        parse_manifest(json.dumps(doc), lookup)
    assert info.value.path == "$.connections"
    conns = [Connection(c["from"], c["to"], j) for j, c in enumerate(doc["connections"])]
    cycle = find_cycle(Manifest(nodes=m.nodes, connections=conns))
    assert cycle and len(set(cycle)) == len(cycle)
    edge_set = {(c["from"], c["to"]) for c in doc["connections"]}
    assert all((x, y) in edge_set for x, y in zip(cycle, cycle[1:] + cycle[:1]))
    assert format_cycle(cycle) in info.value.message
