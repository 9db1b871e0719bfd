"""The Python executor: the reference semantics of a run (docs/SEMANTICS.md, docs/MANIFEST.md).

Execution is defined item at a time, depth first. A chain runs stage at a time over whole lists
instead, which gives the same list: outputs keep their order, and the error reported is still the
first one in item-at-a-time order, because a failing stage passes on what it produced before the
failure and an error downstream of it, on those earlier items, wins. A graph with fan-out or fan-in
runs item at a time.

Each node's methods are classified once per run (plain, coroutine, generator, async generator).
Nothing here awaits unless a node's method is a coroutine or async generator function, which lets
``run_sync`` drive a synchronous pipeline without an event loop (``PipelineRun.needs_event_loop``).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import time
from typing import Any, Awaitable, Callable, Iterable, Sequence

from remotemedia.core import graph
from remotemedia.core import registry
from remotemedia.core.items import check_nesting, input_items, run_result
from remotemedia.core.manifest import Connection, Manifest, NodeSpec
from remotemedia.core.node import Node, ToPort
from remotemedia.errors import GraphError, NodeValueError, annotate_node_exception, quoted

__all__ = ["PipelineRun", "GraphDelivery", "execute"]

Edge = tuple  # (from, to) or (from, to, from_port); a port of None is the node's only port

# What a stage runner returns: the outputs, and the failure with its position in the inputs.
Outcome = tuple[list, int, BaseException | None]
Runner = Callable[[Callable[[Any], Any], Sequence[Any]], Awaitable[Outcome]]


async def _run_plain(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    raw: list = []
    error = None
    try:
        # list.extend keeps what map produced before an exception: len(raw) is the failing index.
        raw.extend(map(fn, items))
    except Exception as exc:
        error = exc
    else:
        if len(raw) != len(items):
            # A StopIteration escaping fn ends map silently; make it an error, as PEP 479 does.
            error = RuntimeError("process raised StopIteration")
    return [r for r in raw if r is not None], len(raw), error


async def _run_coroutine(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    out: list = []
    i = 0
    try:
        for i, item in enumerate(items):
            result = await fn(item)
            if result is not None:
                out.append(result)
    except Exception as exc:
        return out, i, exc
    return out, 0, None


async def _run_generator(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    out: list = []
    i = 0
    try:
        for i, item in enumerate(items):
            out.extend(fn(item))  # keeps what was yielded before an exception
    except Exception as exc:
        return out, i, exc
    return out, 0, None


async def _run_async_generator(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    out: list = []
    i = 0
    try:
        for i, item in enumerate(items):
            async for result in fn(item):
                out.append(result)
    except Exception as exc:
        return out, i, exc
    return out, 0, None


async def _run_batch(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    """A node's ``process_batch``: one call for the whole list; a failure is reported at the
    batch's first item and emits nothing."""
    try:
        return [r for r in fn(list(items)) if r is not None], 0, None
    except Exception as exc:
        return [], 0, exc


async def _run_async_batch(fn: Callable[[Any], Any], items: Sequence[Any]) -> Outcome:
    try:
        return [r for r in await fn(list(items)) if r is not None], 0, None
    except Exception as exc:
        return [], 0, exc


def _classify(method: Callable[..., Any]) -> Runner:
    if inspect.isasyncgenfunction(method):
        return _run_async_generator
    if inspect.isgeneratorfunction(method):
        return _run_generator
    if inspect.iscoroutinefunction(method):
        return _run_coroutine
    return _run_plain


# inspect's checks cost about a microsecond each; a function's kind never changes, so remember it.
_classify_function = functools.lru_cache(maxsize=4096)(_classify)


def _runner(method: Callable[..., Any]) -> Runner:
    """The runner for a method's kind: plain, coroutine, generator or async generator."""
    try:
        return _classify_function(getattr(method, "__func__", method))
    except TypeError:  # an unhashable callable object
        return _classify(method)


_ASYNC_RUNNERS = (_run_coroutine, _run_async_generator, _run_async_batch)

# The names the native runtime's PythonNode knows the runners by (src/python/python_node.cpp).
RUNNER_KINDS = {
    _run_plain: "plain",
    _run_generator: "generator",
    _run_batch: "batch",
    _run_coroutine: "async",
    _run_async_generator: "async",
    _run_async_batch: "async",
}


def process_runner(node: Node) -> tuple[Callable[[Any], Any], Runner]:
    """The callable that processes items for ``node`` and its runner: ``process_batch`` when the
    node's class defines one, else ``process``."""
    if getattr(type(node), "process_batch", None) is not None:
        fn = node.process_batch
        return fn, (_run_async_batch if inspect.iscoroutinefunction(fn) else _run_batch)
    return node.process, _runner(node.process)


