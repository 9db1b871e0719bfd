"""The seed's runtime comparison, reproduced honestly: the six scenarios on every runtime column.

    python -m remotemedia.benchmarks.compare_runtimes [--iterations 100] [--warmup 10]
        [--scenarios KEY,...] [--items-scale full|small] [--items N] [--short]
        [--json PATH] [--markdown PATH] [--no-memory] [--memory-items 1000000] [--check-targets]

Columns (each scenario runs the same node objects in every column):

- ``python``: the Python executor, ``await pipeline.run(items, runtime="python")``;
- ``native``: the native runtime through the same call, ``runtime="native"``, on the list;
- ``native_numpy``: the native runtime on the items as a 1-D int64 numpy array (array in, array
  out: the column path);
- ``plain_loop``: the honest baseline, a direct Python loop over the same node objects
  (``for x in items: for node in nodes: x = node.process(x)``), on the list;
- ``plain_loop_numpy``: the same loop over the numpy array (its elements are numpy scalars), the
  outputs collected into an array (array in, array out, as ``run`` does);
- ``numpy_expr``: where the chain computes something, the same arithmetic as one vectorised numpy
  expression (what a numpy user would write; it wraps on int overflow where the pipeline raises).

Before timing a scenario, every column's outputs are compared with the plain loop's (values and
types for lists; values and dtype for arrays); any difference stops the run with exit status 1.
Then ``--warmup`` untimed runs of every column, then ``--iterations`` timed rounds, each round
running every column once in turn (so machine noise falls on all columns alike). Each run is timed
alone with ``time.perf_counter_ns``; the garbage collector stays on, as in a user's program.

Per cell: median, p95, p99 (nearest rank), min, items per second (items / median), nanoseconds per
node per item, and speedups (ratios of medians) against the Python executor and the plain loop.
Memory: the peak resident growth of one Large run over ``--memory-items`` items in a fresh
interpreter per runtime (``remotemedia.benchmarks.memory``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import numpy as np

from remotemedia import Pipeline, __version__
from remotemedia.benchmarks import memory
from remotemedia.benchmarks.scenarios import SCENARIOS, SEED_PUBLISHED, Scenario, numpy_expression

__all__ = ["main", "run_comparison", "add_arguments", "plain_loop"]

COLUMNS = {
    "python": "Python executor",
    "native": "native, list",
    "native_numpy": "native, numpy",
    "plain_loop": "plain loop, list",
    "plain_loop_numpy": "plain loop, numpy",
    "numpy_expr": "numpy expression",
}

# The short mode of the README's main job (scripts/run.sh).
SHORT = {"iterations": 30, "warmup": 5}

# Targets (issue 3) checked on the Large scenario and the memory measurement.
TARGET_LIST_VS_PYTHON = 5.0
TARGET_LIST_VS_LOOP = 3.0
TARGET_NUMPY_VS_LOOP = 50.0
TARGET_MEMORY_FRACTION = 1 / 3


class OutputMismatch(Exception):
    """Two columns disagree: nothing is timed."""


def plain_loop(nodes, items) -> list:
    """What a user would write without a framework: a direct loop over the same node objects."""
    out = []
    for x in items:
        for node in nodes:
            x = node.process(x)
        out.append(x)
    return out


@dataclass
class Column:
    key: str
    run: Callable[[], Any]  # returns the outputs, or an awaitable of them
    is_async: bool


# ------------------------------------------------------------------------------------ checking


def _same_list(a: Any, b: list) -> str | None:
    """None when ``a`` is a list equal to ``b`` item by item, with the same exact types."""
    if type(a) is not list:
        return f"got a {type(a).__name__}, expected a list"
    if len(a) != len(b):
        return f"{len(a)} outputs, expected {len(b)}"
    for i, (x, y) in enumerate(zip(a, b)):
        if type(x) is not type(y) or x != y:
            return f"output {i} is {x!r} ({type(x).__name__}), expected {y!r} ({type(y).__name__})"
    return None


def _same_array(a: Any, b: np.ndarray) -> str | None:
    """None when ``a`` is an array with ``b``'s dtype, shape and values."""
    if type(a) is not np.ndarray:
        return f"got a {type(a).__name__}, expected a numpy array"
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"got {a.dtype}{list(a.shape)}, expected {b.dtype}{list(b.shape)}"
    if not np.array_equal(a, b):
        i = int(np.flatnonzero(a != b)[0])
        return f"element {i} is {a[i]!r}, expected {b[i]!r}"
    return None


