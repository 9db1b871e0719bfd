"""Streaming sessions: a pipeline running on a stream of items (docs/SESSIONS.md).

``Session`` (asyncio) and ``SyncSession`` (threads, or a plain loop) are the public API; each runs
on one of two engines, chosen when the session opens:

- the native engine drives ``remotemedia._runtime.NativeSession`` (the C++ ``Session``), which
  processes items on the pushing thread or the runtime's worker pool and tells Python through a
  notify callback, called from any thread, when something changed;
- the Python engine runs the pipeline's nodes with the semantics of ``run``: one item at a time,
  depth first, through ``executor.GraphDelivery``, so the concatenated outputs equal
  ``run(all items)`` and a failure is the same exception for the same node and item index. The
  asyncio engine processes items in a worker task on the session's loop (async node methods are
  awaited there); the synchronous engine processes them in the calling thread, inside ``send``,
  ``end`` and the iteration, as the native runtime does when a session is idle.

On both, ``capacity`` bounds the items a session holds: sent and not yet processed (the one being
processed included) plus outputs not yet consumed. ``send`` waits while the session holds
``capacity`` items; the next item is taken only while the total is at most ``capacity``, so one
item's expansion is the most it can exceed it by.

``send``/``try_send`` after ``end`` or ``cancel`` raise ``SessionClosedError``; after a node error
they raise that error. Iterating a cancelled session stops; a cancel after a node's failure (or
after the flush) leaves the outcome as it was, so that failure is still raised. Leaving ``async
with`` (or ``with``)
normally raises the session's error if the consumer has not received it (an error never passes
silently). The nodes' cleanups run as in ``run``, and one that raises replaces the outcome (a
node's error becomes its ``__context__``); a failure is reported once they have all run.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Iterable, Iterator

from remotemedia import _native
from remotemedia.core import async_runner
from remotemedia.core.executor import GraphDelivery, PipelineRun, _call_hook, _Stage
from remotemedia.core.items import check_nesting
from remotemedia.core.histogram import LogHistogram
from remotemedia.errors import RemoteMediaError

if TYPE_CHECKING:  # pragma: no cover
    from remotemedia.core.pipeline import Pipeline

log = logging.getLogger("remotemedia")

__all__ = ["Session", "SyncSession", "SessionClosedError", "stream", "stream_sync"]

_RUNTIMES = ("auto", "native", "python")
_perf_ns = time.perf_counter_ns
# The worker tasks of open asyncio sessions of the Python engine. The loop holds a task only while
# it is scheduled: a worker waiting for items would otherwise be collected with an abandoned
# session (its coroutine closed, the nodes' async cleanups never awaited) instead of being cancelled.
_live_workers: set[asyncio.Task] = set()


class SessionClosedError(RemoteMediaError, RuntimeError):
    """An item was sent to a session after its end of input or its cancellation."""


def _check_arguments(runtime: str, capacity: int) -> None:
    if runtime not in _RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(_RUNTIMES)}; got {runtime!r}")
    if type(capacity) is not int or capacity < 1:
        raise ValueError(f"capacity must be an int of at least 1; got {capacity!r}")


def _chain_context(exc: BaseException, replaced: BaseException, handled: BaseException | None = None) -> None:
    """Make ``replaced`` the ``__context__`` at the end of ``exc``'s chain of contexts, as Python does
    for an exception raised in a ``finally`` while ``replaced`` is in flight (``run``'s exit stack
    fixes the chain the same way): a link to ``handled``, an exception that was being handled where
    the cleanup ran, is replaced. Nothing when ``replaced`` is already in the chain or the link would
    close a cycle. (The native engine does the same: ``chain_context`` in
    src/python/native_session.cpp.)"""
    longest = 1000  # a chain is walked at most this far (one may already be cyclic)
    seen = replaced
    for _ in range(longest):
        if seen is None:
            break
        if seen is exc:
            return
        seen = seen.__context__
    last = exc
    for _ in range(longest):
        context = last.__context__
        if context is replaced:
            return
        if context is None or context is handled:
            last.__context__ = replaced
            return
        last = context


# ============================================================================ the Python engine


class _NodeStats:
    __slots__ = ("stage", "items_in", "items_out", "errors", "process_ns")

    def __init__(self, stage: _Stage) -> None:
        self.stage = stage
        self.items_in = 0
        self.items_out = 0
        self.errors = 0
        self.process_ns = LogHistogram()

    def as_dict(self) -> dict[str, Any]:
        node = self.stage.node
        return {
            "id": node.name,
            "node_type": node.node_type,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "errors": self.errors,
            "process_us": self.process_ns.summary(1e-3, p50=0.5, p99=0.99),
        }


class _PyCore:
    """The state both Python engines share: the stages and their delivery, the queues, the
    lifecycle and the metrics. The engines decide who runs its coroutines, and when."""

    def __init__(self, pipeline: Pipeline, capacity: int) -> None:
        plan = PipelineRun(pipeline._nodes, pipeline._connections)  # a chain's GraphError here
        self.stages = plan.stages
        self.needs_event_loop = plan.needs_event_loop
        self.capacity = capacity
        # (item, send time in ns); the head stays there while it is processed, so it counts.
        self.inputs: collections.deque[tuple[Any, int]] = collections.deque()
        self.outputs: collections.deque[Any] = collections.deque()
        self.input_ended = False
        self.flushed = False  # the flush began
        self.flush_done = False  # and succeeded
        self.cancel_requested = False
        self.discard = False  # outputs are dropped: the consumer left without reading them
        # A node's failure stops the processing at once but is reported (as ``error``, with the
        # final state) only once every node's cleanup has run, since a cleanup failure replaces it.
        self.failure: BaseException | None = None
        self.error: BaseException | None = None
        self.error_seen = False
        self.state = "running"  # final ("ended", "failed", "cancelled") once the nodes are closed
        self.items_in = 0
        self.items_out = 0
        self.latency_ns = LogHistogram()
        self._cause_ns: int | None = None  # send time of the item being processed
        self.node_stats = {s: _NodeStats(s) for s in self.stages}
        self.delivery = (
            GraphDelivery(self.stages, plan.connections, self._sink, self._observe) if self.stages else None
        )
        self.initialized: list[_Stage] = []  # in node order; cleaned up in reverse

    # ---------------------------------------------------------------------------- state

    @property
    def final(self) -> bool:
        return self.state != "running"

    def held(self) -> int:
        return len(self.inputs) + len(self.outputs)

    def check_send(self) -> None:
        if self.error is not None:
            self.error_seen = True
            raise self.error
        if self.cancel_requested or self.state == "cancelled":
            raise SessionClosedError("the session was cancelled")
        if self.input_ended:
            raise SessionClosedError("send after end of input")

    def accept(self, item: Any) -> None:
        check_nesting(item)  # as the native engine's conversion of the item does
        self.inputs.append((item, _perf_ns()))
        self.items_in += 1

    def take_error(self) -> BaseException:
        self.error_seen = True
        assert self.error is not None
        return self.error

    def request_cancel(self) -> bool:
        """Drop what the session holds; False when there is nothing left to cancel (it failed or
        finished already)."""
        self.inputs.clear()
        self.outputs.clear()
        if self.final or self.failure is not None or self.flush_done or self.cancel_requested:
            return False  # the outcome is the failure's or the end's (the cleanup may still fail it)
        self.cancel_requested = True
        return True

    def has_work(self) -> bool:
        """Whether the next step may run now: an item within capacity, or the flush."""
        if self.failure is not None or self.cancel_requested or self.final:
            return False
        if self.inputs:
            return self.discard or self.held() <= self.capacity
        return self.input_ended and not self.flushed

    # ------------------------------------------------------------------------ coroutines

    async def initialize(self) -> None:
        """Every node's ``initialize`` in node order; on a failure, the ``cleanup`` of those
        initialized, then the error, or a cleanup's that replaced it (as ``run`` does)."""
        try:
            for s in self.stages:
                await _call_hook(s.node, s.node.initialize, s.async_initialize)
                self.initialized.append(s)
        except BaseException as exc:
            error = await self._cleanup(exc)
            if error is exc:
                raise
            context = error.__context__  # raising it here would make ``exc`` its context
            try:
                raise error
            except BaseException:
                error.__context__ = context
                raise

    async def step(self) -> None:
        """Process the item at the head of the input queue, or flush at end of input."""
        if self.inputs:
            item, sent = self.inputs[0]
            self._cause_ns = sent
            try:
                if self.delivery is None:
                    self._sink([item])  # no nodes: the item is the output, as in run
                else:
                    await self.delivery.item(item)
            except Exception as exc:
                self._fail(exc)
            finally:
                self._cause_ns = None
                if self.inputs:
                    self.inputs.popleft()
            if self.failure is not None:
                self.inputs.clear()
        elif self.input_ended and not self.flushed:
            self.flushed = True
            try:
                if self.delivery is not None:
                    await self.delivery.end()
            except Exception as exc:
                self._fail(exc)
            else:
                self.flush_done = True

    async def close(self) -> None:
        """Every initialized node's ``cleanup``, in reverse order (all of them, also after a
        failure), then the outcome, as ``run`` decides it: a cleanup failure replaces the node's
        failure (which becomes its ``__context__``) or fails a session that ended cleanly; a
        cancellation stands. Items sent meanwhile are dropped."""
        error = await self._cleanup(self.failure)
        self.inputs.clear()
        if self.cancel_requested:
            self.state = "cancelled"
        elif error is not None:
            self.error = error
            self.state = "failed"
            # A string, not the exception: a kept log record must not keep the session alive
            # through the error's traceback.
            log.info("session failed (Python engine): %s", f"{type(error).__name__}: {error}")
        else:
            self.state = "ended"
        if error is not None and not isinstance(error, Exception):
            raise error  # KeyboardInterrupt and the like, from a cleanup

    async def _cleanup(self, error: BaseException | None) -> BaseException | None:
        """The ``cleanup`` of every initialized node, in reverse order, as ``run``'s exit stack
        calls them: returns ``error`` or the last cleanup failure, which replaces it, each replaced
        error the ``__context__`` of the one replacing it."""
        handled = sys.exc_info()[1]  # what a cleanup's exception gets as context, unrelated to us
        while self.initialized:
            stage = self.initialized.pop()
            try:
                await _call_hook(stage.node, stage.node.cleanup, stage.async_cleanup)
            except BaseException as exc:  # noqa: BLE001 - replaces the outcome, as in a `finally`
                if error is not None:
                    _chain_context(exc, error, handled)
                error = exc
        return error

    # --------------------------------------------------------------------------- hooks

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc

    def _sink(self, outputs: list) -> None:
        n = len(outputs)
        self.items_out += n
        if self._cause_ns is not None:
            self.latency_ns.record_many(_perf_ns() - self._cause_ns, n)
        if not self.discard:
            self.outputs.extend(outputs)

    def _observe(self, stage: _Stage, n_in: int, outputs: list, exc: BaseException | None, elapsed: int | None) -> None:
        stats = self.node_stats[stage]
        stats.items_in += n_in
        stats.items_out += len(outputs)
        if exc is not None:
            stats.errors += 1
        if elapsed is not None:
            stats.process_ns.record(elapsed)

    # ------------------------------------------------------------------------- metrics

    def metrics(self) -> dict[str, Any]:
        latency = self.latency_ns.summary(1e-3, p50=0.5, p99=0.99, p999=0.999)
        latency["count"] = self.latency_ns.count
        return {
            "state": self.state,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "queued": len(self.inputs),
            "pending_outputs": len(self.outputs),
            "latency_us": latency,
            "nodes": [self.node_stats[s].as_dict() for s in self.stages],
        }


