"""Pipeline: the user's handle on a graph of nodes, its manifest, and the runs."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import logging
import warnings
from typing import Any, AsyncIterable, AsyncIterator, Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from remotemedia import _native
from remotemedia.core import async_runner, registry
from remotemedia.core.executor import PipelineRun
from remotemedia.core.items import check_items_argument
from remotemedia.core.manifest import parse_manifest
from remotemedia.core.node import Node, Port
from remotemedia.core import session as _session
from remotemedia.errors import GraphError, InvalidParameterError, RuntimeUnavailableError, quoted

log = logging.getLogger("remotemedia")

__all__ = ["Pipeline", "Placement", "RUNTIMES"]

RUNTIMES = ("auto", "native", "python")


class Pipeline:
    """Nodes and how they connect: a chain in the order added, or the graph of a manifest.

    ``Pipeline(nodes=None, name=None)``; ``Pipeline("fast")`` names the pipeline (the seed's form).
    """

    def __init__(self, nodes: Iterable[Node] | str | None = None, name: str | None = None) -> None:
        if isinstance(nodes, str):
            if name is not None:
                raise TypeError("Pipeline() got the name twice: as first argument and as name=")
            nodes, name = None, nodes
        self.name = name
        #: The manifest's free-form ``metadata`` besides ``name`` (kept by from_manifest, written
        #: back by serialize).
        self.metadata: dict[str, Any] = {}
        self._warned_hosts = False
        self._nodes: list[Node] = []
        # name -> position in _nodes: duplicate ids and membership in constant time, so building a
        # pipeline of n nodes (from_manifest of a 100,000-node manifest) is linear, not quadratic
        self._index: dict[str, int] = {}
        # (from, to, from_port or None) node names; None: a chain in node order
        self._connections: list[tuple[str, str, str | None]] | None = None
        # What a run with the native runtime does, decided once per graph: a CompiledPipeline,
        # or the nodes that keep the pipeline on the Python executor.
        self._native_plan: Any = None
        self._native_plan_is_all_native = False  # no Python node in it: a few scalars run quickly
        for node in nodes or ():
            self.add_node(node)

    # ---------------------------------------------------------------------------------- graph

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self._nodes)

    @property
    def connections(self) -> tuple[tuple[str, ...], ...] | None:
        """The edges of an explicit graph, or None for a chain in node order: (from, to), or
        (from, to, port) for an edge leaving by a named output port."""
        if self._connections is None:
            return None
        return tuple((a, b) if port is None else (a, b, port) for a, b, port in self._connections)

    def _append(self, node: Node) -> None:
        if not isinstance(node, Node):
            raise TypeError(f"expected a Node, got {type(node).__name__}")
        i = self._index.get(node.name)
        if i is not None:
            raise GraphError(
                f"duplicate node id {quoted(node.name)} (already used by $.nodes[{i}])",
                path=f"$.nodes[{len(self._nodes)}].id",
            )
        self._index[node.name] = len(self._nodes)
        self._nodes.append(node)
        self._native_plan = None

    def _contains(self, node: Node) -> bool:
        i = self._index.get(node.name)
        return i is not None and self._nodes[i] is node

    def connect(self, source: Node | Port, target: Node) -> Pipeline:
        """Connect ``source`` (a node, or one of its output ports: ``router.output("neg")``) to
        ``target``, adding either node to the pipeline if it is not in it yet. The first
        ``connect`` turns a chain into an explicit graph (keeping the chain's edges)."""
        port = None
        if isinstance(source, Port):
            source, port = source.node, source.name
        if self._connections is None:
            names = [n.name for n in self._nodes]
            self._connections = [(a, b, None) for a, b in zip(names, names[1:])]
        for node in (source, target):
            if not self._contains(node):
                self._append(node)
        if port is None and len(source.output_ports()) > 1:
            raise GraphError(
                f"node {quoted(source.name)} ({source.node_type}) has several output ports "
                f"({', '.join(source.output_ports())}): connect from source.output(port)",
                path="$.connections",
            )
        self._connections.append((source.name, target.name, port))
        self._native_plan = None
        return self

    def add_node(self, node: Node) -> Pipeline:
        """Append ``node`` after the last one (after the single sink of an explicit graph)."""
        if self._connections is not None and self._nodes:
            has_successor = {a for a, _, _ in self._connections}
            sinks = [n.name for n in self._nodes if n.name not in has_successor]
            if len(sinks) != 1:
                raise GraphError(
                    f"add_node appends after the pipeline's single last node, but this graph has "
                    f"{len(sinks)} sinks: {', '.join(map(repr, sinks))}",
                    path="$.connections",
                )
            self._append(node)
            self._connections.append((sinks[0], node.name, None))
            return self
        self._append(node)
        return self

    # ------------------------------------------------------------------------------- manifest

    def to_manifest(self) -> dict[str, Any]:
        """The v1 manifest as a dict, with explicit connections."""
        if self._connections is None:
            names = [n.name for n in self._nodes]
            edges: Sequence[tuple[str, str, str | None]] = [(a, b, None) for a, b in zip(names, names[1:])]
        else:
            edges = self._connections
        return {
            "version": "v1",
            "metadata": {**self.metadata, **({} if self.name is None else {"name": self.name})},
            "nodes": [_node_entry(n) for n in self._nodes],
            "connections": [
                {"from": a, "to": b, **({} if port is None else {"from_port": port})} for a, b, port in edges
            ],
        }

    def serialize(self) -> str:
        """The v1 manifest as JSON text. Parameters that JSON cannot carry (NaN, infinities,
        arbitrary objects) are an InvalidParameterError naming the node, and so is a user node
        whose own ``__init__`` takes arguments that are not parameters (they would be lost). A
        node type that is not registered is written with a warning: such a manifest loads only
        where the same class is registered."""
        for i, node in enumerate(self._nodes):
            _check_serializable(node, i)
        manifest = self.to_manifest()
        try:
            return json.dumps(manifest, allow_nan=False)
        except (TypeError, ValueError):
            for i, node in enumerate(manifest["nodes"]):
                try:
                    json.dumps(node["params"], allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise InvalidParameterError(
                        f"parameters of node {quoted(node['id'])} are not JSON data: {exc}",
                        path=f"$.nodes[{i}].params",
                    ) from None
            raise

    @classmethod
    def from_manifest(cls, manifest: str | bytes | dict) -> Pipeline:
        """The pipeline a v1 manifest (JSON text or a dict) describes; node types resolve through
        the registry (``remotemedia.core.registry``). A manifest with ``connections`` keeps its
        graph; one without is a chain."""
        spec = parse_manifest(manifest, lookup=registry.lookup)
        nodes = []
        for n in spec.nodes:
            node = registry.create_node(n.node_type, n.id, n.params)
            node.runtime_hint = n.runtime_hint or "auto"
            node.host, node.capabilities = n.host, n.capabilities
            nodes.append(node)
        pipeline = cls(nodes, name=spec.name)
        pipeline.metadata = {k: v for k, v in (spec.metadata or {}).items() if k != "name"}
        if spec.connections is not None:
            pipeline._connections = [(c.source, c.target, c.port) for c in spec.connections]
        return pipeline

    # ----------------------------------------------------------------------------------- runs

    async def run(
        self, items: Iterable[Any], *, runtime: str = "auto", use_rust: bool | None = None
    ) -> list | np.ndarray:
        """Run ``items`` through the pipeline; return the outputs as a list (an array for an
        array input, see docs/SEMANTICS.md).

        ``runtime``: "auto" (the native runtime when its module is available, else the Python
        executor with one warning), "native" (RuntimeUnavailableError without the module),
        "python". ``use_rust=True`` / ``False`` is the seed's spelling of "auto" / "python". On the
        native runtime, built-in nodes run as C++ and every other node runs its Python code inside
        the native pipeline (``explain()`` says which and why); their coroutines and async
        generators run on the runtime's own event loop. On the Python executor they run on the
        current loop. A native run runs on a worker thread with the GIL released, so the event loop
        goes on meanwhile; cancelling the awaiting task stops it."""
        check_items_argument(items)
        self._warn_hosts()
        compiled = self._compiled(_runtime_choice(runtime, use_rust))
        if compiled is not None:
            if self._native_plan_is_all_native and _native.is_quick_input(items):
                return _native.run_compiled(compiled, items)  # cheaper than a thread hop (docs/SEMANTICS.md)
            return await _native.run_compiled_async(compiled, items)
        return await PipelineRun(self._nodes, self._connections).execute(items)

    def run_sync(
        self, items: Iterable[Any], *, runtime: str = "auto", use_rust: bool | None = None
    ) -> list | np.ndarray:
        """``run`` for synchronous callers. A pipeline without async node methods runs in this
        thread without an event loop; one with them runs on a new loop, in a worker thread when
        this thread already runs a loop. A native run runs in this thread; in the main thread,
        Ctrl-C stops it promptly with KeyboardInterrupt (its nodes closed first)."""
        check_items_argument(items)
        self._warn_hosts()
        compiled = self._compiled(_runtime_choice(runtime, use_rust))
        if compiled is not None:
            return _native.run_compiled(compiled, items)
        plan = PipelineRun(self._nodes, self._connections)
        run = plan.execute(items)
        if not plan.needs_event_loop:
            return async_runner.complete_without_loop(run)
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        if not in_loop:  # outside the except block, so a node's error keeps its own __context__
            return asyncio.run(run)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, run).result()

    # ------------------------------------------------------------------------------- sessions

    def session(
        self, runtime: str = "auto", capacity: int = 64, *, threaded: bool | None = None
    ) -> _session.Session:
        """A streaming session for asyncio (docs/SESSIONS.md): ``async with pipeline.session()
        as s``, then ``await s.send(x)``, ``await s.end()``, ``async for out in s``. Outputs equal
        ``run(all items)``; ``capacity`` bounds the items it holds (sent, not processed, plus
        outputs not consumed). The nodes are initialized when it opens and cleaned up when it
        closes. Python nodes are this pipeline's own instances: one session at a time per
        pipeline when they hold state. ``threaded=True`` (native engine only) processes every
        item on the runtime's worker pool, never in ``send``."""
        self._warn_hosts()
        return _session.Session(self, runtime, capacity, threaded=threaded)

    def sync_session(
        self, runtime: str = "auto", capacity: int = 64, *, threaded: bool | None = None
    ) -> _session.SyncSession:
        """``session`` for synchronous callers: ``with pipeline.sync_session() as s``, then
        ``s.send(x)``, ``s.end()``, ``for out in s``."""
        self._warn_hosts()
        return _session.SyncSession(self, runtime, capacity, threaded=threaded)

    def stream(
        self, items: Iterable[Any] | AsyncIterable[Any], *, runtime: str = "auto", capacity: int = 64
    ) -> AsyncIterator[Any]:
        """``async for out in pipeline.stream(items)``: the outputs of ``items`` (an iterable or
        an async iterable) as they come, from a session that a producer task feeds while the
        caller consumes. Leaving the loop early cancels the session."""
        check_items_argument(items, async_ok=True)
        self._warn_hosts()
        return _session.stream(self, items, runtime=runtime, capacity=capacity)

    def stream_sync(self, items: Iterable[Any], *, runtime: str = "auto", capacity: int = 64) -> Iterator[Any]:
        """``for out in pipeline.stream_sync(items)``: ``stream`` for synchronous callers, in this
        thread."""
        check_items_argument(items)
        self._warn_hosts()
        return _session.stream_sync(self, items, runtime=runtime, capacity=capacity)

    def _warn_hosts(self) -> None:
        """A node's ``host`` gets its meaning with remote execution; until then the node runs
        here, and the first run or session of the pipeline says so."""
        if self._warned_hosts:
            return
        placed = [n for n in self._nodes if n.host is not None]
        if placed:
            self._warned_hosts = True
            names = ", ".join(f"{quoted(n.name)} (host {quoted(n.host)})" for n in placed)
            many = len(placed) > 1
            message = f"remote execution is not available yet: node{'s' if many else ''} {names} run{'' if many else 's'} here"
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _compiled(self, runtime: str) -> Any:
        """The native CompiledPipeline to run, or None to run on the Python executor (asked for,
        or the native module is missing)."""
        if runtime == "python":
            return None
        if runtime == "native":
            module = _native.require_runtime()
        else:
            module = _native.runtime_module()
            if module is None:
                _native.warn_fallback()
                return None
        if self._native_plan is None:
            placements = self.explain(module)
            refused = [p for p in placements if p.runs_on == "error"]
            if refused:
                raise RuntimeUnavailableError("; ".join(p.reason for p in refused))
            python_nodes = {p.node.name: p.node for p in placements if p.runs_on == "python"}
            if log.isEnabledFor(logging.DEBUG):
                log.debug("pipeline %r compiled for the native runtime: %s", self.name,
                          "; ".join(str(p) for p in placements))
            self._native_plan = module.CompiledPipeline(self._native_manifest(python_nodes), python_nodes)
            self._native_plan_is_all_native = not python_nodes
        return self._native_plan

    def _native_manifest(self, python_nodes: dict[str, Node]) -> str:
        """The manifest the native runtime compiles: the parameters of nodes that run as Python
        are left out (the runtime never reads them, and they need not be JSON: a FilterNode may
        hold a Python callable)."""
        manifest = self.to_manifest()
        for entry in manifest["nodes"]:
            if entry["id"] in python_nodes:
                entry["params"] = {}
        return json.dumps(manifest, allow_nan=False)

    def explain(self, module: Any = _native.UNSET) -> list[Placement]:
        """Where each node runs on the native runtime, and why. Printable: ``print(*p.explain(),
        sep="\n")``. When the native module is missing, every node runs on the Python executor."""
        if module is _native.UNSET:
            module = _native.runtime_module()
        return [_placement(node, module) for node in self._nodes]

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, nodes={[n.name for n in self._nodes]!r})"


_NODE_INIT_OWN = ("self", "name", "runtime_hint")


def _check_serializable(node: Node, index: int) -> None:
    """serialize()'s checks of one node beyond its parameters' JSON form."""
    cls = type(node)
    if cls.__init__ is not Node.__init__:
        declared = {p.name for p in cls.PARAMS}
        lost = [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.name not in _NODE_INIT_OWN and p.name not in declared
                and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in node.config]
        if lost:
            raise InvalidParameterError(
                f"node {quoted(node.name)} ({node.node_type}): {cls.__name__}.__init__ takes "
                f"{', '.join(repr(n) for n in lost)}, which the manifest cannot carry: declare "
                f"{'it' if len(lost) == 1 else 'them'} in PARAMS and pass {'it' if len(lost) == 1 else 'them'} on to "
                f"Node.__init__ (docs/PYTHON_NODES.md)", path=f"$.nodes[{index}].params")
    spec = registry.lookup(node.node_type)
    if spec is None or spec.node_class is not cls:
        warnings.warn(f"node {quoted(node.name)} ({node.node_type}) is not a registered node type: the manifest loads "
                      f"only where {cls.__name__} is registered (@register_node_type) under that name",
                      UserWarning, stacklevel=3)


class Placement(NamedTuple):
    """Where one node runs: "native" (C++), "python" (its Python code inside the native pipeline,
    or on the Python executor), or "error" (a runtime_hint that cannot be honoured)."""

    node: Node
    runs_on: str
    reason: str

    def __str__(self) -> str:
        return f"{self.node.name} ({self.node.node_type}): {self.runs_on} - {self.reason}"


def _placement(node: Node, module: Any) -> Placement:
    hint = getattr(node, "runtime_hint", "auto")
    if module is None:
        return Placement(node, "python", "the native module is not available: the Python executor runs the pipeline")
    spec = registry.lookup(node.node_type)
    native_type = module.has_node_type(node.node_type)
    is_builtin = spec is not None and type(node) is spec.node_class
    if hint == "python":
        return Placement(node, "python", "runtime_hint='python'")
    own_code = node.python_only_reason()
    if own_code is not None and hint != "native":
        return Placement(node, "python", own_code)
    if native_type and is_builtin and own_code is None:
        return Placement(node, "native", f"{node.node_type} has a native implementation")
    if own_code is not None:
        why = own_code
    elif not native_type:
        why = f"{node.node_type} has no native implementation"
    else:
        why = f"{type(node).__name__} is not the built-in class of {node.node_type}; its own Python code runs"
    if hint == "native":
        return Placement(node, "error", f"node {quoted(node.name)} has runtime_hint='native' but {why}")
    return Placement(node, "python", why)


def _node_entry(node: Node) -> dict[str, Any]:
    entry = {"id": node.name, "node_type": node.node_type, "params": node.params()}
    if node.capabilities is not None:
        entry["capabilities"] = node.capabilities
    if node.host is not None:
        entry["host"] = node.host
    hint = getattr(node, "runtime_hint", "auto")
    if hint != "auto":
        entry["runtime_hint"] = hint
    return entry


def _runtime_choice(runtime: str, use_rust: bool | None) -> str:
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}; got {runtime!r}")
    if use_rust is None:
        return runtime
    # The seed's use_rust=True was its default: native with automatic fallback, so it means "auto".
    alias = "auto" if use_rust else "python"
    if use_rust and runtime == "python" or not use_rust and runtime == "native":
        raise ValueError(f"use_rust={use_rust} contradicts runtime={runtime!r}")
    return runtime if use_rust else alias
