"""The event-loop benchmark runs in a tiny configuration (so it cannot rot); no timing asserted."""

from __future__ import annotations

import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia.benchmarks import event_loop  # noqa: E402


def test_event_loop_benchmark_runs_and_reports_its_figures(capsys):
    result = event_loop.main(["--items", "20000", "--stream-items", "200", "--repeats", "1"])
    names = set(result["medians"])
    assert "await run, 3 ints (us, inline)" in names
    assert "10 gathered runs with a 50 ms async node, native (s)" in names
    assert all(v >= 0 for v in result["medians"].values())
    assert "median of 1 repeats" in capsys.readouterr().out
