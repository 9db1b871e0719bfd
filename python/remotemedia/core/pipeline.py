"""Pipeline: the user's handle on a graph of nodes, its manifest, and the runs."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import warnings
from typing import Any, Coroutine, Iterable, Sequence

import numpy as np

from remotemedia import _native
from remotemedia.core import registry
from remotemedia.core.executor import PipelineRun
from remotemedia.core.manifest import parse_manifest
from remotemedia.core.node import Node
from remotemedia.errors import GraphError, InvalidParameterError, RuntimeUnavailableError

__all__ = ["Pipeline", "RUNTIMES"]

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
        self._nodes: list[Node] = []
        self._connections: list[tuple[str, str]] | None = None  # None: a chain in node order
        # What a run with the native runtime does, decided once per graph: a CompiledPipeline,
        # or the nodes that keep the pipeline on the Python executor.
        self._native_plan: Any = None
        for node in nodes or ():
            self.add_node(node)

    # ---------------------------------------------------------------------------------- graph

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self._nodes)

    @property
    def connections(self) -> tuple[tuple[str, str], ...] | None:
        """The (from, to) node names of an explicit graph, or None for a chain in node order."""
        return None if self._connections is None else tuple(self._connections)

    def add_node(self, node: Node) -> Pipeline:
        """Append ``node`` after the last one (after the single sink of an explicit graph)."""
        if not isinstance(node, Node):
            raise TypeError(f"add_node expects a Node, got {type(node).__name__}")
        for i, existing in enumerate(self._nodes):
            if existing.name == node.name:
                raise GraphError(
                    f"duplicate node id {node.name!r} (already used by $.nodes[{i}])",
                    path=f"$.nodes[{len(self._nodes)}].id",
                )
        if self._connections is not None and self._nodes:
            has_successor = {a for a, _ in self._connections}
            sinks = [n.name for n in self._nodes if n.name not in has_successor]
            if len(sinks) != 1:
                raise GraphError(
                    f"add_node appends after the pipeline's single last node, but this graph has "
                    f"{len(sinks)} sinks: {', '.join(map(repr, sinks))}",
                    path="$.connections",
                )
            self._connections.append((sinks[0], node.name))
        self._nodes.append(node)
        self._native_plan = None
        return self

    # ------------------------------------------------------------------------------- manifest

    def to_manifest(self) -> dict[str, Any]:
        """The v1 manifest as a dict, with explicit connections."""
        if self._connections is None:
            names = [n.name for n in self._nodes]
            edges: Sequence[tuple[str, str]] = list(zip(names, names[1:]))
        else:
            edges = self._connections
        return {
            "version": "v1",
            "metadata": {} if self.name is None else {"name": self.name},
            "nodes": [
                {"id": n.name, "node_type": n.node_type, "params": n.params()} for n in self._nodes
            ],
            "connections": [{"from": a, "to": b} for a, b in edges],
        }

    def serialize(self) -> str:
        """The v1 manifest as JSON text. Parameters that JSON cannot carry (NaN, infinities,
        arbitrary objects) are an InvalidParameterError naming the node."""
        manifest = self.to_manifest()
        try:
            return json.dumps(manifest, allow_nan=False)
        except (TypeError, ValueError):
            for i, node in enumerate(manifest["nodes"]):
                try:
                    json.dumps(node["params"], allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise InvalidParameterError(
                        f"parameters of node {node['id']!r} are not JSON data: {exc}",
                        path=f"$.nodes[{i}].params",
                    ) from None
            raise

    @classmethod
    def from_manifest(cls, manifest: str | bytes | dict) -> Pipeline:
        """The pipeline a v1 manifest (JSON text or a dict) describes; node types resolve through
        the registry (``remotemedia.core.registry``). A manifest with ``connections`` keeps its
        graph; one without is a chain."""
        spec = parse_manifest(manifest, lookup=registry.lookup)
        pipeline = cls(
            [registry.create_node(n.node_type, n.id, n.params) for n in spec.nodes], name=spec.name
        )
        if spec.connections is not None:
            pipeline._connections = [(c.source, c.target) for c in spec.connections]
        return pipeline

    # ----------------------------------------------------------------------------------- runs

    async def run(
        self, items: Iterable[Any], *, runtime: str = "auto", use_rust: bool | None = None
    ) -> list | np.ndarray:
        """Run ``items`` through the pipeline; return the outputs as a list (an array for an
        array input, see docs/SEMANTICS.md).

        ``runtime``: "auto" (native when it can run this pipeline, else the Python executor with a
        warning), "native" (RuntimeUnavailableError when it cannot), "python". ``use_rust=True``
        / ``False`` is the seed's spelling of "auto" / "python" (the seed fell back automatically). Node coroutines and async
        generators run on the current event loop; a native run runs in the calling thread."""
        compiled = self._compiled(_runtime_choice(runtime, use_rust))
        if compiled is not None:
            return _native.run_compiled(compiled, items)
        return await PipelineRun(self._nodes, self._connections).execute(items)

    def run_sync(
        self, items: Iterable[Any], *, runtime: str = "auto", use_rust: bool | None = None
    ) -> list | np.ndarray:
        """``run`` for synchronous callers. A pipeline without async node methods runs in this
        thread without an event loop; one with them runs on a new loop, in a worker thread when
        this thread already runs a loop."""
        compiled = self._compiled(_runtime_choice(runtime, use_rust))
        if compiled is not None:
            return _native.run_compiled(compiled, items)
        plan = PipelineRun(self._nodes, self._connections)
        run = plan.execute(items)
        if not plan.needs_event_loop:
            return _complete_without_loop(run)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(run)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, run).result()

    def _compiled(self, runtime: str) -> Any:
        """The native CompiledPipeline to run, or None to run on the Python executor."""
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
            python_only = [n for n in self._nodes if not _has_native_implementation(module, n)]
            self._native_plan = python_only or module.CompiledPipeline(self.serialize())
        if isinstance(self._native_plan, list):
            names = ", ".join(f"'{n.name}' ({n.node_type})" for n in self._native_plan)
            if runtime == "native":
                raise RuntimeUnavailableError(f"no native implementation for node {names}")
            warnings.warn(
                f"no native implementation for node {names}; the pipeline runs on the Python "
                "executor",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return self._native_plan

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, nodes={[n.name for n in self._nodes]!r})"


def _has_native_implementation(module: Any, node: Node) -> bool:
    """Whether the native runtime runs ``node`` as written: its type is native and the node is an
    instance of the class registered for it (not a user's class that happens to share the name)."""
    spec = registry.lookup(node.node_type)
    return (
        spec is not None and type(node) is spec.node_class and module.has_node_type(node.node_type)
    )


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


def _complete_without_loop(run: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (no node method is async) to its result."""
    try:
        run.send(None)
    except StopIteration as done:
        return done.value
    run.close()
    raise RuntimeError("the pipeline awaited an event loop although no node method is async")
