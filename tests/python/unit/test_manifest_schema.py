"""docs/manifest.schema.json: every shipped manifest conforms; the structural corpus cases are
rejected (at or above the location the parser names); semantic cases are structurally fine."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

import manifest_corpus as corpus

SCHEMA = corpus.schema()
VALIDATOR = Draft202012Validator(SCHEMA)
INVALID = corpus.invalid_cases()
STRUCTURAL = [c for c in INVALID if c[2]["structural"]]
SEMANTIC = [c for c in INVALID if c[2]["rule"] >= 18]
SHIPPED = [(n, t) for n, t in corpus.example_manifests()] + [(n, t) for n, t, _ in corpus.valid_cases()]
SMALL_GENERATED_VALID = ["gen_chain_10000.json", "gen_reverse_dag_10000.json", "gen_depth_64.json",
                         "gen_brackets_in_strings.json"]


def _path_parts(path: str) -> list:
    """``$.nodes[1]["a b"].x`` -> ``['nodes', 1, 'a b', 'x']``."""
    parts: list = []
    for m in re.finditer(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', path[1:]):
        ident, index, quoted = m.groups()
        parts.append(ident if ident is not None else int(index) if index is not None else json.loads(quoted))
    return parts


def test_schema_is_a_valid_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_examples_exist():
    names = [n for n, _ in corpus.example_manifests()]
    for seed in ("seed_simple", "seed_medium", "seed_complex", "seed_calc_heavy"):
        assert f"examples/manifests/{seed}.json" in names


@pytest.mark.parametrize("name,text", SHIPPED, ids=[n for n, _ in SHIPPED])
def test_shipped_manifest_conforms(name, text):
    errors = list(VALIDATOR.iter_errors(json.loads(text)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("name", SMALL_GENERATED_VALID)
def test_generated_valid_manifest_conforms(name):
    _, text, _ = corpus.generated_valid_case(name)
    VALIDATOR.validate(json.loads(text))


@pytest.mark.parametrize("name,text,expected", STRUCTURAL, ids=[c[0] for c in STRUCTURAL])
def test_structural_case_is_rejected_by_schema(name, text, expected):
    errors = list(VALIDATOR.iter_errors(json.loads(text)))
    assert errors, f"{name}: the schema accepts a manifest the parser rejects at {expected['path']}"
    # Some schema error sits at the parser's location or at an object containing it (a missing or
    # unknown key is reported by the schema at the object that has / lacks it).
    want = _path_parts(expected["path"])
    located = [list(e.absolute_path) for e in errors]
    assert any(want[: len(p)] == p for p in located), (want, located)


@pytest.mark.parametrize("name,text,expected", SEMANTIC, ids=[c[0] for c in SEMANTIC])
def test_semantic_case_is_structurally_valid(name, text, expected):
    # Only rules 18-23 are wrong here, which a schema cannot see: it must not reject these.
    errors = list(VALIDATOR.iter_errors(json.loads(text)))
    assert not errors, [e.message for e in errors]


def test_path_parts():
    assert _path_parts("$") == []
    assert _path_parts('$.nodes[12]["a b"].x') == ["nodes", 12, "a b", "x"]
    assert _path_parts('$["q\\""]') == ['q"']


# ---------------------------------------------------------------- $defs of the built-in parameters

PARAM_DEFS = SCHEMA["$defs"]["builtinNodeParams"]["$defs"]
ALIASES = {"PassThrough": "PassThroughNode", "Calculator": "CalculatorNode"}


def _params_validator(node_type: str) -> Draft202012Validator:
    # Resolve "#/$defs/..." references against the whole schema.
    sub = dict(PARAM_DEFS[ALIASES.get(node_type, node_type)])
    sub["$defs"] = SCHEMA["$defs"]
    return Draft202012Validator(sub)


def test_builtin_param_defs_match_the_registry_specs():
    for spec in corpus.builtin_specs():
        d = PARAM_DEFS[spec.name]
        assert set(d["properties"]) == {p.name for p in spec.params}
        assert set(d.get("required", [])) == {p.name for p in spec.params if p.required}
        assert d["additionalProperties"] is False
        for p in spec.params:
            if p.choices:
                assert d["properties"][p.name]["enum"] == list(p.choices)


def test_params_of_valid_manifests_match_param_defs():
    checked = 0
    for name, text in SHIPPED:
        for node in json.loads(text)["nodes"]:
            errors = list(_params_validator(node["node_type"]).iter_errors(node.get("params", {})))
            assert not errors, (name, node["id"], [e.message for e in errors])
            checked += 1
    assert checked > 30


@pytest.mark.parametrize(
    "node_type,params",
    [
        ("CalculatorNode", {"operation": "sqrt", "operand": 1}),
        ("CalculatorNode", {"operation": "add", "operand": True}),
        ("CalculatorNode", {"operation": "add", "operand": "5"}),
        ("CalculatorNode", {"operation": "add"}),
        ("CalculatorNode", {"operand": 1}),
        ("CalculatorNode", {"operation": "add", "operand": 1, "extra": 0}),
        ("Calculator", {"operation": "Add", "operand": 1}),
        ("PassThroughNode", {"x": 1}),
    ],
)
def test_param_defs_reject_bad_params(node_type, params):
    assert list(_params_validator(node_type).iter_errors(params))
