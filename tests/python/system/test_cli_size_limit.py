"""Both commands (remotemedia-runtime and remotemedia) stop reading a manifest or an input at the
16 MiB limit: /dev/zero, endless, is refused with the same words and exit code on both, instead of
being read into memory before the size check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from remotemedia.core.manifest import MAX_MANIFEST_BYTES

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [REPO / "build" / "tests" / "remotemedia-runtime", REPO / "build" / "dev" / "remotemedia-runtime"]
NATIVE = next((p for p in CANDIDATES if p.exists()), None) or shutil.which("remotemedia-runtime")
MEDIUM = REPO / "examples" / "manifests" / "seed_medium.json"
PROGRAMS = {
    "remotemedia-runtime": pytest.param([str(NATIVE)], marks=pytest.mark.skipif(NATIVE is None, reason="not built")),
    "remotemedia": [sys.executable, "-m", "remotemedia.cli"],
}
MANIFEST_TOO_LARGE = f"error: ManifestError: $: manifest text is more than the 16 MiB limit ({MAX_MANIFEST_BYTES} bytes)\n"
INPUT_TOO_LARGE = f"error: input is more than the 16 MiB limit ({MAX_MANIFEST_BYTES} bytes)\n"


TIMEOUT = 20  # seconds: a command that reads an endless stream to its end never returns


def run(program, *args, stdin=None):
    with open(stdin or "/dev/null", "rb") as source:
        try:
            return subprocess.run([*program, *map(str, args)], stdin=source, capture_output=True, text=True,
                                  timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{program[-1]} {' '.join(map(str, args))} still reading after {TIMEOUT} s")


def run_fed(program, *args, chunk):
    """Runs with stdin a pipe that ``chunk`` is written to over and over, never closed, until the
    command stops reading."""
    proc = subprocess.Popen([*program, *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    written = 0

    def feed():
        nonlocal written
        try:
            while True:
                proc.stdin.write(chunk)
                written += len(chunk)
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"{program[-1]} {' '.join(map(str, args))} still reading a pipe after {TIMEOUT} s")
    feeder.join(timeout=TIMEOUT)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    return code, err, out, written


# (arguments, stdin, expected stderr, expected exit code)
CASES = {
    "manifest file": (("run", "/dev/zero"), None, MANIFEST_TOO_LARGE, 1),
    "manifest on stdin": (("run", "-"), "/dev/zero", MANIFEST_TOO_LARGE, 1),
    "manifest of --audio": (("run", "/dev/zero", "--audio", "x.wav"), None, MANIFEST_TOO_LARGE, 1),
    "input file": (("run", MEDIUM, "--input", "/dev/zero"), None, INPUT_TOO_LARGE, 3),
    "input on stdin": (("run", MEDIUM), "/dev/zero", INPUT_TOO_LARGE, 3),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_an_endless_stream_is_refused_at_the_limit(program, case):
    args, stdin, stderr, code = CASES[case]
    done = run(program, *args, stdin=stdin)
    assert (done.returncode, done.stderr, done.stdout) == (code, stderr, "")


# An endless array of items and an endless manifest, as a producer that never stops would send them.
FED = {
    "items": (lambda: ("run", MEDIUM), b"[" + b"1, " * 4096, INPUT_TOO_LARGE, 3),
    "manifest": (lambda: ("run", "-"), b'{"version": "v1", "metadata": {"x": [' + b"0, " * 4096, MANIFEST_TOO_LARGE, 1),
}


@pytest.mark.parametrize("case", FED)
@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_a_pipe_that_never_closes_is_refused_at_the_limit(program, case):
    args, chunk, stderr, code = FED[case]
    done = run_fed(program, *args(), chunk=chunk)
    assert done[:3] == (code, stderr, "")
    # The command stopped reading near the limit: the writer filled at most the pipe's buffer more.
    assert MAX_MANIFEST_BYTES - len(chunk) < done[3] < MAX_MANIFEST_BYTES + (4 << 20)


@pytest.mark.skipif(NATIVE is None, reason="remotemedia-runtime is not built")
def test_validate_refuses_an_endless_manifest_too():
    done = run([str(NATIVE)], "validate", "/dev/zero")
    assert (done.returncode, done.stderr) == (1, MANIFEST_TOO_LARGE)


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_texts_of_exactly_the_limit_are_read_and_one_byte_more_is_refused(program, tmp_path):
    manifest = MEDIUM.read_text().strip()
    at_limit = tmp_path / "at_limit.json"
    at_limit.write_text(manifest + " " * (MAX_MANIFEST_BYTES - len(manifest.encode())))
    over = tmp_path / "over.json"
    over.write_text(manifest + " " * (MAX_MANIFEST_BYTES + 1 - len(manifest.encode())))
    items = tmp_path / "items.json"
    items.write_text("[1" + " " * (MAX_MANIFEST_BYTES - 3) + "]")
    assert items.stat().st_size == at_limit.stat().st_size == MAX_MANIFEST_BYTES

    done = run(program, "run", at_limit, "--input", items)
    assert (done.returncode, json.loads(done.stdout)) == (0, [12]), done.stderr
    done = run(program, "run", over, "--input", items)
    assert (done.returncode, done.stderr) == (1, MANIFEST_TOO_LARGE)
    with open(items, "a") as f:
        f.write(" ")
    done = run(program, "run", at_limit, "--input", items)
    assert (done.returncode, done.stderr) == (3, INPUT_TOO_LARGE)
