"""What the native runtime's PythonNode (src/python/python_node.cpp) needs to run one Python node
for one run: the node's methods classified once, hooks with the Python executor's error notes, and
the async kinds driven on the runtime's own event loop.

The plain, generator and batch kinds the C++ side calls directly, item by item under one GIL
acquisition per batch; everything async comes back here.
"""

from __future__ import annotations

from typing import Any, Sequence

from remotemedia.core import async_runner
from remotemedia.core.executor import RUNNER_KINDS, Outcome, _call_hook, _checked, _runner, process_runner
from remotemedia.core.node import Node

__all__ = ["NativeStage"]


def _finish(coroutine) -> Any:
    """Drive a coroutine that never suspends (a sync hook wrapped by _call_hook)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a synchronous hook awaited")


class NativeStage:
    __slots__ = ("node", "process", "process_kind", "_run_process", "flush", "flush_kind",
                 "_run_flush", "_async_initialize", "_async_cleanup")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.process, self._run_process = process_runner(node)
        self.process_kind = RUNNER_KINDS[self._run_process]
        self.flush = node.flush
        self._run_flush = _runner(node.flush)
        self.flush_kind = RUNNER_KINDS[self._run_flush]
        self._async_initialize = RUNNER_KINDS[_runner(node.initialize)] == "async"
        self._async_cleanup = RUNNER_KINDS[_runner(node.cleanup)] == "async"

    def initialize(self) -> None:
        self._hook(self.node.initialize, self._async_initialize)

    def cleanup(self) -> None:
        self._hook(self.node.cleanup, self._async_cleanup)

    def _hook(self, hook, is_async: bool) -> None:
        call = _call_hook(self.node, hook, is_async)  # adds "raised in initialize() of node ..."
        if is_async:
            async_runner.run(call)
        else:
            _finish(call)

    def run_async(self, items: Sequence[Any]) -> Outcome:
        """The async kinds of process: (outputs, failing index, exception or None)."""
        # Outputs checked as the executor checks them, so a too deep one fails at its own item.
        return async_runner.run(self._run_process(_checked(self.process, self._run_process), items))

    def run_async_flush(self) -> Outcome:
        flush = self.flush
        return async_runner.run(self._run_flush(_checked(lambda _: flush(), self._run_flush), (None,)))
