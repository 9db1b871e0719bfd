"""examples/speech: the transcription script and its manifest, run as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest
from word_accuracy import word_accuracy as _word_accuracy

pytest.importorskip("remotemedia._runtime")
pytest.importorskip("onnxruntime")
pytest.importorskip("pocketsphinx")

from remotemedia import nodes  # noqa: E402

for name in ("AudioResampleNode", "AudioFormatNode", "EnergyVADNode"):
    if not hasattr(nodes, name):
        pytest.skip(f"the example needs {name}", allow_module_level=True)

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "examples" / "speech"
TRUTH = json.loads((EXAMPLE / "sample.json").read_text())["speech"]
LINE = re.compile(r"^\[(\d+\.\d\d) - (\d+\.\d\d)\] (.*)$")
STOP_WORDS = {"the", "a", "an", "me", "in", "and", "over", "of", "to"}

# Measured on the sample (content words recognised, of 15): 9 with EnergyVAD, 9 with SileroVAD.
MIN_RECALL = 0.5
TOLERANCE_S = 0.3  # measured: EnergyVAD starts within 15 ms, ends 55-117 ms early; Silero (100 ms pad) 48-121 ms


def recall(texts: list[str]) -> float:
    hits = total = 0
    for true, text in zip(TRUTH, texts):
        said = set(re.findall(r"[a-z']+", text.lower()))
        words = [w for w in re.findall(r"[a-z']+", true["text"].lower()) if w not in STOP_WORDS]
        total += len(words)
        hits += sum(w in said for w in words)
    return hits / total


def check_segments(segments: list[tuple[float, float, str]]) -> None:
    assert len(segments) == len(TRUTH), segments
    for (start, end, _), true in zip(segments, TRUTH):
        assert abs(start - true["start"]) < TOLERANCE_S and abs(end - true["end"]) < TOLERANCE_S, (start, end, true)
    assert recall([text for _, _, text in segments]) >= MIN_RECALL, segments


@pytest.mark.parametrize("vad", ["energy", "silero"])
def test_transcribe_script_prints_the_sentences(vad):
    proc = subprocess.run([sys.executable, str(EXAMPLE / "transcribe.py"), "--vad", vad],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    check_segments([(float(m[1]), float(m[2]), m[3]) for m in parsed])
    # It says where each node runs: the conversions native, the models Python.
    assert "resample (AudioResampleNode): native" in proc.stderr
    assert "stt (SpeechToTextNode): python" in proc.stderr
    assert ("vad (EnergyVADNode): native" if vad == "energy" else "vad (SileroVADNode): python") in proc.stderr


def test_transcribe_script_takes_a_file_argument_and_reports_a_bad_one(tmp_path):
    missing = tmp_path / "nothing.wav"
    proc = subprocess.run([sys.executable, str(EXAMPLE / "transcribe.py"), str(missing)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "nothing.wav" in proc.stderr


def test_the_manifest_is_the_scripts_pipeline():
    sys.path.insert(0, str(EXAMPLE))
    try:
        import transcribe
    finally:
        sys.path.remove(str(EXAMPLE))
    assert json.loads((EXAMPLE / "pipeline.json").read_text()) == transcribe.build_pipeline("energy").to_manifest()


def test_remotemedia_run_streams_the_sample_through_the_manifest():
    help_text = subprocess.run([sys.executable, "-m", "remotemedia.cli", "run", "--help"],
                               capture_output=True, text=True).stdout
    if "--audio" not in help_text:
        pytest.skip("remotemedia run has no --audio option yet")
    proc = subprocess.run([sys.executable, "-m", "remotemedia.cli", "run", str(EXAMPLE / "pipeline.json"),
                           "--audio", str(EXAMPLE / "sample.wav"), "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    outputs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert all(set(o) == {"start", "end", "text"} for o in outputs), outputs
    check_segments([(o["start"], o["end"], o["text"]) for o in outputs])


# --stt moonshine (Moonshine base-en from moonshine-cpp). Measured on the sample through this
# pipeline: 24 of 25 words right with EnergyVAD and with SileroVAD ("jumped" for "jumps"); the bar
# allows two more wrong words. PocketSphinx through the same pipeline: 11 and 13 of 25.
MIN_MOONSHINE_ACCURACY = 0.88


def word_accuracy(texts: list[str]) -> float:
    """1 - word error rate of the transcripts against the sample's sentences."""
    return _word_accuracy([s["text"] for s in TRUTH], texts)


@pytest.mark.skipif(importlib.util.find_spec("moonshine_cpp") is None, reason="needs moonshine-cpp")
@pytest.mark.parametrize("vad", ["energy", "silero"])
def test_transcribe_script_with_moonshine(vad):
    proc = subprocess.run([sys.executable, str(EXAMPLE / "transcribe.py"), "--vad", vad, "--stt", "moonshine"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    parsed = [LINE.match(line) for line in proc.stdout.splitlines()]
    assert all(parsed), proc.stdout
    segments = [(float(m[1]), float(m[2]), m[3]) for m in parsed]
    check_segments(segments)
    assert word_accuracy([text for _, _, text in segments]) >= MIN_MOONSHINE_ACCURACY, segments
    assert "stt (SpeechToTextNode): python" in proc.stderr


def test_the_stt_choice_leaves_the_default_manifest_alone():
    sys.path.insert(0, str(EXAMPLE))
    try:
        import transcribe
    finally:
        sys.path.remove(str(EXAMPLE))
    stt = transcribe.build_pipeline("energy", "moonshine").to_manifest()["nodes"][-1]
    assert stt["params"] == {"words": False, "engine": "moonshine"}
    assert "engine" not in transcribe.build_pipeline("energy").to_manifest()["nodes"][-1]["params"]
    with pytest.raises(ValueError, match="stt must be"):
        transcribe.build_pipeline("energy", "whisper")
