"""A session that is never closed, only dropped, still cleans its nodes up, on every engine.

The native engine's NativeSession cancels itself when it is destroyed, which closes the nodes; the
Python engine did nothing for a synchronous session (the nodes' cleanup never ran) and, for an
asyncio session, let its waiting worker task be collected ("Task was destroyed but it is
pending!"), so an async cleanup was never awaited. Each case drops a session in some state and
compares what the nodes recorded across the engines.
"""

from __future__ import annotations

import asyncio
import gc
import time

import pytest
from lifecycle_node import Lifecycle

from remotemedia import Pipeline, _native
from remotemedia.core.session import Session, SyncSession

_module = _native.runtime_module()
native_only = pytest.mark.skipif(
    _module is None or not hasattr(_module, "NativeSession"), reason="remotemedia._runtime.NativeSession is missing"
)
ENGINES = ["python", pytest.param("native", marks=native_only), pytest.param("native-threaded", marks=native_only)]
EXPECTED = [("initialize", "a"), ("initialize", "b"), ("cleanup", "b"), ("cleanup", "a")]


class AsyncLifecycle(Lifecycle):
    """The same, with a cleanup that really suspends."""

    async def cleanup(self):
        await asyncio.sleep(0.001)
        self.log.append(("cleanup", self.name))


def pipeline(log, kind):
    cls = AsyncLifecycle if kind == "async cleanup" else Lifecycle
    return Pipeline([cls("a", log=log), cls("b", log=log)])


def engine_args(engine):
    return ("native", True) if engine == "native-threaded" else (engine, False)


# What the consumer did before dropping the session: how many items it sent, whether it ended
# the input. The session holds outputs nobody read in every case but the first; an ended session
# closed its nodes at the end of the flush, and dropping it must not clean them up again.
STATES = {
    "opened only": (0, False),
    "items sent": (3, False),
    "full, outputs unread": (8, False),
    "input ended, outputs unread": (3, True),
}
KINDS = ["sync cleanup", "async cleanup"]


def wait_for_cleanups(log):
    deadline = time.monotonic() + 10
    while len(log) < len(EXPECTED):  # threaded: a pool thread may still be closing the nodes
        assert time.monotonic() < deadline, log
        gc.collect()
        time.sleep(0.001)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_dropped_sync_session_cleans_its_nodes_up(engine, state, kind):
    log = []
    runtime, threaded = engine_args(engine)
    n, end = STATES[state]
    s = SyncSession(pipeline(log, kind), runtime, 8, threaded=threaded).open()
    assert s.runtime == runtime
    for x in range(n):
        s.send(x)
    if end:
        s.end()
    if not end:
        assert ("cleanup", "a") not in log
    del s
    wait_for_cleanups(log)
    assert log == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_dropped_async_session_cleans_its_nodes_up(engine, state, kind, recwarn, caplog):
    log = []
    runtime, threaded = engine_args(engine)
    n, end = STATES[state]

    async def main():
        s = Session(pipeline(log, kind), runtime, 8, threaded=threaded)
        await s.open()
        for x in range(n):
            await s.send(x)
        if end:
            await s.end()
        await asyncio.sleep(0)
        if not end:
            assert ("cleanup", "a") not in log
        del s
        deadline = time.monotonic() + 10
        while len(log) < len(EXPECTED):  # the cleanups run on this loop (python) or natively
            assert time.monotonic() < deadline, log
            gc.collect()
            await asyncio.sleep(0.001)

    asyncio.run(main())
    assert log == EXPECTED
    gc.collect()
    assert not [w for w in recwarn if "destroyed" in str(w.message) or "GeneratorExit" in str(w.message)]
    assert "Task was destroyed" not in caplog.text  # asyncio logs it when a pending task is collected


@pytest.mark.parametrize("engine", ENGINES)
def test_a_dropped_sync_session_that_failed_is_collected_with_its_nodes_cleaned_up_once(engine):
    log = []
    runtime, threaded = engine_args(engine)

    class FailOnTwo(Lifecycle):
        def process(self, x):
            if x == 2:
                raise ValueError("two")
            return x

    s = SyncSession(Pipeline([Lifecycle("a", log=log), FailOnTwo("b", log=log)]), runtime, 8, threaded=threaded).open()
    got = []
    with pytest.raises(ValueError):
        for x in range(4):
            s.send(x)
        for out in s:
            got.append(out)
    wait_for_cleanups(log)
    del s
    gc.collect()
    assert log == EXPECTED
