"""The audio-file benchmark (python -m remotemedia.benchmarks.audio_files) runs every format on
both runtimes and reports a figure for each."""

from remotemedia.benchmarks import audio_files


def test_a_short_run_reports_every_format_and_runtime(capsys):
    results = audio_files.main(["--seconds", "0.2", "--repeats", "1"])
    assert set(results) == {"wav", "flac", "ogg"}
    for fmt, figures in results.items():
        assert set(figures) == {f"{op} {fmt}, {rt}" for op in ("read", "write") for rt in ("native", "python")}
        assert all(v > 0 for v in figures.values())
    assert "ns per sample" in capsys.readouterr().out