async def _outputs(column: Column) -> Any:
    result = column.run()
    return await result if column.is_async else result


async def check_outputs(title: str, columns: list[Column], reference: list, reference_array: np.ndarray):
    """Raises OutputMismatch naming the first column that differs from the plain loop."""
    # The loop over numpy scalars must agree with the loop over ints before it can be the array
    # reference (the scenarios compute the same values on both; numpy only changes the types).
    if not np.array_equal(np.asarray(reference), reference_array):
        raise OutputMismatch(f"{title}: the plain loop gives other values on the numpy input")
    for column in columns:
        out = await _outputs(column)
        if column.key in ("python", "native", "plain_loop"):
            problem = _same_list(out, reference)
        else:
            problem = _same_array(out, reference_array)
        if problem:
            raise OutputMismatch(f"{title}: column '{column.key}' ({COLUMNS[column.key]}) differs "
                                 f"from the plain loop: {problem}")


# ------------------------------------------------------------------------------------- timing


async def _time_once(column: Column) -> int:
    if column.is_async:
        t0 = time.perf_counter_ns()
        await column.run()
        return time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    column.run()
    return time.perf_counter_ns() - t0


def _percentile(sorted_samples: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of the samples at or below."""
    rank = max(1, math.ceil(p / 100 * len(sorted_samples)))
    return sorted_samples[rank - 1]


def summarize(samples_ns: list[int], n_items: int, n_nodes: int) -> dict:
    us = sorted(s / 1e3 for s in samples_ns)
    median = statistics.median(us)
    return {
        "iterations": len(us),
        "median_us": median,
        "p95_us": _percentile(us, 95),
        "p99_us": _percentile(us, 99),
        "min_us": us[0],
        "mean_us": statistics.fmean(us),
        "items_per_s": n_items / (median / 1e6) if median > 0 else math.inf,
        "ns_per_node_item": median * 1e3 / (n_items * n_nodes),
    }


def _ratio(baseline: dict | None, cell: dict) -> float | None:
    if baseline is None:
        return None
    return baseline["median_us"] / cell["median_us"]


def _columns(scenario_nodes, pipeline: Pipeline, items: list, array: np.ndarray) -> list[Column]:
    columns = [
        Column("python", lambda: pipeline.run(items, runtime="python"), True),
        Column("native", lambda: pipeline.run(items, runtime="native"), True),
        Column("native_numpy", lambda: pipeline.run(array, runtime="native"), True),
        Column("plain_loop", lambda: plain_loop(scenario_nodes, items), False),
        Column("plain_loop_numpy", lambda: np.asarray(plain_loop(scenario_nodes, array)), False),
    ]
    expression = numpy_expression(scenario_nodes)
    if expression is not None:
        columns.append(Column("numpy_expr", lambda: expression(array), False))
    return columns


async def compare_scenario(scenario: Scenario, n_items: int, iterations: int, warmup: int,
                           progress: Callable[[str], None]) -> dict:
    nodes = scenario.make_nodes()
    pipeline = Pipeline(nodes=nodes, name=scenario.key)
    items, array = scenario.inputs(n_items)
    columns = _columns(nodes, pipeline, items, array)

    progress("checking outputs... ")
    await check_outputs(scenario.title, columns, plain_loop(nodes, items),
                        np.asarray(plain_loop(nodes, array)))
    progress(f"warm-up x{warmup}... ")
    for _ in range(warmup):
        for column in columns:
            await _outputs(column)
    progress(f"timing {len(columns)} columns x {iterations}... ")
    gc.collect()
    samples: dict[str, list[int]] = {c.key: [] for c in columns}
    for _ in range(iterations):
        for column in columns:
            samples[column.key].append(await _time_once(column))

    stats = {key: summarize(s, n_items, len(nodes)) for key, s in samples.items()}
    python, loop, loop_numpy = stats["python"], stats["plain_loop"], stats["plain_loop_numpy"]
    speedups = {}
    for key, cell in stats.items():
        speedups[key] = {
            "vs_python_executor": _ratio(python, cell),
            "vs_plain_loop": _ratio(loop, cell),
            "vs_plain_loop_numpy": _ratio(loop_numpy, cell),
        }
    seed = SEED_PUBLISHED.get(scenario.key)
    return {
        "key": scenario.key,
        "name": scenario.title,
        "manifest": f"examples/manifests/{scenario.manifest}",
        "nodes": len(nodes),
        "items": n_items,
        "runtimes": stats,
        "speedups": speedups,
        "seed_published": None if seed is None or n_items != scenario.items else {
            "cpython_ms": seed[0], "rust_ms": seed[1], "speedup": seed[2],
        },
    }


# --------------------------------------------------------------------------------- reporting


def _fmt_time(us: float) -> str:
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    if us >= 100:
        return f"{us:.0f} us"
    if us >= 10:
        return f"{us:.1f} us"
    return f"{us:.2f} us"


def _fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.0f}x" if r >= 100 else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def _fmt_rate(r: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if r >= scale:
            return f"{r / scale:.2f}{unit}"
    return f"{r:.0f}"


HEADERS = ("column", "median", "p95", "p99", "min", "items/s", "ns/node/item", "vs Python exec",
           "vs plain loop")


def _cell_row(key: str, cell: dict, speedups: dict) -> tuple[str, ...]:
    return (COLUMNS[key], _fmt_time(cell["median_us"]), _fmt_time(cell["p95_us"]),
            _fmt_time(cell["p99_us"]), _fmt_time(cell["min_us"]), _fmt_rate(cell["items_per_s"]),
            f"{cell['ns_per_node_item']:.1f}", _fmt_ratio(speedups["vs_python_executor"]),
            _fmt_ratio(speedups["vs_plain_loop"]))


def text_table(comparison: dict) -> str:
    rows = [_cell_row(k, c, comparison["speedups"][k]) for k, c in comparison["runtimes"].items()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    line = lambda r: "  " + "  ".join(  # noqa: E731
        v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
    title = f"{comparison['name']}: {comparison['nodes']} nodes x {comparison['items']} items"
    return "\n".join([title, line(HEADERS), *(line(r) for r in rows)])


def markdown_tables(report: dict) -> str:
    cfg = report["benchmark_config"]
    out = [f"Medians of {cfg['iterations']} timed runs after {cfg['warmup']} warm-up runs per column.",
           "", "| scenario | " + " | ".join(HEADERS) + " |",
           "|---|" + "---|" + "---:|" * (len(HEADERS) - 1)]
    for comp in report["comparisons"]:
        for key, cell in comp["runtimes"].items():
            out.append(f"| {comp['name']} | " + " | ".join(_cell_row(key, cell, comp["speedups"][key])) + " |")
    out += ["", "Summary beside the seed's published table (the seed: other hardware, Windows, and a "
            "Python executor that spent ~60 us per node per item on queues, threads and logging):", "",
            "| scenario | Python executor | native, list | native, numpy | plain loop, list | "
            "native list vs Python exec | native list vs plain loop | native numpy vs plain loop | "
            "seed CPython | seed Rust | seed speedup |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for comp in report["comparisons"]:
        r, s = comp["runtimes"], comp["speedups"]
        seed = comp["seed_published"]
        seed_cells = (f"{seed['cpython_ms']:.2f} ms | {seed['rust_ms']:.2f} ms | {seed['speedup']:.1f}x"
                      if seed else "- | - | -")
        out.append(
            f"| {comp['name']} | {_fmt_time(r['python']['median_us'])} | "
            f"{_fmt_time(r['native']['median_us'])} | {_fmt_time(r['native_numpy']['median_us'])} | "
            f"{_fmt_time(r['plain_loop']['median_us'])} | "
            f"{_fmt_ratio(s['native']['vs_python_executor'])} | {_fmt_ratio(s['native']['vs_plain_loop'])} | "
            f"{_fmt_ratio(s['native_numpy']['vs_plain_loop'])} | {seed_cells} |")
    if report.get("memory"):
        out += ["", memory_markdown(report["memory"])]
    if report.get("targets"):
        out += ["", "| target | measured | required | met |", "|---|---:|---:|---|"]
        for t in report["targets"]:
            out.append(f"| {t['name']} | {t['measured_text']} | {t['required_text']} | "
                       f"{'yes' if t['met'] else '**no**'} |")
    return "\n".join(out) + "\n"


def memory_markdown(mem: dict) -> str:
    lines = [f"Peak resident memory of one Large run over {mem['items']:,} items, each in a fresh "
             f"interpreter (MiB over the baseline after imports; {mem['results'][0]['peak_method']}):",
             "", "| runtime | input | input itself | run (peak - with input) | total (peak - baseline) "
             "| total vs Python executor (list) |", "|---|---|---:|---:|---:|---:|"]
    for r in mem["results"]:
        lines.append(f"| {r['runtime']} | {r['input']} | {r['input_mib']:.1f} | {r['run_mib']:.1f} | "
                     f"{r['total_mib']:.1f} | {r['total_fraction_of_python_list']:.2f} |")
    return "\n".join(lines)


def memory_text(mem: dict) -> str:
    lines = [f"Memory: one Large run over {mem['items']:,} items, fresh interpreter each "
             f"(MiB over the baseline after imports)",
             f"  {'runtime':8s} {'input':6s} {'input':>8s} {'run':>8s} {'total':>8s} {'vs py/list':>11s}"]
    for r in mem["results"]:
        lines.append(f"  {r['runtime']:8s} {r['input']:6s} {r['input_mib']:8.1f} {r['run_mib']:8.1f} "
                     f"{r['total_mib']:8.1f} {r['total_fraction_of_python_list']:10.2f}x")
    return "\n".join(lines)


def evaluate_targets(comparisons: list[dict], mem: dict | None) -> list[dict]:
    targets = []

    def add(name: str, measured: float, required: float, at_least: bool, unit: str = "x"):
        met = measured >= required if at_least else measured <= required
        fmt = (lambda v: f"{v:.2f}{unit}") if unit != "x" else _fmt_ratio
        targets.append({"name": name, "measured": measured, "required": required,
                        "at_least": at_least, "met": met, "measured_text": fmt(measured),
                        "required_text": ("at least " if at_least else "at most ") + fmt(required)})

    large = next((c for c in comparisons if c["key"] == "large"), None)
    if large is not None:
        s = large["speedups"]
        add("Large: native (list) vs Python executor", s["native"]["vs_python_executor"],
            TARGET_LIST_VS_PYTHON, True)
        add("Large: native (list) vs plain loop (list)", s["native"]["vs_plain_loop"],
            TARGET_LIST_VS_LOOP, True)
        add("Large: native (numpy) vs plain loop (list)", s["native_numpy"]["vs_plain_loop"],
            TARGET_NUMPY_VS_LOOP, True)
        add("Large: native (numpy) vs plain loop (numpy)", s["native_numpy"]["vs_plain_loop_numpy"],
            TARGET_NUMPY_VS_LOOP, True)
    if mem:
        for r in mem["results"]:
            if r["runtime"] == "native":
                add(f"Memory: native ({r['input']}) total / Python executor (list) total",
                    r["total_fraction_of_python_list"], TARGET_MEMORY_FRACTION, False, unit="")
    return targets


def machine_description() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "remotemedia": __version__,
    }


# -------------------------------------------------------------------------------------- driver


def _selected(keys: str | None) -> list[Scenario]:
    if not keys:
        return list(SCENARIOS)
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    known = {s.key: s for s in SCENARIOS}
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[k] for k in wanted]


def _items_for(scenario: Scenario, args) -> int:
    if args.items is not None:
        return args.items
    if args.items_scale == "small":
        return max(2, scenario.items // 10)
    return scenario.items


async def run_comparison(args, log=None) -> dict:
    """Runs what ``args`` selects; returns the report (the JSON document)."""
    log = log or (lambda text, end="\n": print(text, end=end, flush=True))
    scenarios = _selected(args.scenarios)
    comparisons = []
    for i, scenario in enumerate(scenarios, 1):
        n_items = _items_for(scenario, args)
        log(f"[{i}/{len(scenarios)}] {scenario.title} ({n_items} items): ", end="")
        t0 = time.perf_counter()
        comparison = await compare_scenario(scenario, n_items, args.iterations, args.warmup,
                                            lambda text: log(text, end=""))
        log(f"done in {time.perf_counter() - t0:.1f} s")
        comparisons.append(comparison)
        log(text_table(comparison))

    mem = None
    if args.memory:
        log(f"[memory] Large over {args.memory_items:,} items, one fresh interpreter per runtime... ", end="")
        results = memory.measure(args.memory_items)
        python_list = next(r for r in results if r["runtime"] == "python" and r["input"] == "list")
        for r in results:
            r["total_fraction_of_python_list"] = r["total_mib"] / python_list["total_mib"]
            r["run_fraction_of_python_list"] = (r["run_mib"] / python_list["run_mib"]
                                                if python_list["run_mib"] > 0 else None)
        mem = {"scenario": "large", "items": args.memory_items, "results": results}
        log("done")
        log(memory_text(mem))

    return {
        "benchmark_config": {
            "iterations": args.iterations,
            "warmup": args.warmup,
            "items_scale": "custom" if args.items is not None else args.items_scale,
            "timer": "time.perf_counter_ns, one run per sample, columns interleaved per round",
            "columns": COLUMNS,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_description(),
        },
        "comparisons": comparisons,
        "memory": mem,
        "targets": evaluate_targets(comparisons, mem),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this tool (the ``remotemedia bench`` command has the same)."""
    parser.add_argument("--iterations", type=int, default=100, help="timed runs per column (100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per column first (10)")
    parser.add_argument("--short", action="store_true",
                        help=f"the short mode of scripts/run.sh: {SHORT['iterations']} iterations "
                             f"after {SHORT['warmup']} warm-up runs")
    parser.add_argument("--scenarios", metavar="KEY,...",
                        help="a subset: " + ", ".join(s.key for s in SCENARIOS))
    parser.add_argument("--items-scale", choices=("full", "small"), default="full",
                        help="full: the seed's item counts; small: a tenth of them (for tests)")
    parser.add_argument("--items", type=int, help="run every scenario over this many items instead")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON (the seed's shape)")
    parser.add_argument("--markdown", metavar="PATH", help="write the Markdown tables ('-': stdout)")
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True,
                        help="measure peak memory of one Large run (default: on)")
    parser.add_argument("--memory-items", type=int, default=1_000_000,
                        help="items of the memory run (1,000,000)")
    parser.add_argument("--check-targets", action="store_true",
                        help="exit with status 2 when a target is not met")


def run_from_args(args) -> int:
    if args.short:
        args.iterations, args.warmup = SHORT["iterations"], SHORT["warmup"]
    if args.iterations < 1 or args.warmup < 0:
        raise SystemExit("--iterations must be at least 1 and --warmup at least 0")
    try:
        report = asyncio.run(run_comparison(args))
    except OutputMismatch as exc:
        print(f"\nSTOPPED: the runtimes disagree, so nothing is compared.\n{exc}", file=sys.stderr)
        return 1

    print(_summary_text(report))
    if report["targets"]:
        print("\nTargets (issue 3):")
        for t in report["targets"]:
            mark = "met" if t["met"] else "NOT MET"
            print(f"  {t['name']:62s} {t['measured_text']:>7s}  ({t['required_text']})  {mark}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    if args.markdown:
        text = markdown_tables(report)
        if args.markdown == "-":
            sys.stdout.write("\n" + text)
        else:
            with open(args.markdown, "w", encoding="utf-8") as f:
                f.write(text)
    if args.check_targets and not all(t["met"] for t in report["targets"]):
        return 2
    return 0


def _summary_text(report: dict) -> str:
    """The seed's table, our figures: one line per scenario."""
    head = (f"\n{'scenario':24s} {'Python exec':>11s} {'native':>10s} {'speedup':>8s} "
            f"{'plain loop':>11s} {'vs loop':>8s} {'native np':>10s} {'vs loop':>8s}")
    lines = [head]
    for c in report["comparisons"]:
        r, s = c["runtimes"], c["speedups"]
        lines.append(
            f"{c['name']:24s} {_fmt_time(r['python']['median_us']):>11s} "
            f"{_fmt_time(r['native']['median_us']):>10s} {_fmt_ratio(s['native']['vs_python_executor']):>8s} "
            f"{_fmt_time(r['plain_loop']['median_us']):>11s} {_fmt_ratio(s['native']['vs_plain_loop']):>8s} "
            f"{_fmt_time(r['native_numpy']['median_us']):>10s} {_fmt_ratio(s['native_numpy']['vs_plain_loop']):>8s}")
    cfg = report["benchmark_config"]
    lines.append(f"(medians of {cfg['iterations']} runs after {cfg['warmup']} warm-up runs; "
                 "'native np' is the same run on a numpy array; ratios are against the list forms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m remotemedia.benchmarks.compare_runtimes",
        description="The seed's runtime comparison, with honest baselines.")
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
