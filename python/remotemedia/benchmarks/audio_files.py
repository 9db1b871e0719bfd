"""Audio files through the nodes: AudioFileSource reading a file in 20 ms chunks, AudioFileSink
writing those chunks, on the native runtime and on the Python executor, per format (ns per sample;
medians of --repeats runs, the runtimes taking turns).

    python -m remotemedia.benchmarks.audio_files [--seconds 60] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from remotemedia import Audio, Pipeline
from remotemedia.audio import read_chunks, write
from remotemedia.nodes import AudioFileSinkNode, AudioFileSourceNode

RATE, CHANNELS, CHUNK_MS = 48_000, 2, 20.0
FORMATS = ("wav", "flac", "ogg")
RUNTIMES = ("native", "python")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(3)
    frames = int(args.seconds * RATE)
    t = np.arange(frames) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)[:, None] + 0.05 * rng.standard_normal((frames, CHANNELS))
    audio = Audio(tone.astype(np.float32), RATE)
    samples = frames * CHANNELS
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            source = Path(tmp) / f"in.{fmt}"
            write(source, audio)
            chunks = list(read_chunks(source, chunk_ms=CHUNK_MS))
            reader = Pipeline([AudioFileSourceNode(name="source", chunk_ms=CHUNK_MS)])
            times: dict[str, list[float]] = {}
            for _ in range(args.repeats):
                for runtime in RUNTIMES:
                    t0 = time.perf_counter()
                    reader.run_sync([str(source)], runtime=runtime)
                    times.setdefault(f"read {fmt}, {runtime}", []).append(time.perf_counter() - t0)
                    writer = Pipeline([AudioFileSinkNode(name="sink", path=str(Path(tmp) / f"out-{runtime}.{fmt}"))])
                    t0 = time.perf_counter()
                    writer.run_sync(chunks, runtime=runtime)
                    times.setdefault(f"write {fmt}, {runtime}", []).append(time.perf_counter() - t0)
            for name, values in times.items():
                results.setdefault(fmt, {})[name] = statistics.median(values) / samples * 1e9

    print(f"{args.seconds:g} s of {RATE} Hz stereo float32 in {CHUNK_MS:g} ms chunks; ns per sample, "
          f"median of {args.repeats}")
    print(f"  {'':8s} {'read native':>12s} {'read python':>12s} {'write native':>13s} {'write python':>13s}")
    for fmt in FORMATS:
        r = results[fmt]
        print(f"  {fmt:8s} {r[f'read {fmt}, native']:12.1f} {r[f'read {fmt}, python']:12.1f} "
              f"{r[f'write {fmt}, native']:13.1f} {r[f'write {fmt}, python']:13.1f}")
    return results


if __name__ == "__main__":
    main()