def _check_output(out: Any) -> Any:
    check_nesting(out.item if type(out) is ToPort else out)
    return out


def _checked(fn: Callable[[Any], Any], runner: Runner) -> Callable[[Any], Any]:
    """``fn`` with each output it makes checked by check_nesting, as the native runtime checks
    every value a Python node gives it; the failure is then that item's, as there."""
    if runner is _run_plain:
        return lambda item: _check_output(fn(item))
    if runner is _run_coroutine:
        async def coroutine(item):
            return _check_output(await fn(item))
        return coroutine
    if runner is _run_generator:
        return lambda item: map(_check_output, fn(item))
    if runner is _run_async_generator:
        async def generator(item):
            async for out in fn(item):
                yield _check_output(out)
        return generator
    if runner is _run_batch:
        return lambda items: [_check_output(out) for out in fn(items)]

    async def batch(items):
        return [_check_output(out) for out in await fn(items)]
    return batch


def _is_builtin(node: Node) -> bool:
    spec = registry.lookup(node.node_type)
    return spec is not None and type(node) is spec.node_class


class _Stage:
    """One node during one run, its methods classified once."""

    __slots__ = (
        "node",
        "process",
        "run_process",
        "run_flush",
        "flush_fn",
        "async_initialize",
        "async_cleanup",
        "received",
        "successors",
        "ports",
        "port_successors",
    )

    def __init__(self, node: Node) -> None:
        builtin = _is_builtin(node)
        if builtin:
            # A run's (or session's) own instance: two at once on one pipeline must not share a
            # BufferNode's items, as native runs never do. A user node's instance is the user's
            # (docs/SESSIONS.md: one session at a time when it holds state).
            node = copy.copy(node)
        self.node = node
        self.process, self.run_process = process_runner(node)
        self.run_flush = _runner(node.flush)
        flush = node.flush
        self.flush_fn = lambda _: flush()  # a runner's one-argument callable
        if not builtin:  # a user node's outputs: what the native runtime takes in
            self.process = _checked(self.process, self.run_process)
            self.flush_fn = _checked(self.flush_fn, self.run_flush)
        self.async_initialize = _runner(node.initialize) in _ASYNC_RUNNERS
        self.async_cleanup = _runner(node.cleanup) in _ASYNC_RUNNERS
        self.received = 0  # items received so far: the index of the next one
        self.successors: list[_Stage] = []
        self.ports = node.output_ports()
        # Only for nodes with several output ports (which always run item by item): port name ->
        # the stages that port feeds, in connection order. An unconnected port is a sink.
        self.port_successors: dict[str, list[_Stage]] | None = None

    @property
    def is_async(self) -> bool:
        return (
            self.async_initialize
            or self.async_cleanup
            or self.run_process in _ASYNC_RUNNERS
            or self.run_flush in _ASYNC_RUNNERS
        )

    async def process_all(self, items: Sequence[Any]) -> tuple[list, BaseException | None]:
        """Process ``items``; return the outputs and the located error, if any. On an error the
        outputs are those made before it, the ones item-at-a-time execution would have sent on."""
        outputs, failed_at, exc = await self.run_process(self.process, items)
        if len(self.ports) > 1:
            outputs, failed_at, exc = self._check_ports(outputs, failed_at, exc)
        if exc is not None:
            exc = self._locate(exc, self.received + failed_at)
        self.received += len(items)
        return outputs, exc

    def _check_ports(self, outputs: list, failed_at: int, exc: BaseException | None):
        """A multi-port node (run one item at a time) emitting on a port it does not have fails on
        that item; what it emitted before still goes on."""
        for k, out in enumerate(outputs):
            if isinstance(out, ToPort) and out.port not in self.ports:
                error = NodeValueError(
                    f"emitted on output port {quoted(str(out.port))}, which it does not have "
                    f"(its ports: {', '.join(self.ports)})"
                )
                return outputs[:k], 0, error
        return outputs, failed_at, exc

    async def flush(self) -> tuple[list, BaseException | None]:
        outputs, _, exc = await self.run_flush(self.flush_fn, (None,))
        return outputs, (None if exc is None else self._locate(exc, None))

    def _locate(self, exc: BaseException, item_index: int | None) -> BaseException:
        return annotate_node_exception(exc, self.node.name, self.node.node_type, item_index)


async def _call_hook(node: Node, hook: Callable[[], Any], is_async: bool) -> None:
    try:
        if is_async:
            await hook()
        else:
            hook()
    except Exception as exc:
        exc.add_note(f"raised in {hook.__name__}() of node '{node.name}' ({node.node_type})")
        raise


