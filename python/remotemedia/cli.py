"""The `remotemedia` command: run a manifest from Python, list node types, compare runtimes.

    remotemedia run MANIFEST [--input ITEMS.json] [--runtime auto|native|python] [--output FILE]
    remotemedia run MANIFEST --jsonl [--input LINES]     (one item per line in, one output per line out)
    remotemedia run MANIFEST --audio FILE [--chunk-ms 20] [--no-progress]
    remotemedia validate MANIFEST
    remotemedia nodes [--json]
    remotemedia bench [--short] [--iterations N] [--warmup N] [--json PATH] ...
    remotemedia --version

run, validate and nodes take --import MODULE (a module registering node types) and --log-level
LEVEL; run takes --max-input-bytes N and --max-depth N (the input's limits). MANIFEST may be -.
Outputs print as UTF-8 JSON, each value in one form (an Audio as {"audio": {"sample_rate",
"channels", "frames", "dtype", "duration"}}, bytes as {"bytes": {"length"}}, arrays as lists).
Exit codes: 0 ok, 1 bad manifest, 2 a node failed, 3 usage, bad input or I/O. docs/CLI.md has it
all; `remotemedia-runtime`, the C++ program, runs manifests without Python and agrees on every
flag, message and output byte it shares.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from remotemedia import errors
from remotemedia.core import registry
from remotemedia.core.json_fault import find_fault
from remotemedia.core.manifest import MAX_MANIFEST_BYTES
from remotemedia.core.pipeline import RUNTIMES, Pipeline


class _TooLarge(Exception):
    pass


class _CannotRead(Exception):
    pass


MAX_INPUT_DEPTH = 64  # as a manifest's (docs/MANIFEST.md rule 2), but settable: --max-depth


def _too_large(what: str, limit: int = MAX_MANIFEST_BYTES) -> str:
    name = "16 MiB" if limit == MAX_MANIFEST_BYTES else "--max-input-bytes"
    return f"{what} is more than the {name} limit ({limit} bytes)"


def _read_limited(path: str, what: str, limit: int = MAX_MANIFEST_BYTES) -> bytes:
    """The bytes of ``path`` (``-``: stdin), at most ``limit`` (the 16 MiB every manifest obeys):
    only limit + 1 bytes are read, so an endless stream (/dev/zero) is refused there instead of
    filling memory. The C++ program (src/cli/main.cpp) reads the same way and words the refusal
    and an OS error ("cannot read PATH: No such file or directory") the same."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
    except OSError as exc:
        raise _CannotRead(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _TooLarge(_too_large(what, limit))
    return data


_STRING_LITERAL = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|$)', re.S)


def _nesting_depth(data: bytes) -> int:
    """The largest number of arrays and objects open at once, counted outside strings (as the C++
    program counts it)."""
    import numpy as np

    if data.count(b"[") + data.count(b"{") <= 1:
        return 1 if data.count(b"[") + data.count(b"{") else 0
    brackets = np.frombuffer(_STRING_LITERAL.sub(b"", data).translate(None, b"".join(
        bytes([c]) for c in range(256) if c not in b"[]{}")), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == 0x5B) | (brackets == 0x7B), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


# A text either parser refuses is scanned again for its first fault, worded from one vocabulary
# (remotemedia.core.json_fault, the C++ find_json_fault), only then.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_MAYBE_HUGE = re.compile(rb"[0-9]{210}|[eE]\+?0*[1-9][0-9]{2}")


def _json_syntax_fault(data: bytes) -> str | None:
    """'at line L column C: reason' for the first syntax fault of ``data``; None if it has none."""
    fault = find_fault(data)
    return None if fault is None else fault.where


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"number {token} is out of the range of a double")
    return value


def _int_within_double_range(token: str) -> int:
    if math.isinf(float(token)):
        raise ValueError(f"number {token} is out of the range of a double")
    return int(token)


def _unique_keys(pairs: list) -> dict:
    items = dict(pairs)
    if len(items) != len(pairs):
        raise ValueError("a duplicate key")  # CPython's json keeps the last, nlohmann refuses
    return items