class _PyAsyncEngine:
    """The Python engine under asyncio: a worker task on the session's loop processes the
    items; ``send`` queues them, the consumer takes outputs. When no node method is async, a
    step never suspends, so ``send`` processes its item itself when the worker is idle (the
    lowest latency, as the native session does)."""

    runtime = "python"

    def __init__(self, core: _PyCore) -> None:
        self.core = core
        self._inline = not core.needs_event_loop
        self._worker: asyncio.Task | None = None
        self._started = False
        self._closing = False  # the worker is closing the nodes: it must not be interrupted

    async def open(self) -> None:
        self._wake = asyncio.Event()  # the worker's
        self._ready = asyncio.Event()  # the consumer's: outputs, or the end
        self._space = asyncio.Event()  # the senders': room, or the end
        await self.core.initialize()
        self._loop = asyncio.get_running_loop()
        self._worker = self._loop.create_task(self._work(), name="remotemedia-session")
        _live_workers.add(self._worker)
        self._worker.add_done_callback(_live_workers.discard)

    async def _work(self) -> None:
        self._started = True
        core = self.core
        try:
            while not core.cancel_requested and core.failure is None:
                if core.has_work():
                    await core.step()
                    self._space.set()
                    self._ready.set()
                elif core.flushed:
                    break
                else:
                    self._wake.clear()
                    await self._wake.wait()
        except asyncio.CancelledError:
            core.request_cancel()  # cancel() asked for this; so does a loop shutting down
        finally:
            self._closing = True
            try:
                await core.close()
            finally:
                self._space.set()
                self._ready.set()

    # --------------------------------------------------------------------- producer side

    async def send(self, item: Any) -> None:
        core = self.core
        while True:
            core.check_send()
            if core.held() < core.capacity:
                break
            self._space.clear()
            await self._space.wait()
        self._accept(item)

    def try_send(self, item: Any) -> bool:
        core = self.core
        core.check_send()
        if core.held() >= core.capacity:
            return False
        self._accept(item)
        return True

    def _accept(self, item: Any) -> None:
        core = self.core
        core.accept(item)
        if self._inline and len(core.inputs) == 1 and core.has_work():
            # The worker is idle (it never suspends inside a step here): process the item now.
            async_runner.complete_without_loop(core.step())
            self._ready.set()
            self._space.set()
            if core.failure is None:
                return  # else the worker closes the nodes
        self._wake.set()

    async def end(self) -> None:
        core = self.core
        if not core.cancel_requested and core.failure is None:
            core.input_ended = True
            self._wake.set()

    # --------------------------------------------------------------------- consumer side

    async def next(self) -> Any:
        core = self.core
        while True:
            if core.outputs:
                item = core.outputs.popleft()
                self._wake.set()
                self._space.set()
                return item
            if core.error is not None:
                raise core.take_error()
            if core.final or core.cancel_requested:
                raise StopAsyncIteration
            self._ready.clear()
            try:
                await self._ready.wait()
            except asyncio.CancelledError:
                self.cancel_nowait()
                raise

    # ------------------------------------------------------------------------- lifecycle

    def cancel_nowait(self) -> None:
        if self.core.request_cancel():
            worker = self._worker
            if worker is not None and self._started and not self._closing:
                worker.cancel()
        self._wake.set()
        self._ready.set()
        self._space.set()

    async def _wait_closed(self) -> None:
        if self._worker is not None and not self._worker.done():
            # asyncio.wait does not cancel the worker when this task is cancelled.
            await asyncio.wait((self._worker,))

    def abandon(self) -> None:
        """The session was collected without being closed: cancel it on its loop (the garbage
        collector may run on any thread), so the worker cleans the nodes up."""
        worker = self._worker
        if worker is None or worker.done():
            return
        try:
            self._loop.call_soon_threadsafe(self.cancel_nowait)
        except RuntimeError:  # the loop is closed: its shutdown cancelled the worker already
            pass

    async def cancel(self) -> None:
        self.cancel_nowait()
        await self._wait_closed()

    def failed(self) -> bool:
        return self.core.error is not None

    async def close(self) -> None:
        """End of input, outputs dropped, wait until the nodes are closed; the session's error
        if the consumer has not seen it."""
        core = self.core
        await self.end()
        core.discard = True
        core.outputs.clear()
        self._wake.set()
        try:
            await self._wait_closed()
        except asyncio.CancelledError:
            self.cancel_nowait()
            raise
        if core.error is not None and not core.error_seen:
            raise core.take_error()

    def metrics(self) -> dict[str, Any]:
        return self.core.metrics()