class PipelineRun:
    """One run of ``nodes``: their methods classified once, then ``execute`` (once).

    ``connections`` None makes the nodes a chain in the order given; otherwise the graph is exactly
    these (from, to) node-name pairs, which must be valid (unique names, known endpoints, no cycle:
    what ``parse_manifest`` guarantees)."""

    def __init__(self, nodes: Sequence[Node], connections: Sequence[Edge] | None = None) -> None:
        self.stages = [_Stage(n) for n in nodes]
        if connections is None:
            # A chain leaves each node by its only port (docs/MANIFEST.md, rule 21).
            for i, stage in enumerate(self.stages[:-1]):
                if len(stage.ports) > 1:
                    raise GraphError(
                        f"node {quoted(stage.node.name)} ({stage.node.node_type}) has several output ports "
                        f"({', '.join(stage.ports)}): a chain cannot continue after it",
                        path=f"$.nodes[{i}]",
                    )
            names = [s.node.name for s in self.stages]
            connections = [(a, b, None) for a, b in zip(names, names[1:])]
            self.explicit = False
        else:
            self.explicit = True
        self.connections = connections
        #: Whether the run awaits anything: some node method is ``async``. When not, the coroutine
        #: ``execute`` returns never suspends and can be driven without an event loop.
        self.needs_event_loop = any(s.is_async for s in self.stages)

    async def execute(self, items: Iterable[Any]) -> list | Any:
        """Run ``items`` and return the outputs: a list, or an array for an array input
        (``remotemedia.core.items``). Each node's ``initialize`` runs before the first item and
        its ``cleanup`` at the end, in reverse order, also after a failure."""
        item_list, like = input_items(items)
        stages = self.stages
        if not stages:
            return run_result(list(item_list), like)
        async with contextlib.AsyncExitStack() as hooks:
            for s in stages:
                await _call_hook(s.node, s.node.initialize, s.async_initialize)
                hooks.push_async_callback(_call_hook, s.node, s.node.cleanup, s.async_cleanup)
            chain = _chain_order(stages, self.connections if self.explicit else None)
            if chain is not None:
                outputs = await _run_chain(chain, item_list)
            else:
                outputs = await _run_graph(stages, self.connections, item_list)
        return run_result(outputs, like)


async def execute(
    nodes: Sequence[Node], items: Iterable[Any], connections: Sequence[Edge] | None = None
) -> list | Any:
    """``PipelineRun(nodes, connections).execute(items)``."""
    return await PipelineRun(nodes, connections).execute(items)


def _chain_order(stages: list[_Stage], connections: Sequence[Edge] | None) -> list[_Stage] | None:
    """The stages in chain order if the graph is one path through all of them, else None."""
    if any(len(s.ports) > 1 for s in stages):
        return None  # a node with several output ports routes item by item
    if connections is None:
        return stages
    if len(connections) != len(stages) - 1:
        return None
    by_name = {s.node.name: s for s in stages}
    successor = {c[0]: c[1] for c in connections}
    if len(successor) != len(connections):
        return None  # fan-out
    targets = set(successor.values())
    heads = [s for s in stages if s.node.name not in targets]
    if len(heads) != 1:
        return None
    chain = [heads[0]]
    while (name := successor.get(chain[-1].node.name)) is not None and len(chain) <= len(stages):
        chain.append(by_name[name])
    return chain if len(chain) == len(stages) else None


async def _run_chain(stages: list[_Stage], items: list) -> list:
    items, error = await _through(stages, items)
    if error is not None:
        raise error
    outputs = items
    for k, stage in enumerate(stages):
        leftovers, error = await stage.flush()
        leftovers, downstream_error = await _through(stages[k + 1 :], leftovers)
        if downstream_error is not None:
            raise downstream_error
        if error is not None:
            raise error
        outputs.extend(leftovers)
    return outputs


async def _through(stages: Sequence[_Stage], items: list) -> tuple[list, BaseException | None]:
    """Send ``items`` stage by stage through ``stages``; the error of the furthest failing stage
    wins, as it happened on an earlier item (see the module docstring)."""
    error = None
    for stage in stages:
        items, exc = await stage.process_all(items)
        if exc is not None:
            error = exc
    return items, error


async def _run_graph(stages: list[_Stage], connections: Sequence[Edge], items: list) -> list:
    result: list = []
    delivery = GraphDelivery(stages, connections, result.extend)
    for item in items:
        await delivery.item(item)
    await delivery.end()
    return result


_TO_SINK = object()  # a stack entry of GraphDelivery that hands its item to the sink