def _load_input(data: bytes, what: str = "input", max_depth: int = MAX_INPUT_DEPTH) -> Any:
    """The input items: JSON text, refused as the C++ program refuses it (deeper than ``max_depth``;
    no NaN or Infinity, no number beyond the range of a double: nlohmann reads every number as one
    first)."""
    if _nesting_depth(data) > max_depth:  # a text both too deep and not JSON reads as not JSON, as a manifest
        fault = _json_syntax_fault(data)
        raise _BadInput(f"{what} is not valid JSON {fault}" if fault else
                        f"{what} is nested deeper than the limit of {max_depth} levels")
    # Only a number with an exponent of 100 or more, or else 210 digits or more before its exponent,
    # can overflow a double: without one, the number hooks (a call per number) are not needed.
    ranged = {"parse_float": _finite_float, "parse_int": _int_within_double_range} if _MAYBE_HUGE.search(data) else {}
    try:
        items = json.loads(data.decode("utf-8"), parse_constant=_reject_constant, object_pairs_hook=_unique_keys,
                           **ranged)
        if _SURROGATE_ESCAPE.search(data) and _json_syntax_fault(data):
            raise ValueError("a lone surrogate escape")  # CPython's json takes them, nlohmann does not
        return items
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, a constant
        fault = _json_syntax_fault(data)
        raise _BadInput(f"{what} is not valid JSON {fault}" if fault else f"{what} is not valid JSON: {exc}") from None


class _BadInput(Exception):
    pass


def _read_manifest(path: str, input_path: str | None = "") -> Pipeline:
    """The manifest's pipeline; ``input_path`` given (None: stdin), the input must not come from
    stdin too when the manifest does, refused after the manifest is read (as the C++ program)."""
    pipeline = _read_manifest_only(path)
    if path == "-" and input_path in (None, "-"):
        raise _BadInput("the manifest and the input cannot both come from stdin: give --input FILE")
    return pipeline


def _read_manifest_only(path: str) -> Pipeline:
    try:
        text = _read_limited(path, "manifest text")
    except _TooLarge as exc:
        raise errors.ManifestError(str(exc), path="$") from None
    try:
        return Pipeline.from_manifest(text)
    except errors.ManifestError as exc:
        fault = _json_syntax_fault(text) if type(exc) is errors.ManifestError and exc.path == "$" else None
        if fault is None:
            raise
        raise errors.ManifestError(f"not valid JSON {fault}", path="$") from None


class _Output:
    """Where the outputs go: stdout or the --output file, as UTF-8 whatever the locale, each line
    flushed as it is written."""

    def __init__(self, path: str | None) -> None:
        self.file = sys.stdout.buffer if path is None else open(path, "wb")  # noqa: SIM115 - closed below

    def line(self, text: str) -> None:
        self.file.write(text.encode("utf-8", "backslashreplace") + b"\n")
        self.file.flush()

    def close(self) -> None:
        if self.file is not sys.stdout.buffer:
            self.file.close()


def _open_output(path: str | None) -> _Output:
    try:
        return _Output(path)
    except OSError as exc:
        raise _CannotRead(f"cannot write {path}: {exc.strerror or exc}") from None


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, allow_nan=False, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    """json.dumps's hook for what it has no form for: the forms of _jsonable."""
    form = _jsonable(value, null_non_finite=False)
    if form is value:  # pragma: no cover - _jsonable always makes another value for these
        raise TypeError(type(value).__name__)
    return form


def _output_text(value: Any, null_non_finite: bool = True, indent: int | None = None) -> str:
    """An output's JSON text in the forms of _jsonable. json.dumps with a hook first (the outputs
    walked once, in C); the Python walk only for what that refuses (a non-finite float, a key that
    is no string or number), so a long list of plain numbers costs no call per element."""
    try:
        return json.dumps(value, indent=indent, allow_nan=False, ensure_ascii=False, default=_json_default)
    except ValueError:
        if not null_non_finite:
            raise
    except TypeError:
        pass
    return _dumps(_jsonable(value, null_non_finite), indent)


