"""The `remotemedia` Python command: same outputs and exit codes as the C++ program."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MEDIUM = REPO / "examples" / "manifests" / "seed_medium.json"


def run(*args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "remotemedia.cli", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("runtime", ["python", "auto"])
def test_run_prints_outputs(runtime):
    done = run("run", MEDIUM, "--runtime", runtime, stdin="[1, 2.5]")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [12, 15.0]


def test_node_failure_exits_2_naming_node_and_item():
    done = run("run", MEDIUM, "--runtime", "python", stdin='[1, "x"]')
    assert done.returncode == 2
    assert "NodeTypeError" in done.stderr and "'add5'" in done.stderr and "item 1" in done.stderr


def test_bad_manifest_exits_1(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"version": "v2", "nodes": []}')
    done = run("run", bad, stdin="[]")
    assert done.returncode == 1 and "$.version" in done.stderr


def test_nodes_lists_builtins():
    done = run("nodes")
    assert done.returncode == 0
    assert "CalculatorNode (alias Calculator)" in done.stdout and "PassThroughNode" in done.stdout