#: ``GraphDelivery.observe(stage, inputs, outputs, error, elapsed_ns)``: called after each
#: ``process`` call (``elapsed_ns`` its duration) and each ``flush`` (``inputs`` 0, ``elapsed_ns``
#: None), before what it emitted goes on.
Observer = Callable[[_Stage, int, list, "BaseException | None", "int | None"], None]


class GraphDelivery:
    """Item-at-a-time, depth-first delivery through a graph of stages (docs/SEMANTICS.md): the
    order of a graph run, one input item at a time, so that a streaming session and ``run``
    share it.

    ``item(x)`` sends one input item to each source in node order; whatever a node emits goes at
    once, on its port, to each successor of that port in connection order (from a port without
    connections, to ``sink``) before the node sees its next item. ``end()`` flushes the nodes in
    topological order; what a flush emits travels the same way. ``sink(outputs)`` receives the
    outputs that leave the graph, a list at a time, in order. The first error in item-at-a-time
    order is raised, after ``sink`` has received every output that came before it; after an
    error the delivery must not be used again. ``connections`` must form a valid graph over the
    stages (what ``PipelineRun`` holds); a chain is a graph too.
    """

    __slots__ = ("sink", "observe", "_sources", "_flush_order", "_stack")

    def __init__(
        self,
        stages: list[_Stage],
        connections: Sequence[Edge],
        sink: Callable[[list], Any],
        observe: Observer | None = None,
    ) -> None:
        # The graph helpers of remotemedia.core.graph work on a Manifest.
        manifest = Manifest(
            nodes=[NodeSpec(s.node.name, s.node.node_type, index=i) for i, s in enumerate(stages)],
            connections=[Connection(c[0], c[1], index=j) for j, c in enumerate(connections)],
        )
        by_name = {s.node.name: s for s in stages}
        for name, successors in graph.successors(manifest).items():
            by_name[name].successors = [by_name[t] for t in successors]
        for s in stages:
            if len(s.ports) > 1:
                s.port_successors = {port: [] for port in s.ports}
        for c in connections:
            stage = by_name[c[0]]
            if stage.port_successors is not None:
                port = c[2] if len(c) > 2 and c[2] is not None else stage.ports[0]
                stage.port_successors[port].append(by_name[c[1]])
        self._flush_order = [by_name[name] for name in graph.topological_order(manifest)]
        self._sources = [by_name[name] for name in graph.sources(manifest)]
        self.sink = sink
        self.observe = observe
        # Depth-first delivery with an explicit stack (a deep graph must not hit the recursion
        # limit): the top is the next (stage, item) to process. A stage's failure is pushed
        # beneath the deliveries of the outputs it made before failing, so those go on first and
        # an error they cause downstream wins, as in _through. A generator's outputs are
        # collected before they go on; the order and the winning error are the same as if each
        # went on as it was yielded.
        self._stack: list[tuple[Any, Any]] = []

    async def item(self, item: Any) -> None:
        """Deliver one input item through the graph."""
        self._stack.extend((source, item) for source in reversed(self._sources))
        await self._deliver()

    async def end(self) -> None:
        """End of input: flush every node in topological order."""
        observe = self.observe
        for stage in self._flush_order:
            outputs, exc = await stage.flush()
            if observe is not None:
                observe(stage, 0, outputs, exc, None)
            self._send(stage, outputs, exc)
            await self._deliver()

    def _send(self, stage: _Stage, outputs: list, exc: BaseException | None) -> None:
        stack = self._stack
        if exc is not None:
            stack.append((None, exc))
        if stage.port_successors is not None:  # route each output by its port
            for output in reversed(outputs):
                port, item = output if isinstance(output, ToPort) else (stage.ports[0], output)
                successors = stage.port_successors[port]
                if not successors:
                    stack.append((_TO_SINK, item))
                for successor in reversed(successors):
                    stack.append((successor, item))
            return
        if not stage.successors:
            if outputs:
                self.sink(outputs)
            return
        for output in reversed(outputs):
            for successor in reversed(stage.successors):
                stack.append((successor, output))

    async def _deliver(self) -> None:
        stack = self._stack
        observe = self.observe
        send = self._send
        while stack:
            stage, item = stack.pop()
            if stage is None:
                raise item
            if stage is _TO_SINK:
                self.sink([item])
                continue
            if observe is None:
                send(stage, *await stage.process_all((item,)))
            else:
                started = time.perf_counter_ns()
                outputs, exc = await stage.process_all((item,))
                observe(stage, 1, outputs, exc, time.perf_counter_ns() - started)
                send(stage, outputs, exc)
