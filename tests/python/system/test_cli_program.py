"""The standalone C++ program: run, validate and nodes, and its exit codes on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [REPO / "build" / "tests" / "remotemedia-runtime", REPO / "build" / "dev" / "remotemedia-runtime"]
PROGRAM = next((p for p in CANDIDATES if p.exists()), None) or shutil.which("remotemedia-runtime")
pytestmark = pytest.mark.skipif(PROGRAM is None, reason="remotemedia-runtime is not built")
MEDIUM = REPO / "examples" / "manifests" / "seed_medium.json"


def run(*args, stdin: str = ""):
    return subprocess.run([str(PROGRAM), *map(str, args)], input=stdin, capture_output=True, text=True, timeout=60)


def test_run_reads_items_from_stdin_and_prints_outputs():
    done = run("run", MEDIUM, stdin="[1, 2.5, -7]")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [(1 + 5) * 2, (2.5 + 5) * 2, (-7 + 5) * 2]


def test_run_reads_items_from_a_file(tmp_path):
    items = tmp_path / "items.json"
    items.write_text(json.dumps(list(range(100))))
    done = run("run", REPO / "examples" / "manifests" / "seed_complex.json", "--input", items)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [((((x + 10) * 3 - 7) % 100) / 4) ** 2 for x in range(100)]


def test_big_integers_pass_through_unchanged(tmp_path):
    done = run("run", REPO / "examples" / "manifests" / "seed_simple.json", stdin="[123456789012345678901234567890]")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [123456789012345678901234567890]


def test_node_error_names_node_and_item_and_exits_2():
    done = run("run", MEDIUM, stdin='[1, "two", 3]')
    assert done.returncode == 2
    assert "NodeTypeError" in done.stderr and "add5" in done.stderr and "item 1" in done.stderr
    assert done.stdout == ""


def test_bad_manifest_exits_1_with_its_path(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "v1", "nodes": [{"id": "a", "node_type": "Calculator", "params": {"operation": "sqrt", "operand": 1}}]}))
    done = run("validate", bad)
    assert done.returncode == 1
    assert "$.nodes[0].params.operation" in done.stderr and "InvalidParameterError" in done.stderr


def test_validate_accepts_a_good_manifest():
    done = run("validate", MEDIUM)
    assert done.returncode == 0 and "5 nodes" in done.stdout


def test_input_that_is_not_an_array_exits_3():
    assert run("run", MEDIUM, stdin='{"not": "a list"}').returncode == 3
    assert run("run", MEDIUM, stdin="[1, 2").returncode == 3


def test_nodes_lists_every_builtin_with_its_parameters():
    done = run("nodes", "--json")
    assert done.returncode == 0
    types = json.loads(done.stdout)
    assert set(types) >= {"PassThroughNode", "CalculatorNode"}
    assert types["CalculatorNode"]["aliases"] == ["Calculator"]
    operation = next(p for p in types["CalculatorNode"]["params"] if p["name"] == "operation")
    assert operation["required"] and "modulo" in operation["choices"]


def test_python_only_node_types_are_rejected_with_a_pointer_to_python(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"version": "v1", "nodes": [
        {"id": "p", "node_type": "PassThroughNode"}, {"id": "mine", "node_type": "MyPythonNode"}]}))
    done = run("run", manifest, stdin="[1]")
    assert done.returncode == 1
    assert "UnknownNodeTypeError" in done.stderr and "$.nodes[1].node_type" in done.stderr
    assert "native node types only" in done.stderr and "remotemedia run" in done.stderr
