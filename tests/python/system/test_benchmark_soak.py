"""The session soak run in a tiny configuration (so it cannot rot): every item accounted for."""

from __future__ import annotations

from remotemedia.benchmarks import soak


def test_soak_runs_briefly_and_loses_nothing(capsys):
    report = soak.main(["--seconds", "1", "--tasks", "6", "--threads", "2", "--max-items", "300", "--seed", "3"])
    assert report["ok"], report
    assert report["sessions"] >= 8 and report["items_sent"] > 0
    assert report["lost"] == 0 and report["mismatched"] == 0 and report["unexpected_errors"] == []
    assert report["items_received"] == report["items_expected"]
    lat = report["latency_us"]
    assert lat["count"] > 0 and 0 < lat["p50"] <= lat["p99"] <= lat["p999"]
    assert "no item lost" in capsys.readouterr().out


def test_session_latency_benchmark_runs_briefly(capsys):
    from remotemedia.benchmarks import session_latency

    report = session_latency.main(["--items", "200", "--warmup", "20", "--repeats", "1"])
    cases = report["latency_us"]
    assert "Python executor, asyncio" in cases and "Python executor, SyncSession" in cases
    for r in cases.values():
        assert 0 < r["p50_us"] <= r["p99_us"]
    out = capsys.readouterr().out
    assert "send -> output received" in out
    if "native, asyncio" in cases:
        assert report["native_session_p50_us"] > 0 and "target: <= 30 us" in out
