"""The Python-node benchmark runs in a tiny configuration (so it cannot rot); no timing asserted."""

from __future__ import annotations

import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia.benchmarks import python_nodes  # noqa: E402


def test_python_node_benchmark_runs_and_reports_its_figures(capsys):
    result = python_nodes.main(["--items", "200", "--repeats", "2"])
    assert set(result["medians_us"]) == {
        "plain loop calling process",
        "Python node alone, native runtime",
        "Python node alone, Python executor",
        "[native, Python, native], native runtime",
        "[native, Python, native], Python executor",
    }
    assert all(v > 0 for v in result["medians_us"].values())
    assert "extra cost per item" in capsys.readouterr().out
