"""Build the large manifest test cases at test time instead of committing megabytes.

Each case is ``(name, text: bytes, expected: dict)``; ``expected`` has the same shape as the
``expected.json`` files next to this script (invalid: error, path, rule, structural, mentions;
valid: order, sources, sinks, chain).

    python make_generated.py OUTDIR    # writes OUTDIR/invalid/*.json, OUTDIR/valid/*.json and an
                                       # expected.json in each, for test runners in other languages
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Callable

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
CHAIN_LENGTH = 10_000


def _dumps(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _pass(node_id: str) -> dict:
    return {"id": node_id, "node_type": "PassThroughNode"}


def _calc(node_id: str, operation: str, operand: int | float) -> dict:
    return {
        "id": node_id,
        "node_type": "CalculatorNode",
        "params": {"operation": operation, "operand": operand},
    }


def _nested_in_metadata(total_depth: int) -> bytes:
    """A valid manifest whose deepest point is ``total_depth`` levels (top object = 1,
    metadata = 2, then arrays)."""
    arrays = total_depth - 2
    return (
        b'{"version":"v1","metadata":{"deep":'
        + b"[" * arrays
        + b"]" * arrays
        + b'},"nodes":[{"id":"p","node_type":"PassThroughNode"}]}'
    )


def _padded(size: int) -> bytes:
    """A valid manifest padded with trailing whitespace to exactly ``size`` bytes."""
    body = _dumps({"version": "v1", "metadata": {"name": "padded"}, "nodes": [_pass("p")]})
    return body + b" " * (size - len(body))


# ---------------------------------------------------------------------------- invalid cases


def _over_16mib() -> bytes:
    """A real (otherwise valid) manifest of PassThrough nodes just over the limit."""
    parts = [b'{"version":"v1","metadata":{"name":"huge"},"nodes":[']
    size = len(parts[0])
    i = 0
    while size <= MAX_MANIFEST_BYTES:
        node = _dumps({"id": f"node-{i:07d}", "node_type": "PassThroughNode", "params": {}})
        if i:
            node = b"," + node
        parts.append(node)
        size += len(node)
        i += 1
    parts.append(b"]}")
    return b"".join(parts)


def _objects_in_params(total_depth: int) -> bytes:
    # top(1) nodes(2) node(3), then params and the objects inside it (levels 4..total_depth).
    # Within the limit the unknown parameter 'a' fails rule 20; beyond it rule 2 fires first.
    inner = "1"
    for _ in range(total_depth - 3):
        inner = '{"a":' + inner + "}"
    return (
        '{"version":"v1","nodes":[{"id":"c","node_type":"CalculatorNode","params":' + inner + "}]}"
    ).encode()


def _cycle_10000() -> bytes:
    ids = [f"n{i}" for i in range(CHAIN_LENGTH)]
    conns = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    conns.append({"from": ids[-1], "to": ids[0]})
    return _dumps({"version": "v1", "nodes": [_pass(i) for i in ids], "connections": conns})


INVALID: dict[str, tuple[Callable[[], bytes], dict]] = {
    "gen_over_16mib.json": (
        _over_16mib,
        {"error": "ManifestError", "path": "$", "rule": 1, "structural": False, "mentions": ["16"]},
    ),
    "gen_16mib_plus_one_byte.json": (
        lambda: _padded(MAX_MANIFEST_BYTES + 1),
        {"error": "ManifestError", "path": "$", "rule": 1, "structural": False, "mentions": ["16"]},
    ),
    "gen_depth_200.json": (
        lambda: _nested_in_metadata(200),
        {"error": "ManifestError", "path": "$", "rule": 2, "structural": False, "mentions": ["64"]},
    ),
    "gen_depth_65.json": (
        lambda: _nested_in_metadata(65),
        {"error": "ManifestError", "path": "$", "rule": 2, "structural": False, "mentions": ["64"]},
    ),
    "gen_depth_65_objects_in_params.json": (
        lambda: _objects_in_params(65),
        {"error": "ManifestError", "path": "$", "rule": 2, "structural": False, "mentions": ["64"]},
    ),
    "gen_depth_64_objects_in_params.json": (
        lambda: _objects_in_params(64),
        {
            "error": "InvalidParameterError",
            "path": "$.nodes[0].params.a",
            "rule": 20,
            "structural": False,
        },
    ),
    "gen_depth_100000_unclosed.json": (
        lambda: b"[" * 100_000,
        {"error": "ManifestError", "path": "$", "rule": 2, "structural": False, "mentions": ["64"]},
    ),
    "gen_depth_100000_closed.json": (
        lambda: b"[" * 100_000 + b"]" * 100_000,
        {"error": "ManifestError", "path": "$", "rule": 2, "structural": False, "mentions": ["64"]},
    ),
    "gen_cycle_10000.json": (
        _cycle_10000,
        {
            "error": "GraphError",
            "path": "$.connections",
            "rule": 23,
            "structural": False,
            "mentions": ["n0", "n9999"],
        },
    ),
}


# ---------------------------------------------------------------------------- valid cases


def _chain_10000() -> tuple[bytes, dict]:
    nodes = []
    for i in range(CHAIN_LENGTH):
        nodes.append(_pass(f"p{i}") if i % 2 == 0 else _calc(f"c{i}", "add", 1))
    ids = [n["id"] for n in nodes]
    text = _dumps({"version": "v1", "metadata": {"name": "chain-10000"}, "nodes": nodes})
    return text, {"order": ids, "sources": ids[:1], "sinks": ids[-1:], "chain": True}


def _reverse_dag_10000() -> tuple[bytes, dict]:
    # Edges run from later-listed to earlier-listed nodes, plus a fan-out from the last node to
    # every tenth node, so the topological order is the node order reversed.
    ids = [f"n{i}" for i in range(CHAIN_LENGTH)]
    conns = [{"from": ids[i + 1], "to": ids[i]} for i in range(CHAIN_LENGTH - 1)]
    conns += [{"from": ids[-1], "to": ids[i]} for i in range(0, CHAIN_LENGTH - 2, 10)]
    text = _dumps({"version": "v1", "nodes": [_pass(i) for i in ids], "connections": conns})
    return text, {"order": ids[::-1], "sources": ids[-1:], "sinks": ids[:1], "chain": False}


def _exactly_16mib() -> tuple[bytes, dict]:
    return _padded(MAX_MANIFEST_BYTES), {"order": ["p"], "sources": ["p"], "sinks": ["p"], "chain": True}


def _depth_64() -> tuple[bytes, dict]:
    return _nested_in_metadata(64), {"order": ["p"], "sources": ["p"], "sinks": ["p"], "chain": True}


def _brackets_in_strings() -> tuple[bytes, dict]:
    # 1000 opening brackets inside strings (after escaped quotes and backslashes) must not count
    # towards the depth limit.
    noise = '\\"[' * 500 + '\\\\{' * 500
    text = (
        '{"version":"v1","metadata":{"name":"' + noise + '","' + "[{" * 100 + '":"x"},'
        '"nodes":[{"id":"' + "[" * 70 + '","node_type":"PassThroughNode"}]}'
    ).encode()
    node_id = "[" * 70
    return text, {"order": [node_id], "sources": [node_id], "sinks": [node_id], "chain": True}


VALID: dict[str, Callable[[], tuple[bytes, dict]]] = {
    "gen_chain_10000.json": _chain_10000,
    "gen_reverse_dag_10000.json": _reverse_dag_10000,
    "gen_exactly_16mib.json": _exactly_16mib,
    "gen_depth_64.json": _depth_64,
    "gen_brackets_in_strings.json": _brackets_in_strings,
}


@functools.lru_cache(maxsize=None)
def invalid_case(name: str) -> tuple[str, bytes, dict]:
    build, expected = INVALID[name]
    return name, build(), dict(expected)


@functools.lru_cache(maxsize=None)
def valid_case(name: str) -> tuple[str, bytes, dict]:
    text, expected = VALID[name]()
    return name, text, expected


def invalid_cases() -> list[tuple[str, bytes, dict]]:
    return [invalid_case(n) for n in INVALID]


def valid_cases() -> list[tuple[str, bytes, dict]]:
    return [valid_case(n) for n in VALID]


def write(outdir: Path) -> None:
    for kind, cases in (("invalid", invalid_cases()), ("valid", valid_cases())):
        folder = outdir / kind
        folder.mkdir(parents=True, exist_ok=True)
        expected = {}
        for name, text, exp in cases:
            (folder / name).write_bytes(text)
            expected[name] = exp
        (folder / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    write(Path(sys.argv[1]))
