"""`remotemedia run MANIFEST --audio FILE`: an audio file streamed through a session, outputs as JSON
lines, a progress bar on stderr, the exit codes of `run`."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from remotemedia import Audio
from remotemedia.audio import read, write
from remotemedia.cli import _jsonable

RATE = 16000


def run(*args, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "remotemedia.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def manifest(tmp_path, *nodes: dict):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"version": "v1", "nodes": list(nodes)}))
    return path


@pytest.fixture
def wav(tmp_path):
    """One second of random stereo int16 at 16 kHz plus 100 frames (so the last chunk is short)."""
    path = tmp_path / "in.wav"
    samples = np.random.default_rng(0).integers(-32768, 32768, (RATE + 100, 2)).astype(np.int16)
    write(str(path), Audio(samples, RATE))
    return path


PASS = {"id": "p", "node_type": "PassThrough"}


@pytest.mark.parametrize("runtime", ["python", "native", "auto"])
def test_outputs_are_json_lines_with_audio_summaries(tmp_path, wav, runtime):
    if runtime != "python":
        pytest.importorskip("remotemedia._runtime")
    done = run("run", manifest(tmp_path, PASS), "--audio", wav, "--chunk-ms", 20, "--runtime", runtime)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 51  # 50 chunks of 320 frames, then 100
    for line in lines[:-1]:
        assert line == {"audio": {"sample_rate": RATE, "channels": 2, "frames": 320, "dtype": "float32",
                                  "duration": 0.02}}
    assert lines[-1]["audio"]["frames"] == 100


def test_both_runtimes_print_the_same(tmp_path, wav):
    pytest.importorskip("remotemedia._runtime")
    m = manifest(tmp_path, PASS)
    outs = [run("run", m, "--audio", wav, "--chunk-ms", 7.5, "--runtime", r, "--no-progress").stdout
            for r in ("python", "native")]
    assert outs[0] == outs[1] and len(outs[0].splitlines()) == math.ceil((RATE + 100) / 120)


def test_progress_bar_counts_seconds_of_audio_on_stderr_only(tmp_path, wav):
    m = manifest(tmp_path, PASS)
    done = run("run", m, "--audio", wav)
    assert done.returncode == 0, done.stderr
    assert "in.wav" in done.stderr and "100%" in done.stderr
    assert "1.01/1.01 s" in done.stderr  # total = the file's duration, (16000 + 100) / 16000 s
    assert "%" not in done.stdout
    quiet = run("run", m, "--audio", wav, "--no-progress")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout == done.stdout


@pytest.mark.parametrize("runtime", ["python", "native"])
def test_a_sink_in_the_manifest_copies_the_file_and_prints_its_summary(tmp_path, wav, runtime):
    if runtime == "native":
        pytest.importorskip("remotemedia._runtime")
    out = tmp_path / "out.flac"
    m = manifest(tmp_path, PASS, {"id": "k", "node_type": "AudioFileSink", "params": {"path": str(out)}})
    done = run("run", m, "--audio", wav, "--runtime", runtime, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"path": str(out), "frames": RATE + 100, "sample_rate": RATE, "channels": 2, "duration": (RATE + 100) / RATE}]
    assert read(str(out), dtype="int16") == read(str(wav), dtype="int16")


@pytest.mark.parametrize("content", [None, b"", b"RIFF....WAVEfmt ", b"not audio at all\n" * 100])
def test_a_bad_audio_file_is_a_clear_error_with_exit_3(tmp_path, content):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    done = run("run", manifest(tmp_path, PASS), "--audio", path)
    assert done.returncode == 3
    assert done.stdout == ""
    reason = "No such file or directory" if content is None else ""
    assert done.stderr.startswith(f"error: cannot read audio file '{path}': {reason}"), done.stderr
    assert "Traceback" not in done.stderr


def test_a_node_failure_exits_2_naming_the_node_and_item(tmp_path, wav):
    # A Buffer of 3 chunks, then a Calculator that cannot add 1 to a list: fails on its first item.
    m = manifest(tmp_path, {"id": "b", "node_type": "Buffer", "params": {"buffer_size": 3}},
                 {"id": "c", "node_type": "Calculator", "params": {"operation": "add", "operand": 1}})
    for runtime in ("python", "native"):
        done = run("run", m, "--audio", wav, "--runtime", runtime, "--no-progress")
        assert done.returncode == 2, done.stderr
        assert "NodeTypeError" in done.stderr and "'c'" in done.stderr and "item 0" in done.stderr
        assert "Traceback" not in done.stderr


def test_bad_manifest_and_bad_arguments(tmp_path, wav):
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "v1", "nodes": [{"id": "x", "node_type": "NoSuchNode"}]}')
    done = run("run", bad, "--audio", wav)
    assert done.returncode == 1 and "UnknownNodeTypeError" in done.stderr
    m = manifest(tmp_path, PASS)
    for args, message in [(["--chunk-ms", "0"], "--chunk-ms must be a number greater than 0"),
                          (["--chunk-ms", "nan"], "--chunk-ms must be a number greater than 0"),
                          (["--input", "items.json"], "give --input or --audio, not both")]:
        done = run("run", m, "--audio", wav, *args)
        assert done.returncode == 3 and message in done.stderr, done.stderr
    done = run("run", m, "--no-progress")
    assert done.returncode == 3 and "go with --audio" in done.stderr


def test_outputs_become_json_without_nan():
    a = Audio(np.zeros((480, 2), np.int16), 48000)
    assert _jsonable(a) == {"audio": {"sample_rate": 48000, "channels": 2, "frames": 480, "dtype": "int16",
                                      "duration": 0.01}}
    assert _jsonable([float("nan"), float("inf"), -float("inf"), 1.5]) == [None, None, None, 1.5]
    assert _jsonable({"x": np.float32(np.nan), "y": np.array([1, 2], np.int16), 3: (True, None)}) == {
        "x": None, "y": [1, 2], "3": [True, None]}
    assert _jsonable(np.array([np.nan, 0.5])) == [None, 0.5]
    json.dumps(_jsonable([a, float("nan")]), allow_nan=False)  # valid JSON


# ------------------------------------------------------------------------------ the C++ program


def _program():
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    for candidate in (repo / "build" / "tests" / "remotemedia-runtime", repo / "build" / "dev" / "remotemedia-runtime",
                      shutil.which("remotemedia-runtime")):
        if candidate and Path(candidate).exists():
            help_text = subprocess.run([str(candidate), "run", "--help"], capture_output=True, text=True).stdout
            if "--audio" in help_text:
                return str(candidate)
    return None


PROGRAM = _program()
needs_program = pytest.mark.skipif(PROGRAM is None, reason="no remotemedia-runtime with run --audio is built")


def run_program(*args):
    return subprocess.run([PROGRAM, *map(str, args)], capture_output=True, text=True, timeout=120)


@needs_program
def test_the_cpp_program_prints_what_the_python_command_prints(tmp_path, wav):
    out = tmp_path / "out.wav"
    for m in (manifest(tmp_path, PASS),
              manifest(tmp_path, PASS, {"id": "k", "node_type": "AudioFileSink", "params": {"path": str(out)}})):
        native = run_program("run", m, "--audio", wav, "--chunk-ms", 7.5, "--no-progress")
        python = run("run", m, "--audio", wav, "--chunk-ms", 7.5, "--no-progress")
        assert native.returncode == python.returncode == 0, native.stderr + python.stderr
        assert native.stdout == python.stdout and native.stderr == ""
    assert read(str(out), dtype="int16") == read(str(wav), dtype="int16")


@needs_program
def test_the_cpp_program_shows_a_progress_line_and_fails_like_the_python_command(tmp_path, wav):
    done = run_program("run", manifest(tmp_path, PASS), "--audio", wav)
    assert done.returncode == 0 and "in.wav: 1.01/1.01 s" in done.stderr
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio\n" * 50)
    done = run_program("run", manifest(tmp_path, PASS), "--audio", bad)
    assert done.returncode == 3 and f"error: cannot read audio file '{bad}': Format not recognised." in done.stderr
    m = manifest(tmp_path, {"id": "b", "node_type": "Buffer", "params": {"buffer_size": 3}},
                 {"id": "c", "node_type": "Calculator", "params": {"operation": "add", "operand": 1}})
    done = run_program("run", m, "--audio", wav, "--no-progress")
    assert done.returncode == 2 and "'c'" in done.stderr and "item 0" in done.stderr


def test_audio_levels_of_a_file_on_every_runtime_and_both_commands(tmp_path, wav):
    from remotemedia.core import registry

    if registry.lookup("AudioLevel") is None:
        pytest.skip("AudioLevel is not registered")
    m = manifest(tmp_path, {"id": "level", "node_type": "AudioLevel"})
    outs = {r: run("run", m, "--audio", wav, "--runtime", r, "--no-progress") for r in ("python", "native")}
    if PROGRAM is not None:
        outs["program"] = run_program("run", m, "--audio", wav, "--no-progress")
    for name, done in outs.items():
        assert done.returncode == 0, (name, done.stderr)
    assert len({done.stdout for done in outs.values()}) == 1  # the same lines from every runtime
    levels = [json.loads(line) for line in outs["python"].stdout.splitlines()]
    samples = read(str(wav), dtype="float32").samples.astype(np.float64)
    assert [lv["start"] for lv in levels] == [i * 320 / RATE for i in range(51)]
    for i, lv in enumerate(levels):
        chunk = samples[i * 320:(i + 1) * 320]
        assert lv["rms"] == pytest.approx(np.sqrt(np.mean(chunk * chunk)), rel=1e-12)
        assert lv["peak"] == np.max(np.abs(chunk))
