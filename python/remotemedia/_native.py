"""Access to the native runtime, the extension module ``remotemedia._runtime``.

The module is imported on first use. When it cannot be imported, pipelines run on the Python
executor and the first such run warns once per process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import warnings
from types import ModuleType
from typing import Any, Iterable

import numpy as np

from remotemedia.core.items import run_result
from remotemedia.errors import RuntimeUnavailableError

__all__ = ["runtime_module", "require_runtime", "warn_fallback", "run_compiled", "run_compiled_async", "is_quick_input", "run_threads"]

log = logging.getLogger("remotemedia")

_NOT_LOADED: Any = object()
UNSET: Any = object()  # "look the module up yourself" for functions taking an optional module
_module: ModuleType | None = _NOT_LOADED
_import_error: ImportError | None = None
_warned = False


def runtime_module() -> ModuleType | None:
    """The native module, or None when it cannot be imported."""
    global _module, _import_error
    if _module is _NOT_LOADED:
        try:
            from remotemedia import _runtime
        except ImportError as exc:
            _module, _import_error = None, exc
        else:
            _module = _runtime
    return _module


def require_runtime() -> ModuleType:
    """The native module; RuntimeUnavailableError when it cannot be imported."""
    module = runtime_module()
    if module is None:
        raise RuntimeUnavailableError(
            f"the native runtime (remotemedia._runtime) cannot be imported: {_import_error}"
        )
    return module


def warn_fallback() -> None:
    """Warn, once per process, that runs fall back to the Python executor."""
    global _warned
    if not _warned:
        _warned = True
        log.warning("the native runtime cannot be imported (%s): pipelines run on the Python executor", _import_error)
        warnings.warn(
            f"the native runtime (remotemedia._runtime) cannot be imported ({_import_error}); "
            "pipelines run on the Python executor",
            RuntimeWarning,
            stacklevel=4,  # the caller of Pipeline.run
        )


def run_compiled(compiled: Any, items: Iterable[Any], stop: Any = None) -> list | np.ndarray:
    """Run a ``_runtime.CompiledPipeline`` in this thread: a list in, a list out; an array in, an
    array out. In the main thread Ctrl-C stops it (KeyboardInterrupt, after the nodes are closed);
    a set ``stop`` (``_runtime.RunStop``) stops it from elsewhere."""
    check_signals = threading.current_thread() is threading.main_thread()
    if isinstance(items, np.ndarray) and items.ndim >= 1:
        result = compiled.run(items, stop, check_signals)
        # The column fast path returns an array; other paths return the outputs as a list.
        return result if isinstance(result, np.ndarray) else run_result(result, items)
    return compiled.run(items if type(items) is list else list(items), stop, check_signals)


# Awaited native runs run here, off the event loop's thread (the run releases the GIL). Threads
# start on demand; a bound well above the cores, because a run may wait (an async Python node
# sleeping) rather than compute.
_run_threads: concurrent.futures.ThreadPoolExecutor | None = None
_run_threads_lock = threading.Lock()


def run_threads() -> concurrent.futures.ThreadPoolExecutor:
    """The threads awaited native work runs on."""
    global _run_threads
    with _run_threads_lock:
        if _run_threads is None:
            _run_threads = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="remotemedia-run")
        return _run_threads


# An awaited run of at most this many plain scalars through native nodes only stays on the event
# loop's thread: native nodes take well under a microsecond per scalar, so it ends in far less than
# the ~40 us a worker thread's round trip costs (benchmarks/event_loop.py measures both).
QUICK_INPUT_ITEMS = 64
_SCALARS = (int, float, bool, type(None))


def is_quick_input(items: Any) -> bool:
    return type(items) is list and len(items) <= QUICK_INPUT_ITEMS and all(type(x) in _SCALARS for x in items)


async def run_compiled_async(compiled: Any, items: Iterable[Any]) -> list | np.ndarray:
    """``run_compiled`` for ``await``: the run goes on a worker thread and the event loop goes on
    while it runs; cancelling the awaiting task stops the run (its nodes are closed on that
    thread)."""
    if not (type(items) is list or isinstance(items, np.ndarray)):
        items = list(items)  # a generator is consumed here, in the caller's thread
    stop = require_runtime().RunStop()
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(run_threads(), run_compiled, compiled, items, stop)
    except asyncio.CancelledError:
        stop.set()
        log.debug("an awaited native run was cancelled: stopping it")
        raise
