"""Peak resident memory of one Large run (three PassThrough nodes) over many items.

Each measurement runs in a fresh interpreter (``python -m remotemedia.benchmarks.memory RUNTIME
INPUT N``), so one run's allocations cannot hide in another's freed-but-kept heap:

1. import numpy and remotemedia, build the pipeline and run it once on 10 items (the native module
   and every lazily made object are loaded): the baseline is the resident size now;
2. build the input (``list(range(1, N + 1))`` or ``np.arange(1, N + 1)``);
3. reset the kernel's peak counter (``/proc/self/clear_refs``, ``5``), run once through
   ``Pipeline.run``, read the peak (``VmHWM``) while the output is still alive.

Reported: the input's own size, the run's growth over the input (``peak - with input``), and the
total growth over the baseline (``peak - baseline``, input included). Linux only.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys

__all__ = ["measure", "probe"]

MiB = 1024 * 1024


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def probe(runtime: str, input_kind: str, n_items: int) -> dict:
    """Measures in this process; call it in a fresh one (``measure`` does)."""
    import numpy as np

    from remotemedia import Pipeline
    from remotemedia.benchmarks.scenarios import SCENARIOS

    scenario = next(s for s in SCENARIOS if s.key == "large")
    pipeline = Pipeline(nodes=scenario.make_nodes(), name=scenario.key)
    loop = asyncio.new_event_loop()
    warm_list, warm_array = scenario.inputs(10)
    loop.run_until_complete(
        pipeline.run(warm_array if input_kind == "numpy" else warm_list, runtime=runtime)
    )
    del warm_list, warm_array
    gc.collect()

    baseline = _status_kib("VmRSS")
    if input_kind == "numpy":
        items = np.arange(1, n_items + 1, dtype=np.int64)
    else:
        items = list(range(1, n_items + 1))
    with_input = _status_kib("VmRSS")
    exact_peak = _reset_peak()
    outputs = loop.run_until_complete(pipeline.run(items, runtime=runtime))
    if exact_peak:
        peak = _status_kib("VmHWM")
    else:  # the process's lifetime peak: an upper bound of this run's
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ok = len(outputs) == n_items and outputs[0] == 1 and outputs[-1] == n_items
    return {
        "runtime": runtime,
        "input": input_kind,
        "items": n_items,
        "outputs_ok": bool(ok),
        "peak_method": "VmHWM after clear_refs" if exact_peak else "ru_maxrss (process lifetime)",
        "baseline_mib": baseline * 1024 / MiB,
        "input_mib": (with_input - baseline) * 1024 / MiB,
        "run_mib": (peak - with_input) * 1024 / MiB,
        "total_mib": (peak - baseline) * 1024 / MiB,
    }


# (runtime, input): the Python executor on the seed's list input is the reference; the native
# runtime on the same list and on a numpy array; the Python executor on the array for completeness.
CONFIGURATIONS = (("python", "list"), ("native", "list"), ("native", "numpy"), ("python", "numpy"))


def measure(n_items: int, configurations=CONFIGURATIONS) -> list[dict]:
    """One fresh interpreter per configuration; raises if a probe fails."""
    results = []
    for runtime, input_kind in configurations:
        done = subprocess.run(
            [sys.executable, "-m", "remotemedia.benchmarks.memory", runtime, input_kind, str(n_items)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"memory probe {runtime}/{input_kind} failed ({done.returncode}):\n{done.stderr}"
            )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if not result["outputs_ok"]:
            raise RuntimeError(f"memory probe {runtime}/{input_kind}: wrong outputs")
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> None:
    runtime, input_kind, n_items = argv if argv is not None else sys.argv[1:]
    if runtime not in ("python", "native") or input_kind not in ("list", "numpy"):
        sys.exit("usage: python -m remotemedia.benchmarks.memory python|native list|numpy N")
    print(json.dumps(probe(runtime, input_kind, int(n_items))))


if __name__ == "__main__":
    main()
