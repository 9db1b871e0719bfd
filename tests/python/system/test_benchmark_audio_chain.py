"""The audio front-end benchmark (python -m remotemedia.benchmarks.audio_chain) measures what it
says: its plain numpy + soxr chain finds the segments the native chain finds, and a short run
reports its figures."""

from remotemedia.benchmarks import audio_chain


def test_the_plain_python_chain_finds_the_native_segments():
    chunks = audio_chain.chunks_of(audio_chain.make_signal(0.25))
    native = audio_chain.pipeline().run_sync(chunks, runtime="native")
    plain = audio_chain.plain_python(chunks)
    assert len(native) >= 3
    assert audio_chain.same_segments(native, plain, tolerance=0.02)
    assert not audio_chain.same_segments(native, plain[1:], tolerance=0.02)


def test_a_short_run_reports_speed_and_ratio(capsys):
    result = audio_chain.main(["--minutes", "0.1", "--repeats", "1", "--python-executor"])
    out = capsys.readouterr().out
    assert "native per hour of audio" in out and "numpy + soxr" in out
    assert result["segments"] > 0
    assert result["native_seconds_per_hour"] > 0 and result["ratio_vs_numpy_soxr"] > 0
    assert set(result["results"]) == {"native runtime, run over the chunks", "native runtime, streaming session",
                                      "plain Python: numpy + soxr", "Python executor"}