def _prepare(args) -> int | None:
    """--log-level and --import, before the manifest is read: an exit code on failure."""
    import importlib
    import logging

    level = getattr(args, "log_level", None)
    if level is not None:
        logger = logging.getLogger("remotemedia")
        logger.setLevel(level.upper())
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    for module in getattr(args, "imports", None) or ():
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure of the user's module
            print(f"error: cannot import {module}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return None


def _report_failure(exc: Exception) -> int:
    """The message and exit code of a run's failure: a manifest's (1), the input's (3), a node's
    (2, with its location)."""
    if isinstance(exc, errors.ManifestError):
        return _report_manifest_error(exc)
    if isinstance(exc, (_CannotRead, _BadInput, _TooLarge)):
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 2


def _report_manifest_error(exc: errors.ManifestError) -> int:
    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    if isinstance(exc, errors.UnknownNodeTypeError):
        print("note: see `remotemedia nodes`; a node type of your own module needs the module imported: "
              "`remotemedia run --import MODULE MANIFEST`", file=sys.stderr)
    return 1


def cmd_run(args) -> int:
    failed = _prepare(args)
    if failed is not None:
        return failed
    if args.audio is not None:
        return cmd_run_audio(args)
    if args.chunk_ms is not None or args.no_progress:
        print("error: --chunk-ms and --no-progress go with --audio", file=sys.stderr)
        return 3
    if args.jsonl:
        return cmd_run_jsonl(args)
    try:
        pipeline = _read_manifest(args.manifest, args.input)
        items = _load_input(_read_limited("-" if args.input is None else args.input, "input", args.max_input_bytes),
                            max_depth=args.max_depth)
        if not isinstance(items, list):
            print("error: input must be a JSON array of items", file=sys.stderr)
            return 3
        output = _open_output(args.output)
        outputs = pipeline.run_sync(items, runtime=args.runtime)
    except BrokenPipeError:
        raise  # main's: the reader went away
    except Exception as exc:  # noqa: BLE001 - reported by class: manifest 1, node 2, input 3
        return _report_failure(exc)
    try:
        text = _output_text(outputs, null_non_finite=False, indent=2 if args.pretty else None)
    except ValueError:  # JSON has no NaN or Infinity: the C++ program's words
        print("error: output has no JSON form: a non-finite float has no JSON form", file=sys.stderr)
        return 3
    output.line(text)
    output.close()
    return 0


def _jsonl_items(path: str, limit: int, max_depth: int) -> Iterator[Any]:
    """One item per line of ``path`` (``-``: stdin), each read as it arrives; blank lines skipped."""
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _CannotRead(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        number = 0
        while True:
            try:
                line = stream.readline(limit + 2)  # the line, its newline, and one byte past the limit
            except OSError as exc:
                raise _CannotRead(f"cannot read {path}: {exc.strerror or exc}") from None
            if not line:
                return
            number += 1
            text = line[:-1] if line.endswith(b"\n") else line
            if len(text) > limit:
                raise _TooLarge(_too_large(f"input line {number}", limit))
            if not text.strip(b" \t\r"):
                continue
            yield _load_input(text, f"input line {number}", max_depth)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def cmd_run_jsonl(args) -> int:
    try:
        pipeline = _read_manifest(args.manifest, args.input)
        output = _open_output(args.output)
        items = _jsonl_items("-" if args.input is None else args.input, args.max_input_bytes, args.max_depth)
        for out in pipeline.stream_sync(items, runtime=args.runtime):
            output.line(_output_text(out))
    except BrokenPipeError:
        raise  # main's: the reader went away
    except Exception as exc:  # noqa: BLE001 - reported by class: manifest 1, node 2, input 3
        return _report_failure(exc)
    output.close()
    return 0


def _jsonable(value: Any, null_non_finite: bool = True) -> Any:
    """An output as JSON data (docs/CLI.md, "Output forms"): Audio as {"audio": {sample_rate,
    channels, frames, dtype, duration}}, bytes as {"bytes": {"length": n}}, numpy as lists and
    numbers, non-finite floats as null when ``null_non_finite`` (as JSON.stringify writes them:
    JSON has no NaN; else left for json.dumps to refuse), any other object as {"object": {"type",
    "repr"}}. The C++ program (jsonable in src/cli/main.cpp) writes the same."""
    from remotemedia.core.audio import Audio
    import numpy as np

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) or not null_non_finite else None
    if isinstance(value, Audio):
        return {"audio": {"sample_rate": value.sample_rate, "channels": value.channels, "frames": value.frames,
                          "dtype": value.dtype, "duration": value.duration}}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": {"length": len(bytes(value))}}
    if isinstance(value, (np.ndarray, np.generic)):
        return _jsonable(value.tolist(), null_non_finite)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, null_non_finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, null_non_finite) for v in value]
    return {"object": {"type": type(value).__name__, "repr": repr(value)}}


