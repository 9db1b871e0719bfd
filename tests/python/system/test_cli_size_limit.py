"""Both commands (remotemedia-runtime and remotemedia) stop reading a manifest or an input at the
16 MiB limit: /dev/zero, endless, is refused with the same words and exit code on both, instead of
being read into memory before the size check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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


def run(program, *args, stdin=None):
    with open(stdin or "/dev/null", "rb") as source:
        return subprocess.run([*program, *map(str, args)], stdin=source, capture_output=True, text=True, timeout=60)


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
