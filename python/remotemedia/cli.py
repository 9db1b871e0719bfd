"""The `remotemedia` command: run a manifest from Python, list node types, compare runtimes.

    remotemedia run MANIFEST [--input ITEMS.json] [--runtime auto|native|python]
    remotemedia nodes
    remotemedia bench [--short] [--iterations N] [--warmup N] [--json PATH] ...

(`remotemedia-runtime`, the C++ program, runs manifests without Python.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from remotemedia import errors
from remotemedia.core import registry
from remotemedia.core.pipeline import RUNTIMES, Pipeline


def _read(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")


def cmd_run(args) -> int:
    try:
        pipeline = Pipeline.from_manifest(Path(args.manifest).read_bytes())
        items = json.loads(_read(args.input))
        if not isinstance(items, list):
            print("error: input must be a JSON array of items", file=sys.stderr)
            return 3
        outputs = pipeline.run_sync(items, runtime=args.runtime)
    except errors.ManifestError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - a node's failure, reported with its location
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(outputs, indent=2 if args.pretty else None))
    return 0


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
    run.add_argument("manifest")
    run.add_argument("-i", "--input", default="-", help="JSON array of items: a file, or - for stdin")
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