class _ProgressLine:
    """The progress on stderr when tqdm (the `cli` extra) is not installed."""

    def __init__(self, frames: int, sample_rate: int, desc: str) -> None:
        self.frames, self.rate, self.desc, self.n = frames, sample_rate, desc, 0

    def update(self, frames: int) -> None:
        self.n += frames
        sys.stderr.write(f"\r{self.desc}: {self.n / self.rate:.2f}/{self.frames / self.rate:.2f} s")
        sys.stderr.flush()

    def write(self, line: str) -> None:
        _write_stdout(line)

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
    if args.jsonl:
        print("error: give --jsonl or --audio, not both", file=sys.stderr)
        return 3
    if not (chunk_ms > 0 and math.isfinite(chunk_ms)):
        print("error: --chunk-ms must be a number greater than 0", file=sys.stderr)
        return 3
    try:
        pipeline = _read_manifest(args.manifest)
    except (errors.ManifestError, _CannotRead) as exc:
        return _report_failure(exc)
    try:
        header = info(args.audio)
        chunks = read_chunks(args.audio, chunk_ms)
    except AudioFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        output = _open_output(args.output) if args.output is not None else None
    except _CannotRead as exc:
        chunks.close()
        print(f"error: {exc}", file=sys.stderr)
        return 3
    bar = _progress_bar(header.frames, header.sample_rate, Path(args.audio).name, not args.no_progress)

    def fed() -> Iterator[Any]:
        for chunk in chunks:
            yield chunk
            if bar is not None:
                bar.update(chunk.frames)

    def emit(line: str) -> None:
        if output is not None:
            output.line(line)
        elif bar is not None and sys.stdout.isatty() and sys.stderr.isatty():
            bar.write(line)  # clears the bar, prints, redraws it
        else:
            _write_stdout(line)

    try:
        for out in pipeline.stream_sync(fed(), runtime=args.runtime):
            emit(_output_text(out))
    except AudioFileError as exc:  # the file failed part-way
        _close(bar)
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except errors.ManifestError as exc:  # raised when the session compiles the pipeline
        _close(bar)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # main's: the reader went away
    except Exception as exc:  # noqa: BLE001 - a node's failure, reported with its location
        _close(bar)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        chunks.close()
        if output is not None:
            output.close()
    _close(bar)
    return 0


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


def _write_stdout(line: str) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(line.encode("utf-8", "backslashreplace") + b"\n")
    sys.stdout.buffer.flush()


def _is_chain(pipeline: Pipeline) -> bool:
    """As the C++ graph says it: one source, and along the order each node feeds exactly the next
    through its only port."""
    connections = pipeline.connections
    names = [n.name for n in pipeline.nodes]
    if not names:
        return True
    if connections is None:  # a chain by its order: a node with several ports is refused unless last
        return all(len(n.output_ports()) == 1 for n in pipeline.nodes)
    if any(len(n.output_ports()) != 1 for n in pipeline.nodes):
        return False
    following = {a: [t for s, t, *_ in connections if s == a] for a in names}
    entering = {a: sum(1 for _, t, *_ in connections if t == a) for a in names}
    sources = [a for a in names if entering[a] == 0]
    if len(sources) != 1:
        return False
    at, seen = sources[0], 1
    while following[at]:
        if len(following[at]) != 1 or entering[following[at][0]] != 1:
            return False
        at, seen = following[at][0], seen + 1
    return seen == len(names)


def cmd_validate(args) -> int:
    failed = _prepare(args)
    if failed is not None:
        return failed
    try:
        pipeline = _read_manifest(args.manifest)
    except (errors.ManifestError, _CannotRead) as exc:
        return _report_failure(exc)
    count = len(pipeline.nodes)
    _write_stdout(f"ok: {count} nodes {'in a chain' if _is_chain(pipeline) else 'in a graph'}")
    return 0


