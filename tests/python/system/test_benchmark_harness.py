"""The benchmark harness (remotemedia.benchmarks) runs end to end in a tiny configuration, so it
cannot rot. Nothing here asserts a timing: only the report's shape, the output check, and that the
scenarios are the seed's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Pipeline  # noqa: E402
from remotemedia.benchmarks import compare_runtimes, memory  # noqa: E402
from remotemedia.benchmarks.scenarios import SCENARIOS, numpy_expression  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SEED_TITLES = [
    "Simple (3n, 10i)", "Simple (3n, 100i)", "Medium (5n, 100i)", "Complex (10n, 100i)",
    "Calc-Heavy (7n, 100i)", "Large (3n, 1000i)",
]
TIMED_COLUMNS = {"python", "native", "native_numpy", "plain_loop", "plain_loop_numpy"}
STAT_KEYS = {"median_us", "p95_us", "p99_us", "min_us", "items_per_s", "ns_per_node_item"}


def run_module(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_tiny_run_writes_the_seed_shaped_json_and_markdown(tmp_path):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    done = run_module("remotemedia.benchmarks.compare_runtimes", "--iterations", "2", "--warmup", "1",
                      "--items-scale", "small", "--memory-items", "20000",
                      "--json", str(out_json), "--markdown", str(out_md))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[6/6] Large (3n, 1000i)" in done.stdout  # progress
    report = json.loads(out_json.read_text())

    assert report["benchmark_config"]["iterations"] == 2
    assert report["benchmark_config"]["warmup"] == 1
    assert [c["name"] for c in report["comparisons"]] == SEED_TITLES
    for comparison in report["comparisons"]:
        columns = set(comparison["runtimes"])
        assert TIMED_COLUMNS <= columns
        # A numpy expression exactly where the chain computes something.
        assert ("numpy_expr" in columns) == any("Calculator" in n for n in _node_types(comparison))
        for key, cell in comparison["runtimes"].items():
            assert STAT_KEYS <= set(cell) and cell["iterations"] == 2
            assert cell["min_us"] <= cell["median_us"] <= cell["p95_us"] <= cell["p99_us"]
            assert set(comparison["speedups"][key]) >= {"vs_python_executor", "vs_plain_loop"}
        assert comparison["speedups"]["python"]["vs_python_executor"] == 1.0
    assert report["comparisons"][-1]["items"] == 100  # small scale: a tenth of the seed's 1000

    mem = report["memory"]
    assert mem["items"] == 20000
    assert {(r["runtime"], r["input"]) for r in mem["results"]} == set(memory.CONFIGURATIONS)
    assert all(r["outputs_ok"] for r in mem["results"])
    names = [t["name"] for t in report["targets"]]
    assert any(n.startswith("Large: native (list) vs Python executor") for n in names)
    assert any(n.startswith("Memory: native (numpy)") for n in names)

    markdown = out_md.read_text()
    assert "| Large (3n, 1000i) | native, numpy |" in markdown and "seed speedup" in markdown


def _node_types(comparison: dict) -> list[str]:
    manifest = json.loads((REPO / comparison["manifest"]).read_text())
    return [n["node_type"] for n in manifest["nodes"]]


def test_cli_bench_runs_the_same_harness(tmp_path):
    out_json = tmp_path / "bench.json"
    done = run_module("remotemedia.cli", "bench", "--iterations", "1", "--warmup", "0",
                      "--scenarios", "medium,large", "--items-scale", "small", "--no-memory",
                      "--json", str(out_json))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out_json.read_text())
    assert [c["key"] for c in report["comparisons"]] == ["medium", "large"]
    assert report["memory"] is None


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.key for s in SCENARIOS])
def test_scenarios_are_the_example_manifests(scenario):
    manifest = json.loads((REPO / "examples" / "manifests" / scenario.manifest).read_text())
    ours = Pipeline(nodes=scenario.make_nodes()).to_manifest()
    assert [(n["id"], n["node_type"], n["params"]) for n in ours["nodes"]] == [
        (n["id"], n["node_type"], n.get("params", {})) for n in manifest["nodes"]
    ]
    assert scenario.title in SEED_TITLES


def test_numpy_expression_matches_the_pipeline():
    complex_ = next(s for s in SCENARIOS if s.key == "complex")
    nodes = complex_.make_nodes()
    a = np.arange(1, 101)
    expected = ((((a + 10) * 3 - 7) % 100) / 4) ** 2
    assert np.array_equal(numpy_expression(nodes)(a), expected)
    assert numpy_expression(next(s for s in SCENARIOS if s.key == "simple_10").make_nodes()) is None


def test_a_column_that_disagrees_stops_the_run(monkeypatch, capsys):
    real_columns = compare_runtimes._columns

    def with_a_wrong_native_column(nodes, pipeline, items, array):
        columns = real_columns(nodes, pipeline, items, array)
        for c in columns:
            if c.key == "native":
                right = c.run

                async def wrong():
                    out = await right()
                    return out[:-1] + [out[-1] + 1]

                c.run = wrong
        return columns

    monkeypatch.setattr(compare_runtimes, "_columns", with_a_wrong_native_column)
    status = compare_runtimes.main(["--iterations", "1", "--warmup", "0", "--scenarios", "medium",
                                    "--items-scale", "small", "--no-memory"])
    assert status == 1
    err = capsys.readouterr().err
    assert "STOPPED" in err and "'native'" in err and "output 9" in err


def test_a_wrong_dtype_is_a_mismatch():
    assert compare_runtimes._same_array(np.arange(3), np.arange(3, dtype=np.float64)) is not None
    assert compare_runtimes._same_list([1, 2.0], [1, 2]) is not None  # 2.0 == 2, but a float
    assert compare_runtimes._same_list([1, 2], [1, 2]) is None


def test_percentiles_are_nearest_rank():
    samples = [float(i) for i in range(1, 101)]
    assert compare_runtimes._percentile(samples, 95) == 95.0
    assert compare_runtimes._percentile(samples, 99) == 99.0
    assert compare_runtimes._percentile([7.0], 99) == 7.0
