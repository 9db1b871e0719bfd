"""The event loop the native runtime owns for Python nodes' coroutines and async generators.

A native run blocks its calling thread, which may itself be running the caller's event loop, so a
node's coroutine cannot run there. It runs on this loop instead, in a daemon thread started on first
use; the calling thread waits with the GIL released (``Future.result``). Never the caller's loop:
a node awaiting something bound to the caller's loop is not supported inside native runs. The loop
is not stopped at exit: a native run in flight may still be waiting on it while the runtime's
atexit handler lets it finish (src/python/shutdown_gate.h); the daemon thread ends with the process.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine

__all__ = ["run", "complete_without_loop"]

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _owned_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="remotemedia-async", daemon=True).start()
            _loop = loop
        return _loop


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to completion on the runtime's loop and return its result (or raise its
    exception, the same object)."""
    return asyncio.run_coroutine_threadsafe(coroutine, _owned_loop()).result()


def complete_without_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (no node method is async) to its result, without an
    event loop: the Python executor's runs and sessions of pipelines without async node methods."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the pipeline awaited an event loop although no node method is async")