def cmd_nodes(args) -> int:
    failed = _prepare(args)
    if failed is not None:
        return failed
    if args.json:
        types = {spec.name: {"aliases": list(spec.aliases), "description": spec.description,
                             "params": [{"name": p.name, "type": p.type, "required": bool(p.required),
                                         "choices": list(p.choices or ()), "description": p.description}
                                        for p in spec.params]}
                 for spec in registry.node_types()}
        _write_stdout(_dumps(types, indent=2))
        return 0
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


class _Parser(argparse.ArgumentParser):
    """argparse with the C++ program's usage errors: "error: ..." and exit 3 (argparse's own 2 would
    read as a node's failure)."""

    def error(self, message: str):  # type: ignore[override]
        message = message.removeprefix("argument ")  # "--max-depth: ..." as CLI11 words it
        sys.stderr.write(f"error: {message}\nRun with --help for more information.\n")
        sys.exit(3)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--import", dest="imports", action="append", metavar="MODULE", default=[],
                        help="import a Python module first (one that registers node types with "
                             "@register_node_type); may be given more than once")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error", "critical"], type=str.lower,
                        default=None, help="log the 'remotemedia' logger at this level on stderr (docs/LOGGING.md)")


def main(argv: list[str] | None = None) -> int:
    from remotemedia import __version__

    parser = _Parser(prog="remotemedia", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"remotemedia {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a manifest on a JSON array of items")
    run.add_argument("manifest", help="manifest file (JSON), or - for stdin")
    run.add_argument("-i", "--input", default=None, help="JSON array of items: a file, or - for stdin (default)")
    run.add_argument("--audio", metavar="FILE", default=None,
                     help="stream an audio file (WAV, FLAC, Ogg, ...) through the pipeline in chunks; "
                          "outputs print as JSON lines")
    run.add_argument("--chunk-ms", type=float, default=None, help="with --audio: milliseconds per chunk (default 20)")
    run.add_argument("--no-progress", action="store_true", help="with --audio: no progress bar on stderr")
    run.add_argument("--jsonl", action="store_true",
                     help="read one JSON item per line as it arrives; write one output per line as it is produced")
    run.add_argument("-o", "--output", metavar="FILE", default=None,
                     help="write the outputs to this file instead of stdout")
    run.add_argument("--runtime", choices=RUNTIMES, default="auto",
                     help="auto (native when built, else Python), native or python (default auto)")
    run.add_argument("--pretty", action="store_true", help="indent the output")
    run.add_argument("--max-input-bytes", type=_bounded(1, MAX_MANIFEST_BYTES), default=MAX_MANIFEST_BYTES,
                     help=f"largest input (or --jsonl line) in bytes (default and most {MAX_MANIFEST_BYTES})")
    run.add_argument("--max-depth", type=_bounded(1, MAX_INPUT_DEPTH), default=MAX_INPUT_DEPTH,
                     help=f"deepest nesting of arrays and objects in the input (default and most {MAX_INPUT_DEPTH})")
    _add_common(run)
    run.set_defaults(func=cmd_run)
    validate = sub.add_parser("validate", help="check a manifest against the schema, registry and graph rules")
    validate.add_argument("manifest", help="manifest file (JSON), or - for stdin")
    _add_common(validate)
    validate.set_defaults(func=cmd_validate)
    nodes = sub.add_parser("nodes", help="list the registered node types and their parameters")
    nodes.add_argument("--json", action="store_true", help="print as JSON")
    _add_common(nodes)
    nodes.set_defaults(func=cmd_nodes)
    bench = sub.add_parser(
        "bench",
        help="the seed's runtime comparison (python -m remotemedia.benchmarks.compare_runtimes)",
    )
    from remotemedia.benchmarks.compare_runtimes import add_arguments as add_bench_arguments

    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    if args.command == "run" and args.pretty and args.jsonl and args.audio is None:
        print("error: --pretty does not go with --jsonl", file=sys.stderr)
        return 3
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: the run is stopped (its nodes closed); no traceback
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): as a shell reports SIGPIPE, no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would fail
        return 141


def _bounded(low: int, high: int):
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"Value {value} not in range {low} to {high}")  # CLI11's words
        return value

    return parse


if __name__ == "__main__":
    sys.exit(main())
