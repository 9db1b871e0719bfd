"""Graph views of a parsed manifest: edges, sources, sinks, cycle detection, topological order.

Everything here is iterative (no recursion), so a 10,000-node chain or a long cycle is fine. The
functions expect node ids to be unique and connection endpoints to name nodes, which
``parse_manifest`` guarantees before it calls ``find_cycle`` (rule 23 of docs/MANIFEST.md).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from remotemedia.errors import GraphError, quoted

if TYPE_CHECKING:  # pragma: no cover
    from remotemedia.core.manifest import Manifest

__all__ = [
    "edges",
    "successors",
    "predecessors",
    "sources",
    "sinks",
    "find_cycle",
    "format_cycle",
    "topological_order",
]


def edges(manifest: "Manifest") -> list[tuple[str, str]]:
    """The graph's edges in connection order; without a ``connections`` key, the chain in node
    order."""
    if manifest.connections is None:
        ids = [n.id for n in manifest.nodes]
        return list(zip(ids, ids[1:]))
    return [(c.source, c.target) for c in manifest.connections]


def successors(manifest: "Manifest") -> dict[str, list[str]]:
    """Node id -> successor ids in connection order (every node has an entry)."""
    out: dict[str, list[str]] = {n.id: [] for n in manifest.nodes}
    for a, b in edges(manifest):
        out[a].append(b)
    return out


def predecessors(manifest: "Manifest") -> dict[str, list[str]]:
    """Node id -> predecessor ids in connection order (every node has an entry)."""
    out: dict[str, list[str]] = {n.id: [] for n in manifest.nodes}
    for a, b in edges(manifest):
        out[b].append(a)
    return out


def sources(manifest: "Manifest") -> list[str]:
    """Nodes without incoming edges, in node order. They receive every input item."""
    pred = predecessors(manifest)
    return [n.id for n in manifest.nodes if not pred[n.id]]


def sinks(manifest: "Manifest") -> list[str]:
    """Nodes without outgoing edges, in node order. Their outputs form the result."""
    succ = successors(manifest)
    return [n.id for n in manifest.nodes if not succ[n.id]]


def find_cycle(manifest: "Manifest") -> list[str] | None:
    """The first cycle met by a depth-first search that starts from each node in node order and
    follows edges in connection order, as the list of node ids along it (``[a, b, c]`` means
    a -> b -> c -> a; a self-loop is ``[a]``), or None for an acyclic graph."""
    if manifest.connections is None:
        return None  # a chain of unique ids cannot loop
    succ = successors(manifest)
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(succ, WHITE)
    for start in succ:
        if colour[start] != WHITE:
            continue
        colour[start] = GREY
        path = [start]
        position = {start: 0}
        stack = [(start, iter(succ[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                del position[node]
                colour[node] = BLACK
                continue
            c = colour[nxt]
            if c == GREY:
                return path[position[nxt]:]
            if c == WHITE:
                colour[nxt] = GREY
                position[nxt] = len(path)
                path.append(nxt)
                stack.append((nxt, iter(succ[nxt])))
    return None


def format_cycle(cycle: list[str]) -> str:
    """``['a', 'b']`` -> ``'a' -> 'b' -> 'a'``."""
    if not cycle:
        return "(unknown)"
    return " -> ".join(quoted(x) for x in [*cycle, cycle[0]])


def topological_order(manifest: "Manifest") -> list[str]:
    """Node ids in topological order, ties broken by node order (the order in which nodes are
    flushed at end of input). Raises GraphError at ``$.connections`` if the graph has a cycle."""
    if manifest.connections is None:
        return [n.id for n in manifest.nodes]
    index = {n.id: n.index for n in manifest.nodes}
    succ = successors(manifest)
    indegree = dict.fromkeys(succ, 0)
    for _, b in edges(manifest):
        indegree[b] += 1
    ready = [index[n] for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    ids = [n.id for n in manifest.nodes]
    order: list[str] = []
    while ready:
        node = ids[heapq.heappop(ready)]
        order.append(node)
        for nxt in succ[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    if len(order) != len(ids):
        cycle = find_cycle(manifest) or []
        raise GraphError(f"connections form a cycle: {format_cycle(cycle)}", path="$.connections")
    return order