class _PySyncEngine:
    """The Python engine for synchronous callers: items are processed in the calling thread,
    inside ``send``, ``end`` and the iteration (one thread at a time, the lock released while a
    node runs). Async node methods run on the runtime's own event loop (``async_runner``)."""

    runtime = "python"

    def __init__(self, core: _PyCore) -> None:
        self.core = core
        self._cond = threading.Condition()
        self._busy = False  # a thread is running the nodes
        self._gen = 0  # counts state changes, for waiters
        self._drive = async_runner.run if core.needs_event_loop else async_runner.complete_without_loop

    def open(self) -> None:
        self._drive(self.core.initialize())

    def _changed(self) -> None:
        self._gen += 1
        self._cond.notify_all()

    def _pump(self) -> bool:
        """With the lock held: run every step that may run now, and close the nodes once the
        session is over. False when there was nothing to do (or another thread is at it)."""
        core = self.core
        if self._busy or core.final:
            return False
        self._busy = True
        did = False
        try:
            while core.has_work():
                self._cond.release()
                try:
                    self._drive(core.step())
                finally:
                    self._cond.acquire()
                did = True
                self._changed()
            if core.failure is not None or core.cancel_requested or core.flushed:
                self._cond.release()
                try:
                    self._drive(core.close())
                finally:
                    self._cond.acquire()
                did = True
        finally:
            self._busy = False
            if did:
                self._changed()
        return did

    def _wait(self, deadline: float | None) -> None:
        if deadline is None:
            self._cond.wait()
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self._cond.wait(remaining):
            if time.monotonic() >= deadline:
                raise TimeoutError("the session stayed full")

    def send(self, item: Any, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        core = self.core
        with self._cond:
            while True:
                core.check_send()
                if core.held() < core.capacity:
                    break
                if not self._pump():
                    self._wait(deadline)
            core.accept(item)
            self._pump()

    def try_send(self, item: Any) -> bool:
        core = self.core
        with self._cond:
            core.check_send()
            if core.held() >= core.capacity:
                return False
            core.accept(item)
            self._pump()
            return True

    def end(self) -> None:
        core = self.core
        with self._cond:
            if not core.cancel_requested and core.failure is None:
                core.input_ended = True
                self._pump()

    def _poll(self) -> tuple[str, Any]:
        core = self.core
        while True:
            if core.outputs:
                item = core.outputs.popleft()
                self._changed()
                return "item", item
            if core.error is not None:
                raise core.take_error()
            if core.final or core.cancel_requested:
                return "end", None
            if not self._pump():
                return "empty", None

    def poll(self) -> tuple[str, Any]:
        """("item", x), ("empty", None) or ("end", None), without waiting (but running the
        nodes when they can run); raises the session's error after the outputs before it."""
        with self._cond:
            return self._poll()

    def generation(self) -> int:
        """A counter of state changes, for ``wait_change``."""
        return self._gen

    def wait_change(self, since: int, timeout: float | None = None) -> None:
        """Wait until the state changed after ``generation()`` returned ``since``."""
        with self._cond:
            if self._gen == since and not self._pump():
                self._cond.wait(timeout)

    def next(self) -> Any:
        with self._cond:
            while True:
                since = self._gen
                kind, value = self._poll()
                if kind == "item":
                    return value
                if kind == "end":
                    raise StopIteration
                if self._gen == since:
                    self._cond.wait()

    def failed(self) -> bool:
        return self.core.error is not None

    def cancel(self) -> None:
        core = self.core
        with self._cond:
            core.request_cancel()
            self._changed()
            while not core.final:
                if not self._pump():
                    self._cond.wait()

    def abandon(self) -> None:
        """The session was collected without being closed: cancel it, as the native engine's
        NativeSession does when it is destroyed, so every initialized node's cleanup runs."""
        if self.core.final:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.cancel()
            return
        if self.core.needs_event_loop:
            # Async hooks run on the runtime's loop, and this thread may be that loop's (or
            # another loop's, which must not block): cancel from a thread of its own.
            threading.Thread(target=self.cancel, name="remotemedia-session-abandoned", daemon=True).start()
        else:
            self.cancel()

    def close(self) -> None:
        core = self.core
        with self._cond:
            if not core.cancel_requested and core.failure is None:
                core.input_ended = True
            core.discard = True
            core.outputs.clear()
            while not core.final:
                if not self._pump():
                    self._cond.wait()
        if core.error is not None and not core.error_seen:
            raise core.take_error()

    def metrics(self) -> dict[str, Any]:
        return self.core.metrics()


# ============================================================================ the native engine


class _NativeBase:
    """What both native engines share. Once the session is over (closed or cancelled), the engine
    keeps its final metrics and error and lets the NativeSession go at once. (The session's error
    holds the Python exception, whose traceback holds frames that hold this engine: a cycle through
    C++, which the NativeSession reports to the garbage collector, so a failed session that is
    never closed is collected too; letting go does not wait for a collection.)"""

    runtime = "native"

    def __init__(self, compiled: Any, capacity: int, threaded: bool) -> None:
        self._compiled = compiled
        self._capacity = capacity
        self._threaded = threaded
        self._native: Any = None
        self._ended = False
        self._cancelled = False
        self._error: BaseException | None = None  # the session's error, once raised here
        self._error_seen = False
        self._finished = False  # pop returned "end" or raised the error
        self._final_metrics: dict[str, Any] | None = None

    def _create(self, notify: Any) -> None:
        module = _native.require_runtime()
        native = module.NativeSession(self._compiled, self._capacity, self._threaded)
        native.set_notify(notify)
        self._native = native

    def _release(self) -> None:
        """The session is over: keep what is left to say, drop the NativeSession."""
        native = self._native
        if native is not None:
            self._final_metrics = native.metrics()
            native.set_notify(None)
            self._native = None
            self._wake_all()  # whoever waits sees the end

    def _wake_all(self) -> None:
        raise NotImplementedError

    def _check_send(self) -> None:
        if self._error is not None:
            self._error_seen = True
            raise self._error
        if self._cancelled:
            raise SessionClosedError("the session was cancelled")
        if self._ended or self._native is None:
            raise SessionClosedError("send after end of input")

    # A node's exception keeps the frames that were running when it was raised, and their locals:
    # no frame may hold the NativeSession in a local while calling it (only ``self``).

    def _push(self, item: Any, ready: bool = False) -> Any:
        """``NativeSession.push`` (a bool), or with ``ready`` its ``push_ready`` (None or a list)."""
        if self._native is None:
            raise SessionClosedError("the session is over")
        try:
            return self._native.push_ready(item) if ready else self._native.push(item)
        except Exception as exc:
            if self._native is None and isinstance(exc, AttributeError):  # released meanwhile
                raise SessionClosedError("the session is over") from None
            self._error_seen = True
            if self._error is None and getattr(exc, "node_id", None) is not None:
                self._error = exc
            raise

    def _pop(self) -> tuple[str, Any]:
        if self._error is not None and (self._finished or self._native is None):
            self._error_seen = True
            raise self._error
        if self._cancelled or self._native is None:
            return "end", None
        try:
            kind, value = self._native.pop()
        except Exception as exc:
            if self._native is None and isinstance(exc, AttributeError):  # released meanwhile
                return "end", None
            self._error_seen = True
            self._finished = True
            self._error = exc
            log.info("session failed (native engine): %s", f"{type(exc).__name__}: {exc}")  # a string: see above
            raise
        if kind == "end":
            self._finished = True
        return kind, value

    def _end(self) -> None:
        if not self._ended and not self._cancelled and self._native is not None:
            self._ended = True
            self._native.end()

    def cancel_nowait(self) -> None:
        if not self._cancelled:
            self._cancelled = True
            if self._native is not None:
                self._native.cancel()  # returns once the nodes are closed
                self._keep_failure()
        self._release()

    def _keep_failure(self) -> None:
        """A cancel after a node's failure (or after the flush, which only a cleanup may still
        fail) leaves the outcome as it was: the error stays the session's to raise, as on the
        Python engine (docs/SESSIONS.md); the outputs before it are dropped with the cancel."""
        if self._error is not None:
            return
        while True:
            try:
                kind, _ = self._native.pop()
            except Exception as exc:
                self._error = exc
                return
            if kind != "item":
                return  # cancelled, or ended cleanly

    def abandon(self) -> None:
        """Nothing: the NativeSession cancels itself (and closes the nodes) when it is destroyed."""

    def _raise_unseen_error(self) -> None:
        """Leaving a session whose failure came before its cancel, and nobody received it."""
        if self._error is not None and not self._error_seen:
            self._error_seen = True
            raise self._error

    def metrics(self) -> dict[str, Any]:
        native = self._native
        if native is None:
            if self._final_metrics is None:
                raise RuntimeError("the session is not open")
            return dict(self._final_metrics)
        return native.metrics()

    def failed(self) -> bool:
        return self._error is not None or self.metrics()["state"] == "failed"


class _NativeAsyncEngine(_NativeBase):
    """The native session under asyncio. The notify callback comes from any thread: it hops to
    the session's loop to set the events (directly when it is already on the loop's thread, as
    when the pushing call processed the item itself)."""

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        ready = self._ready = asyncio.Event()
        space = self._space = asyncio.Event()

        wake_pending = False  # read and written with the GIL held

        def wake() -> None:
            nonlocal wake_pending
            wake_pending = False  # before the events: news after this schedules another wake
            ready.set()
            space.set()

        def notify() -> None:
            nonlocal wake_pending
            try:
                if threading.get_ident() == loop_thread:
                    wake()
                elif not wake_pending:  # one hop to the loop covers all news until it runs
                    wake_pending = True
                    loop.call_soon_threadsafe(wake)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

        # Opening runs the Python nodes' initialize (a model may load for seconds): off the loop.
        await loop.run_in_executor(_native.run_threads(), self._create, notify)

    async def send(self, item: Any) -> None:
        while True:
            self._check_send()
            self._space.clear()
            if self._push(item):
                return
            await self._space.wait()

    def try_send(self, item: Any) -> bool:
        self._check_send()
        return self._push(item)

    async def end(self) -> None:
        self._end()

    async def next(self) -> Any:
        while True:
            self._ready.clear()
            kind, value = self._pop()
            if kind == "item":
                self._space.set()  # room for a sender (the notify says so too; this is cheaper)
                return value
            if kind == "end":
                raise StopAsyncIteration
            try:
                await self._ready.wait()
            except asyncio.CancelledError:
                self.cancel_nowait()
                raise

    def _wake_all(self) -> None:
        self._ready.set()
        self._space.set()

    def cancel_nowait(self) -> None:
        super().cancel_nowait()
        self._wake_all()

    async def cancel(self) -> None:
        # Cancelling waits for an item in flight and runs the nodes' cleanup: off the loop.
        if self._native is not None and not self._cancelled:
            await asyncio.get_running_loop().run_in_executor(_native.run_threads(), self.cancel_nowait)
        else:
            self.cancel_nowait()

    async def close(self) -> None:
        error_seen = self._error_seen
        self._end()
        try:
            while not self._finished and not self._cancelled:
                await self.next()  # dropped; cancels the session if this task is cancelled
        except StopAsyncIteration:
            pass
        except Exception:
            if not error_seen:
                raise
        finally:
            if self._finished or self._cancelled:
                self._release()
        self._raise_unseen_error()


class _NativeSyncEngine(_NativeBase):
    """The native session for synchronous callers: waits for the session's news in native code
    (``NativeSession.wait_change``, the GIL released), with a generation counter so that news
    between a try and the wait is not lost; the session's notify costs no Python call."""

    def open(self) -> None:
        self._create(None)

    def _wait(self, since: int, deadline: float | None) -> None:
        native = self._native
        if native is None or native.generation() != since:
            return  # over (whoever waits sees it), or news already
        if deadline is None:
            native.wait_change(since)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the session stayed full")
        native.wait_change(since, remaining)

    def generation(self) -> int:
        native = self._native
        return -1 if native is None else native.generation()

    def send(self, item: Any, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._check_send()
            since = self.generation()
            if self._push(item):
                return
            self._wait(since, deadline)

    def try_send(self, item: Any) -> bool:
        self._check_send()
        return self._push(item)

    def end(self) -> None:
        self._end()

    def poll(self) -> tuple[str, Any]:
        return self._pop()  # a pop that makes room notifies: a waiting sender retries

    def try_send_ready(self, item: Any) -> list | None:
        """``try_send``, then the outputs ready (None, nothing sent, when the session is full):
        one native call (``NativeSession.push_ready``)."""
        self._check_send()
        return self._push(item, ready=True)

    def wait_change(self, since: int, timeout: float | None = None) -> None:
        native = self._native
        if native is not None:
            native.wait_change(since, timeout)

    def next(self) -> Any:
        while True:
            since = self.generation()
            kind, value = self._pop()
            if kind == "item":
                return value
            if kind == "end":
                raise StopIteration
            self._wait(since, None)

    def _release(self) -> None:
        native = self._native
        super()._release()
        if native is not None:
            native.wake()  # after the release: a woken waiter sees the session over

    def _wake_all(self) -> None:
        native = self._native
        if native is not None:
            native.wake()

    def cancel(self) -> None:
        self.cancel_nowait()
        self._wake_all()

    def close(self) -> None:
        error_seen = self._error_seen
        self._end()
        try:
            while not self._finished and not self._cancelled:
                try:
                    self.next()
                except StopIteration:
                    break
        except Exception:
            if not error_seen:
                raise
        finally:
            if self._finished or self._cancelled:
                self._release()
        self._raise_unseen_error()


# ============================================================================ the public API


class _SessionFront:
    """What Session and SyncSession share: the arguments, the engine chosen at open (the Python
    executor's or the native one), and the calls that do not wait."""

    _PY_ENGINE: Any = None
    _NATIVE_ENGINE: Any = None
    _NOT_OPEN = ""
    # threaded=None: whether a native session whose pipeline has Python nodes processes its items
    # on the worker pool. Under asyncio it does, since a Python node's item may take any time and
    # must not hold up the event loop; native nodes take microseconds, so they stay inline.
    _AUTO_THREADED = False

    def __init__(
        self, pipeline: Pipeline, runtime: str = "auto", capacity: int = 64, *, threaded: bool | None = None
    ) -> None:
        _check_arguments(runtime, capacity)
        self._pipeline = pipeline
        self._runtime = runtime
        self.capacity = capacity
        self.threaded = threaded
        self._engine: Any = None

    @property
    def runtime(self) -> str | None:
        """"native" or "python" once open; None before."""
        return None if self._engine is None else self._engine.runtime

    def _new_engine(self) -> Any:
        if self._engine is not None:
            raise RuntimeError("a session opens once")
        compiled = self._pipeline._compiled(self._runtime)
        if compiled is None:
            return self._PY_ENGINE(_PyCore(self._pipeline, self.capacity))
        threaded = self.threaded
        if threaded is None:  # the default: see _AUTO_THREADED
            threaded = self._AUTO_THREADED and not self._pipeline._native_plan_is_all_native
        return self._NATIVE_ENGINE(compiled, self.capacity, threaded)

    def _open_engine(self) -> Any:
        if self._engine is None:
            raise RuntimeError(self._NOT_OPEN)
        return self._engine

    def __del__(self) -> None:
        # A session collected without being closed is cancelled, its nodes cleaned up, on both
        # engines (docs/SESSIONS.md). The engine holds nothing of this front, so a failed session
        # whose error's traceback holds the front is still collected. At interpreter exit the
        # native engine runs no Python node code (src/python/shutdown_gate.h): neither does this.
        engine = getattr(self, "_engine", None)  # not self.__dict__: making it would resurrect a cycle
        if engine is not None and not sys.is_finalizing():
            engine.abandon()

    def try_send(self, item: Any) -> bool:
        """Send one item if the session has room; False (nothing sent) when it is full."""
        return self._open_engine().try_send(item)

    def metrics(self) -> dict[str, Any]:
        """State, counts, queue depths, end-to-end latency and per-node figures (docs/SESSIONS.md)."""
        return self._open_engine().metrics()

    def metrics_json(self) -> str:
        return json.dumps(self.metrics())


class Session(_SessionFront):
    """A pipeline running on a stream, for asyncio (docs/SESSIONS.md)::

        async with pipeline.session(runtime="auto", capacity=64) as s:
            await s.send(item)      # waits while the session holds `capacity` items
            s.try_send(item)        # False instead of waiting
            await s.end()           # end of input: the nodes flush; outputs keep coming
            async for out in s:     # outputs in order; raises a node's error; stops after end
                ...
        s.metrics()

    Leaving ``async with`` normally ends the input and waits for the session to finish (outputs
    not read are dropped; the session's error is raised if nobody received it); leaving it with an
    exception cancels the session. ``await s.cancel()`` at any time drops what the session holds
    and closes the nodes. Cancelling the task that waits for an output cancels the session.

    ``threaded=True`` (native engine only) processes every item on the runtime's worker pool
    instead of in ``send`` when the session is idle: the sending thread never runs node code, and
    sessions sent to from one thread run in parallel, at the cost of a thread hop per item. The
    default (None) is threaded when the pipeline runs Python nodes, so that no node code holds up
    the event loop; opening (initialize) and cancelling (cleanup) run off the loop's thread too.
    """

    _PY_ENGINE = _PyAsyncEngine
    _NATIVE_ENGINE = _NativeAsyncEngine
    _AUTO_THREADED = True
    _NOT_OPEN = "the session is not open: use `async with pipeline.session() as s`"

    async def open(self) -> Session:
        """Start the session (what ``async with`` does): the nodes are initialized."""
        engine = self._new_engine()
        await engine.open()
        self._engine = engine
        return self

    async def __aenter__(self) -> Session:
        return self if self._engine is not None else await self.open()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            await self.aclose()
        else:
            await self.cancel()

    async def send(self, item: Any) -> None:
        """Send one item; waits while the session holds ``capacity`` items."""
        await self._open_engine().send(item)

    async def end(self) -> None:
        """End of input: every node flushes. Idempotent."""
        await self._open_engine().end()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        return await self._open_engine().next()

    async def cancel(self) -> None:
        """Drop pending items and outputs and close the nodes. Idempotent."""
        if self._engine is not None:
            await self._engine.cancel()

    async def aclose(self) -> None:
        """End of input, then wait for the session to finish, dropping unread outputs; raises the
        session's error if the consumer has not received it."""
        await self._open_engine().close()


class SyncSession(_SessionFront):
    """A pipeline running on a stream, for synchronous callers (threads)::

        with pipeline.sync_session() as s:
            s.send(x)               # waits while full; send(x, timeout=1.0) raises TimeoutError
            s.try_send(x)           # False instead of waiting
            s.end()
            for out in s: ...

    On the Python executor the nodes run in the calling threads (in ``send``, ``end`` and the
    iteration): a single thread must read outputs as it goes, since ``send`` waits for room that
    only reading makes. ``Pipeline.stream_sync`` does that for an iterable.
    """

    _PY_ENGINE = _PySyncEngine
    _NATIVE_ENGINE = _NativeSyncEngine
    _NOT_OPEN = "the session is not open: use `with pipeline.sync_session() as s`"

    def open(self) -> SyncSession:
        engine = self._new_engine()
        engine.open()
        self._engine = engine
        return self

    def __enter__(self) -> SyncSession:
        return self if self._engine is not None else self.open()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.cancel()

    def send(self, item: Any, timeout: float | None = None) -> None:
        """Send one item; waits while the session is full (``TimeoutError`` after ``timeout``
        seconds)."""
        self._open_engine().send(item, timeout)

    def end(self) -> None:
        self._open_engine().end()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return self._open_engine().next()

    def cancel(self) -> None:
        if self._engine is not None:
            self._engine.cancel()

    def close(self) -> None:
        """End of input, then wait for the session to finish, dropping unread outputs; raises the
        session's error if nobody received it."""
        self._open_engine().close()


# ================================================================================== streams


async def stream(
    pipeline: Pipeline, items: Iterable[Any] | AsyncIterable[Any], *, runtime: str = "auto", capacity: int = 64
) -> AsyncIterator[Any]:
    """The outputs of ``items`` (an iterable or an async iterable) through a session, as they
    come: a producer task sends the items while the caller consumes. A node's error is raised
    after the outputs before it; an error of the iterable cancels the session and is raised
    here; leaving the loop early (or cancelling the consuming task) cancels the session."""
    session = Session(pipeline, runtime, capacity)
    async with session:
        failure: list[BaseException] = []

        async def produce() -> None:
            sending = False
            try:
                if hasattr(items, "__aiter__"):
                    async for item in items:  # type: ignore[union-attr]
                        sending = True
                        await session.send(item)
                        sending = False
                else:
                    for item in items:  # type: ignore[union-attr]
                        sending = True
                        await session.send(item)
                        sending = False
                await session.end()
            except SessionClosedError:
                pass  # cancelled: whoever cancelled knows why
            except Exception as exc:
                if sending and session._engine.failed():
                    return  # the session's error: the consumer receives it after the outputs
                failure.append(exc)
                await session.cancel()

        producer = asyncio.get_running_loop().create_task(produce(), name="remotemedia-stream-producer")
        try:
            async for out in session:
                yield out
            await producer
            if failure:
                raise failure[0]
        finally:
            if not producer.done():
                producer.cancel()
                await asyncio.wait((producer,))


def stream_sync(
    pipeline: Pipeline, items: Iterable[Any], *, runtime: str = "auto", capacity: int = 64
) -> Iterator[Any]:
    """The outputs of ``items`` through a synchronous session, as they come, in this thread: each
    item is sent and what is ready is yielded; when the session is full, outputs are taken until
    there is room. A node's error is raised after the outputs before it."""
    with SyncSession(pipeline, runtime, capacity) as session:
        engine = session._engine
        if engine.runtime == "native":
            yield from _stream_native_sync(session, items)
            return
        for item in items:
            while True:
                since = engine.generation()
                try:
                    sent = engine.try_send(item)
                except SessionClosedError:
                    return  # cancelled
                except Exception:
                    if not engine.failed():
                        raise
                    yield from session  # the outputs before the error, then the error
                    raise
                if sent:
                    break
                kind, out = engine.poll()
                if kind == "item":
                    yield out
                elif kind == "end":
                    return  # cancelled
                else:
                    engine.wait_change(since)
            while True:
                kind, out = engine.poll()
                if kind != "item":
                    break
                yield out
        engine.end()
        yield from session


def _stream_native_sync(session: SyncSession, items: Iterable[Any]) -> Iterator[Any]:
    """``stream_sync``'s loop on the native engine: one native call per item while the session
    has room (``push_ready``: the item sent, the outputs ready returned), the same steps as the
    general loop otherwise."""
    engine = session._engine
    send_ready = engine.try_send_ready
    for item in items:
        while True:
            since = engine.generation()
            try:
                ready = send_ready(item)
            except SessionClosedError:
                return  # cancelled
            except Exception:
                if not engine.failed():
                    raise
                yield from session  # the outputs before the error, then the error
                raise
            if ready is not None:
                break
            kind, out = engine.poll()
            if kind == "item":
                yield out
            elif kind == "end":
                return  # cancelled
            else:
                engine.wait_change(since)
        yield from ready
    engine.end()
    yield from session
