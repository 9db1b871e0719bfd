"""The speech front end at streaming granularity (issue 7's speed targets).

One hour of 48 kHz mono float32 audio (speech-like bursts between pauses), streamed as 20 ms chunks
through AudioResample(16 kHz) -> AudioGain -> AudioChunker(20 ms) -> EnergyVAD, on:

- the native runtime, `Pipeline.run_sync` over the chunks (one thread; target: at most 2 s);
- the native runtime through a streaming session (`stream_sync`, one chunk pushed at a time);
- the same chain written as the best plain Python a user would write: numpy and the `soxr`
  package's streaming resampler over the same 20 ms chunks (target: native at least 2x faster);
- optionally (`--python-executor`) the Python executor, the fallback.

Segments are checked before timing: the native ones against the plain-Python ones (equal within one
VAD frame: the two resamplers are different builds of libsoxr, docs/AUDIO.md). Medians of
--repeats runs; wall and CPU seconds.

    python -m remotemedia.benchmarks.audio_chain [--minutes 60] [--repeats 3] [--python-executor]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Callable

import numpy as np

from remotemedia import Audio, Pipeline

IN_RATE, OUT_RATE, CHUNK_MS = 48_000, 16_000, 20.0
GAIN_DB = 6.0
VAD = {"threshold_db": -40.0, "frame_ms": 20.0, "hangover_ms": 300.0, "min_speech_ms": 100.0,
       "max_segment_ms": 30_000.0}


def make_signal(minutes: float, seed: int = 7) -> np.ndarray:
    """Speech-like: bursts of 0.4-3 s of modulated noise at -26 to -12 dBFS between pauses of
    0.2-1.5 s of -70 dBFS noise. Made in one-minute blocks to keep peak memory low."""
    rng = np.random.default_rng(seed)
    total = int(minutes * 60 * IN_RATE)
    out = np.empty(total, np.float32)
    pos, speaking = 0, False
    while pos < total:
        seconds = rng.uniform(0.4, 3.0) if speaking else rng.uniform(0.2, 1.5)
        n = min(int(seconds * IN_RATE), total - pos)
        if speaking:
            level = 10 ** (rng.uniform(-26, -12) / 20)
            envelope = 0.6 + 0.4 * np.sin(np.arange(n, dtype=np.float32) * np.float32(2 * math.pi * 4 / IN_RATE))
            block = rng.standard_normal(n, dtype=np.float32) * np.float32(level) * envelope
        else:
            block = rng.standard_normal(n, dtype=np.float32) * np.float32(10 ** (-70 / 20))
        out[pos:pos + n] = block
        pos += n
        speaking = not speaking
    return out


def chunks_of(signal: np.ndarray) -> list[Audio]:
    step = int(round(CHUNK_MS * IN_RATE / 1000))
    return [Audio(signal[i:i + step], IN_RATE) for i in range(0, len(signal), step)]


def pipeline() -> Pipeline:
    from remotemedia.nodes import AudioChunkerNode, AudioGainNode, AudioResampleNode, EnergyVADNode

    return Pipeline([
        AudioResampleNode(name="resample", sample_rate=OUT_RATE, quality="high"),
        AudioGainNode(name="gain", db=GAIN_DB),
        AudioChunkerNode(name="chunker", duration_ms=CHUNK_MS),
        EnergyVADNode(name="vad", include_audio=False, **VAD),
    ])


def plain_python(chunks: list[Audio]) -> list[dict]:
    """The chain as a user would write it with numpy and soxr: no framework."""
    import soxr

    resampler = soxr.ResampleStream(IN_RATE, OUT_RATE, 1, dtype="float32", quality="HQ")
    gain = np.float32(10.0 ** (GAIN_DB / 20.0))
    frame = int(round(CHUNK_MS * OUT_RATE / 1000))  # the chunker's frames; the VAD's frame is the same
    hangover = int(round(VAD["hangover_ms"] * OUT_RATE / 1000))
    min_speech = int(round(VAD["min_speech_ms"] * OUT_RATE / 1000))
    max_segment = int(round(VAD["max_segment_ms"] * OUT_RATE / 1000))
    threshold = VAD["threshold_db"]
    segments: list[dict] = []
    pending = np.empty(0, np.float32)
    pos = 0  # samples of 16 kHz audio seen by the VAD
    start = last_loud_end = -1  # the open segment, -1 when idle

    def close(end: int) -> None:
        nonlocal start
        if end - start >= min_speech:
            segments.append({"start": start / OUT_RATE, "end": end / OUT_RATE})
        start = -1

    def vad(x: np.ndarray) -> None:
        nonlocal pos, start, last_loud_end
        x64 = x.astype(np.float64)
        rms = math.sqrt(float(np.sum(x64 * x64)) / len(x))
        loud = 20 * math.log10(max(rms, 1e-10)) > threshold
        end = pos + len(x)
        if loud:
            if start < 0:
                start = pos
            last_loud_end = end
            if end - start >= max_segment:
                close(end)
        elif start >= 0 and end - last_loud_end >= hangover:
            close(last_loud_end)
        pos = end

    for chunk in chunks:
        y = resampler.resample_chunk(chunk.samples)
        y *= gain
        pending = np.concatenate((pending, y)) if len(pending) else y
        n = len(pending) - len(pending) % frame
        for i in range(0, n, frame):
            vad(pending[i:i + frame])
        pending = pending[n:]
    y = resampler.resample_chunk(np.empty(0, np.float32), last=True) * gain
    pending = np.concatenate((pending, y))
    n = len(pending) - len(pending) % frame
    for i in range(0, n, frame):
        vad(pending[i:i + frame])
    if len(pending) > n:
        vad(pending[n:])
    if start >= 0:
        close(last_loud_end)
    return segments


def same_segments(a: list[dict], b: list[dict], tolerance: float) -> bool:
    return len(a) == len(b) and all(
        abs(x["start"] - y["start"]) <= tolerance and abs(x["end"] - y["end"]) <= tolerance for x, y in zip(a, b))


def timed(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each case; the cases take turns run by run, so a noisy spell
    on the shared machine hits them alike."""
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in cases}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python-executor", action="store_true", help="also time the Python executor")
    args = parser.parse_args(argv)

    signal = make_signal(args.minutes)
    chunks = chunks_of(signal)
    p = pipeline()
    native = p.run_sync(chunks, runtime="native")
    streamed = list(p.stream_sync(chunks, runtime="native"))
    baseline = plain_python(chunks)
    frame_s = CHUNK_MS / 1000
    checks = {
        "native run == native session": native == streamed,
        "native ~ plain numpy+soxr (within one VAD frame)": same_segments(native, baseline, frame_s),
    }
    if args.python_executor:
        checks["native ~ Python executor"] = same_segments(native, p.run_sync(chunks, runtime="python"), frame_s)
    for name, ok in checks.items():
        if not ok:
            sys.exit(f"check failed: {name}; not timing")

    audio_s = len(signal) / IN_RATE
    r = args.repeats
    cases = {
        "native runtime, run over the chunks": lambda: p.run_sync(chunks, runtime="native"),
        "native runtime, streaming session": lambda: sum(1 for _ in p.stream_sync(chunks, runtime="native")),
        "plain Python: numpy + soxr": lambda: plain_python(chunks),
    }
    if args.python_executor:
        cases["Python executor"] = lambda: p.run_sync(chunks, runtime="python")
    results = timed(cases, r)

    print(f"{audio_s / 60:.1f} min of {IN_RATE} Hz mono float32 in {len(chunks)} chunks of {CHUNK_MS:g} ms; "
          f"{len(native)} speech segments; median of {r} runs")
    print(f"  {'':40s} {'wall s':>8s} {'cpu s':>8s} {'x realtime':>11s}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:40s} {wall:8.3f} {cpu:8.3f} {audio_s / wall:11.0f}")
    native_wall, native_cpu = results["native runtime, run over the chunks"]
    plain_wall, plain_cpu = results["plain Python: numpy + soxr"]
    ratio, cpu_ratio = plain_wall / native_wall, plain_cpu / native_cpu
    hour_s = native_wall * 3600 / audio_s
    print(f"  native per hour of audio: {hour_s:.2f} s wall, {native_cpu * 3600 / audio_s:.2f} s CPU (target: <= 2 s)")
    print(f"  native vs numpy + soxr: {ratio:.2f}x faster by wall time, {cpu_ratio:.2f}x by CPU time (target: >= 2x)")
    return {"results": results, "native_seconds_per_hour": hour_s, "ratio_vs_numpy_soxr": ratio,
            "cpu_ratio_vs_numpy_soxr": cpu_ratio,
            "segments": len(native)}


if __name__ == "__main__":
    main()
