"""The `remotemedia` command: run a manifest from Python, list node types, compare runtimes.

    remotemedia run MANIFEST [--input ITEMS.json] [--runtime auto|native|python]
    remotemedia run MANIFEST --audio FILE [--chunk-ms 20] [--runtime ...] [--no-progress]
    remotemedia nodes
    remotemedia bench [--short] [--iterations N] [--warmup N] [--json PATH] ...

With --audio, the file's audio (WAV, FLAC, Ogg, ...) streams through a session of the pipeline in
chunks of --chunk-ms, each output printed as a JSON line as it comes (an Audio output as a summary,
{"audio": {"sample_rate", "channels", "frames", "dtype", "duration"}}); a progress bar on stderr
counts seconds of audio sent. Exit codes: 0 ok, 1 bad manifest, 2 a node failed, 3 bad input or I/O
(an unreadable audio file).

(`remotemedia-runtime`, the C++ program, runs manifests without Python.)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Iterator

from remotemedia import errors
from remotemedia.core import registry
from remotemedia.core.manifest import MAX_MANIFEST_BYTES
from remotemedia.core.pipeline import RUNTIMES, Pipeline


class _TooLarge(Exception):
    pass


def _read_limited(path: str, what: str) -> bytes:
    """The bytes of ``path`` (``-``: stdin), at most the 16 MiB limit every manifest and input
    obeys: only limit + 1 bytes are read, so an endless stream (/dev/zero) is refused there
    instead of filling memory. The C++ program (src/cli/main.cpp) reads the same way and words
    the refusal the same."""
    limit = MAX_MANIFEST_BYTES
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge(f"{what} is more than the 16 MiB limit ({limit} bytes)")
    return data


def _read_manifest(path: str) -> Pipeline:
    try:
        text = _read_limited(path, "manifest text")
    except _TooLarge as exc:
        raise errors.ManifestError(str(exc), path="$") from None
    return Pipeline.from_manifest(text)


def cmd_run(args) -> int:
    if args.audio is not None:
        return cmd_run_audio(args)
    if args.chunk_ms is not None or args.no_progress:
        print("error: --chunk-ms and --no-progress go with --audio", file=sys.stderr)
        return 3
    try:
        pipeline = _read_manifest(args.manifest)
        items = json.loads(_read_limited("-" if args.input is None else args.input, "input").decode("utf-8"))
        if not isinstance(items, list):
            print("error: input must be a JSON array of items", file=sys.stderr)
            return 3
        outputs = pipeline.run_sync(items, runtime=args.runtime)
    except errors.ManifestError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, _TooLarge) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - a node's failure, reported with its location
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(outputs, indent=2 if args.pretty else None))
    return 0


def _jsonable(value: Any) -> Any:
    """An output as JSON data: Audio summarised, numpy as lists and numbers, non-finite floats as
    null (as JSON.stringify writes them: JSON has no NaN), anything else by its repr."""
    from remotemedia.core.audio import Audio
    import numpy as np

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Audio):
        return {"audio": {"sample_rate": value.sample_rate, "channels": value.channels, "frames": value.frames,
                          "dtype": value.dtype, "duration": value.duration}}
    if isinstance(value, (np.ndarray, np.generic)):
        return _jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


class _ProgressLine:
    """The progress on stderr when tqdm (the `cli` extra) is not installed."""

    def __init__(self, frames: int, sample_rate: int, desc: str) -> None:
        self.frames, self.rate, self.desc, self.n = frames, sample_rate, desc, 0

    def update(self, frames: int) -> None:
        self.n += frames
        sys.stderr.write(f"\r{self.desc}: {self.n / self.rate:.2f}/{self.frames / self.rate:.2f} s")
        sys.stderr.flush()

    def write(self, line: str) -> None:
        print(line, flush=True)

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def _progress_bar(frames: int, sample_rate: int, desc: str, enabled: bool) -> Any:
    """A bar counting frames sent, shown in seconds of audio (exact at the end: no float sum)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return _ProgressLine(frames, sample_rate, desc)
    # disable=False: the bar shows on a pipe too (tqdm's default hides it when stderr is no tty).
    return tqdm(total=frames, desc=desc, unit="s", unit_scale=1.0 / sample_rate, file=sys.stderr, disable=False,
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} s [{elapsed}<{remaining}]")


def cmd_run_audio(args) -> int:
    from remotemedia.audio import AudioFileError, info, read_chunks

    chunk_ms = 20.0 if args.chunk_ms is None else args.chunk_ms
    if args.input is not None:
        print("error: give --input or --audio, not both", file=sys.stderr)
        return 3
    if not (chunk_ms > 0 and math.isfinite(chunk_ms)):
        print(f"error: --chunk-ms must be a number greater than 0, not {args.chunk_ms}", file=sys.stderr)
        return 3
    try:
        pipeline = _read_manifest(args.manifest)
    except errors.ManifestError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        header = info(args.audio)
        chunks = read_chunks(args.audio, chunk_ms)
    except AudioFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    bar = _progress_bar(header.frames, header.sample_rate, Path(args.audio).name, not args.no_progress)

    def fed() -> Iterator[Any]:
        for chunk in chunks:
            yield chunk
            if bar is not None:
                bar.update(chunk.frames)

    def emit(line: str) -> None:
        if bar is not None and sys.stdout.isatty() and sys.stderr.isatty():
            bar.write(line)  # clears the bar, prints, redraws it
        else:
            print(line, flush=True)

    try:
        for out in pipeline.stream_sync(fed(), runtime=args.runtime):
            emit(json.dumps(_jsonable(out), allow_nan=False))
    except AudioFileError as exc:  # the file failed part-way
        _close(bar)
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except errors.ManifestError as exc:  # raised when the session compiles the pipeline
        _close(bar)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a node's failure, reported with its location
        _close(bar)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        chunks.close()
    _close(bar)
    return 0


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


def cmd_nodes(_args) -> int:
    for spec in registry.node_types():
        aliases = "".join(f" (alias {a})" for a in spec.aliases)
        print(f"{spec.name}{aliases}\n    {spec.description}")
        for p in spec.params:
            choices = f", one of {' '.join(p.choices)}" if p.choices else ""
            print(f"    {p.name}: {p.type}{', required' if p.required else ''}{choices} - {p.description}")
    return 0


def cmd_bench(args) -> int:
    from remotemedia.benchmarks import compare_runtimes

    return compare_runtimes.run_from_args(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="remotemedia", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a manifest on a JSON array of items")
    run.add_argument("manifest", help="manifest file (JSON), or - for stdin")
    run.add_argument("-i", "--input", default=None, help="JSON array of items: a file, or - for stdin (default)")
    run.add_argument("--audio", metavar="FILE", default=None,
                     help="stream an audio file (WAV, FLAC, Ogg, ...) through the pipeline in chunks; "
                          "outputs print as JSON lines")
    run.add_argument("--chunk-ms", type=float, default=None, help="with --audio: milliseconds per chunk (default 20)")
    run.add_argument("--no-progress", action="store_true", help="with --audio: no progress bar on stderr")
    run.add_argument("--runtime", choices=RUNTIMES, default="auto")
    run.add_argument("--pretty", action="store_true")
    run.set_defaults(func=cmd_run)
    nodes = sub.add_parser("nodes", help="list the registered node types")
    nodes.set_defaults(func=cmd_nodes)
    bench = sub.add_parser(
        "bench",
        help="the seed's runtime comparison (python -m remotemedia.benchmarks.compare_runtimes)",
    )
    from remotemedia.benchmarks.compare_runtimes import add_arguments as add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
