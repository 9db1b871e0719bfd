"""Manifest v1: parse and validate a pipeline document.

Implements docs/MANIFEST.md exactly, in the order given there: the first failing check raises one
exception (a ``remotemedia.errors.ManifestError`` or subclass) whose ``path`` is the JSON path of the
fault. The native runtime (``src/core/manifest.cpp``) applies the same rules; the corpus in
``tests/data/manifests/`` holds both to the same class and path for every fault.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Callable

from remotemedia.core.graph import find_cycle, format_cycle
from remotemedia.core.json_fault import find_fault
from remotemedia.core.params import NodeTypeSpec, _json_type
from remotemedia.errors import (
    GraphError,
    InvalidParameterError,
    ManifestError,
    UnknownNodeTypeError,
    quoted,
)

__all__ = [
    "MAX_MANIFEST_BYTES",
    "MAX_DEPTH",
    "TOP_LEVEL_KEYS",
    "NODE_KEYS",
    "CONNECTION_KEYS",
    "RUNTIME_HINTS",
    "Manifest",
    "NodeSpec",
    "Connection",
    "parse_manifest",
    "manifest_to_dict",
    "manifest_to_json",
    "key_path",
]

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
TOP_LEVEL_KEYS = ("version", "metadata", "nodes", "connections")
NODE_KEYS = ("id", "node_type", "params", "capabilities", "host", "runtime_hint")
CONNECTION_KEYS = ("from", "to", "from_port")
RUNTIME_HINTS = ("auto", "native", "python")

Lookup = Callable[[str], "NodeTypeSpec | None"]


@dataclass
class NodeSpec:
    """One entry of ``nodes``. ``params`` is ``{}`` when the key is absent; ``capabilities``,
    ``host`` and ``runtime_hint`` are None when absent (no hint means "auto"). ``node_type`` is
    kept as written (an alias stays an alias). ``index`` is the position in ``nodes``."""

    id: str
    node_type: str
    params: dict = field(default_factory=dict)
    capabilities: dict | None = None
    host: str | None = None
    runtime_hint: str | None = None
    index: int = 0


@dataclass
class Connection:
    """One entry of ``connections`` (``from`` -> ``source``, ``to`` -> ``target``)."""

    source: str
    target: str
    index: int = 0
    port: str | None = None  # ``from_port``: an output port of the source; None = its only port


@dataclass
class Manifest:
    """A validated v1 manifest. ``connections`` is None when the key is absent: the nodes then
    form a chain in the order listed. ``name`` is ``metadata.name`` (None when absent);
    ``metadata`` is None when the key is absent."""

    version: str = "v1"
    name: str | None = None
    metadata: dict | None = None
    nodes: list[NodeSpec] = field(default_factory=list)
    connections: list[Connection] | None = None

    @property
    def is_chain(self) -> bool:
        return self.connections is None

    def node(self, node_id: str) -> NodeSpec:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


# --------------------------------------------------------------------------------------------
# JSON paths

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_path(base: str, key: str) -> str:
    """``base.key`` for an identifier-like key, else ``base["key"]`` with the key written as a
    JSON string (only ``"``, ``\\`` and control characters escaped; non-ASCII kept)."""
    if _IDENTIFIER.fullmatch(key):
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


def _path_of(parts: tuple) -> str:
    path = "$"
    for p in parts:
        path = f"{path}[{p}]" if type(p) is int else key_path(path, p)
    return path


# --------------------------------------------------------------------------------------------
# Rules 1-3: the text


class _ConstantError(ValueError):
    pass


class _FloatOverflow(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _FloatOverflow(text)
    return value


_MAX_INTEGER_DIGITS = 309  # DBL_MAX has 309 digits


def _parse_int(text: str) -> int:
    # An integer literal too large even for a double is invalid JSON on both runtimes (rule 3),
    # as 1e400 is: the C++ parser reads such a literal as a double, which overflows.
    digits = len(text) - text.startswith("-")
    if digits > _MAX_INTEGER_DIGITS or (digits == _MAX_INTEGER_DIGITS and _too_big(text)):
        raise _FloatOverflow(text)
    return int(text)


def _too_big(text: str) -> bool:
    try:
        float(int(text))
    except OverflowError:
        return True
    return False


_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"?'  # an unterminated string runs to the end of the text
_STRING_RE = re.compile(_STRING, re.S)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_BRACKET_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_HINT_RE = re.compile(r"\\u[dD][89a-fA-F]")


def _max_depth(text: str) -> int:
    """Deepest nesting of arrays/objects, counting brackets outside strings (escapes honoured)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot exceed the limit: skip the scan
    brackets = _NOT_BRACKET_RE.sub("", _STRING_RE.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets)))


def _not_json(raw: bytes, parser_message: str) -> ManifestError:
    """Rule 3's refusal: the first fault as json_fault words it (and the C++ parser's error path)."""
    fault = find_fault(raw)
    if fault is None:  # the readers disagree: say what CPython's json said
        return ManifestError(f"not valid JSON: {parser_message}", path="$")
    return ManifestError(f"not valid JSON {fault.where}", path="$")


def _load_text(doc: str | bytes | bytearray | memoryview) -> Any:
    raw: bytes | None = None  # the UTF-8 text, for the fault scan: made from a str only if needed
    decodable = True
    surrogate: int | None = None  # where a str holds a lone surrogate character
    if isinstance(doc, str):
        text = doc
        if len(text) > MAX_MANIFEST_BYTES:
            size = len(text.encode("utf-8", "surrogatepass"))
        else:
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError as e:  # a lone surrogate character: a str only, never bytes
                raw = text.encode("utf-8", "surrogatepass")
                size, decodable, surrogate = len(raw), False, e.start
    else:
        raw = bytes(doc)
        size = len(raw)
        if size <= MAX_MANIFEST_BYTES:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text, decodable = raw.decode("utf-8", "replace"), False
    # Rule 1
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"manifest text is more than the 16 MiB limit ({MAX_MANIFEST_BYTES} bytes)", path="$"
        )
    # Rule 2
    if _max_depth(text) > MAX_DEPTH:
        raise ManifestError(f"arrays and objects nested deeper than {MAX_DEPTH} levels", path="$")

    # Rule 3
    def not_json(parser_message: str) -> ManifestError:
        return _not_json(text.encode("utf-8") if raw is None else raw, parser_message)

    if surrogate is not None:
        line = text.count("\n", 0, surrogate) + 1
        column = surrogate - text.rfind("\n", 0, surrogate)
        fault = find_fault(raw)  # a fault before it, or the surrogate's bytes (not UTF-8)
        if fault is None or (fault.line, fault.column) == (line, column):
            reason = f"lone surrogate character U+{ord(text[surrogate]):04X}"
            raise ManifestError(f"not valid JSON at line {line} column {column}: {reason}", path="$")
        raise ManifestError(f"not valid JSON {fault.where}", path="$")
    if not decodable:
        raise not_json("not UTF-8")
    if text.startswith("\ufeff"):  # CPython's json refuses it too, in its own words
        raise not_json("a byte order mark")
    duplicates = False

    def pairs_hook(pairs: list) -> dict:
        nonlocal duplicates
        d = dict(pairs)
        if len(d) != len(pairs):
            duplicates = True
        return d

    try:
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
            object_pairs_hook=pairs_hook,
        )
    except json.JSONDecodeError as e:
        raise not_json(f"{e.msg} at line {e.lineno} column {e.colno}") from None
    except _ConstantError as e:
        raise not_json(f"{e} is not a JSON value") from None
    except _FloatOverflow as e:
        raise not_json(f"number {e} is out of the range of a double") from None
    # CPython's json takes a duplicate key (the last wins) and a lone surrogate escape.
    if duplicates:
        raise not_json("a duplicate key")
    if _SURROGATE_HINT_RE.search(text) and (fault := find_fault(text.encode("utf-8"))) is not None:
        raise ManifestError(f"not valid JSON {fault.where}", path="$")
    return data


_SCALARS = (str, int, bool, type(None))


def _check_data(doc: Any) -> None:
    """Rules 2 and 3 for an already-parsed document (a dict): nesting depth, and JSON data only
    (exact types dict with str keys, list, str, int, finite float, bool, None). Iterative, so a
    self-referencing or absurdly deep structure fails cleanly."""
    problem: str | None = None
    stack: list[tuple[Any, int, tuple]] = [(doc, 1, ())]
    while stack:
        value, depth, parts = stack.pop()
        if depth > MAX_DEPTH:
            raise ManifestError(
                f"arrays/objects nested deeper than {MAX_DEPTH} levels (or a reference cycle)",
                path="$",
            )
        if type(value) is dict:
            children = []
            for k, v in value.items():
                if type(k) is not str:
                    if problem is None:
                        problem = f"a key of type {type(k).__name__} ({k!r}) at {_path_of(parts)}"
                    continue
                children.append((v, parts + (k,)))
        else:
            children = [(v, parts + (i,)) for i, v in enumerate(value)]
        for v, p in reversed(children):
            t = type(v)
            if t is dict or t is list:
                stack.append((v, depth + 1, p))
            elif problem is None:
                if t is float:
                    if not math.isfinite(v):
                        problem = f"{v!r} (not representable in JSON) at {_path_of(p)}"
                elif t not in _SCALARS:
                    problem = f"a value of type {t.__module__}.{t.__qualname__} at {_path_of(p)}"
    if problem is not None:
        raise ManifestError(f"not JSON data: {problem}", path="$")


# --------------------------------------------------------------------------------------------
# Rules 4-17: structure


def _structure(data: Any) -> Manifest:
    # Rule 4
    if type(data) is not dict:
        raise ManifestError(f"a manifest must be a JSON object, got {_json_type(data)}", path="$")
    # Rule 5
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ManifestError(
                f"unknown top-level key {quoted(key)} (allowed: {', '.join(TOP_LEVEL_KEYS)})",
                path=key_path("$", key),
            )
    # Rule 6
    if "version" not in data:
        raise ManifestError("'version' is missing (expected 'v1')", path="$.version")
    version = data["version"]
    if type(version) is not str:
        raise ManifestError(
            f"'version' must be the string 'v1', got {_json_type(version)}", path="$.version"
        )
    if version != "v1":
        raise ManifestError(
            f"unsupported version {quoted(version)} (expected 'v1')", path="$.version"
        )
    # Rule 7
    metadata = None
    name = None
    if "metadata" in data:
        metadata = data["metadata"]
        if type(metadata) is not dict:
            raise ManifestError(
                f"'metadata' must be an object, got {_json_type(metadata)}", path="$.metadata"
            )
        if "name" in metadata:
            name = metadata["name"]
            if type(name) is not str:
                raise ManifestError(
                    f"'metadata.name' must be a string, got {_json_type(name)}",
                    path="$.metadata.name",
                )
    # Rule 8
    if "nodes" not in data:
        raise ManifestError("'nodes' is missing (an array of nodes)", path="$.nodes")
    raw_nodes = data["nodes"]
    if type(raw_nodes) is not list:
        raise ManifestError(
            f"'nodes' must be an array, got {_json_type(raw_nodes)}", path="$.nodes"
        )
    # Rules 9-15, node by node
    nodes = [_node(i, raw) for i, raw in enumerate(raw_nodes)]
    # Rules 16-17
    connections = None
    if "connections" in data:
        raw_conns = data["connections"]
        if type(raw_conns) is not list:
            raise ManifestError(
                f"'connections' must be an array, got {_json_type(raw_conns)}",
                path="$.connections",
            )
        connections = [_connection(j, raw) for j, raw in enumerate(raw_conns)]
    return Manifest(
        version=version, name=name, metadata=metadata, nodes=nodes, connections=connections
    )


def _required_string(obj: dict, key: str, base: str, what: str) -> str:
    path = f"{base}.{key}"
    if key not in obj:
        raise ManifestError(f"{what} {quoted(key)} is missing", path=path)
    value = obj[key]
    if type(value) is not str:
        raise ManifestError(
            f"{what} {quoted(key)} must be a non-empty string, got {_json_type(value)}", path=path
        )
    if not value:
        raise ManifestError(f"{what} {quoted(key)} must be a non-empty string, got ''", path=path)
    return value


def _node(i: int, raw: Any) -> NodeSpec:
    base = f"$.nodes[{i}]"
    if type(raw) is not dict:  # rule 9
        raise ManifestError(f"a node must be an object, got {_json_type(raw)}", path=base)
    for key in raw:  # rule 10
        if key not in NODE_KEYS:
            raise ManifestError(
                f"unknown key {quoted(key)} in a node (allowed: {', '.join(NODE_KEYS)})",
                path=key_path(base, key),
            )
    node_id = _required_string(raw, "id", base, "node")  # rule 11
    node_type = _required_string(raw, "node_type", base, "node")  # rule 12
    params: dict = {}
    if "params" in raw:  # rule 13
        params = raw["params"]
        if type(params) is not dict:
            raise ManifestError(
                f"'params' must be an object, got {_json_type(params)}", path=f"{base}.params"
            )
    capabilities = None
    if "capabilities" in raw:  # rule 14
        capabilities = raw["capabilities"]
        if type(capabilities) is not dict:
            raise ManifestError(
                f"'capabilities' must be an object, got {_json_type(capabilities)}",
                path=f"{base}.capabilities",
            )
    host = None
    if "host" in raw:
        host = raw["host"]
        if type(host) is not str:
            raise ManifestError(
                f"'host' must be a string, got {_json_type(host)}", path=f"{base}.host"
            )
    hint = None
    if "runtime_hint" in raw:  # rule 15
        hint = raw["runtime_hint"]
        if type(hint) is not str:
            raise ManifestError(
                f"'runtime_hint' must be a string, got {_json_type(hint)}", path=f"{base}.runtime_hint"
            )
        if hint not in RUNTIME_HINTS:
            raise ManifestError(
                f"'runtime_hint' must be one of {', '.join(RUNTIME_HINTS)}; got {quoted(hint)}",
                path=f"{base}.runtime_hint",
            )
    return NodeSpec(
        id=node_id,
        node_type=node_type,
        params=params,
        capabilities=capabilities,
        host=host,
        runtime_hint=hint,
        index=i,
    )


def _connection(j: int, raw: Any) -> Connection:
    base = f"$.connections[{j}]"
    if type(raw) is not dict:
        raise ManifestError(
            f"a connection must be an object {{\"from\": ..., \"to\": ...}}, got {_json_type(raw)}",
            path=base,
        )
    for key in raw:
        if key not in CONNECTION_KEYS:
            raise ManifestError(
                f"unknown key {quoted(key)} in a connection (allowed: {', '.join(CONNECTION_KEYS)})",
                path=key_path(base, key),
            )
    source = _required_string(raw, "from", base, "connection")
    target = _required_string(raw, "to", base, "connection")
    port = _required_string(raw, "from_port", base, "connection") if "from_port" in raw else None
    return Connection(source=source, target=target, index=j, port=port)


# --------------------------------------------------------------------------------------------
# Rules 18-23: semantics


def _resolve_port(node_id: str, node_type: str, ports: tuple[str, ...], port: str | None, base: str) -> str:
    """The output port a connection leaves by (rule 21): the named one, or the node's only one."""
    names = ", ".join(ports)
    if port is None:
        if len(ports) != 1:
            raise GraphError(
                f"node {quoted(node_id)} ({node_type}) has several output ports ({names}): "
                'say which with "from_port"',
                path=base,
            )
        return ports[0]
    if port not in ports:
        raise GraphError(
            f"node {quoted(node_id)} ({node_type}) has no output port {quoted(port)} (its ports: {names})",
            path=f"{base}.from_port",
        )
    return port


def _semantics(manifest: Manifest, lookup: Lookup | None) -> None:
    if lookup is None and manifest.nodes:
        from remotemedia.core import registry

        lookup = registry.lookup
    first_index: dict[str, int] = {}
    ports: dict[str, tuple[str, ...]] = {}
    type_names: dict[str, str] = {}  # the registered name, not an alias, as the native runtime says
    for node in manifest.nodes:
        base = f"$.nodes[{node.index}]"
        prev = first_index.get(node.id)
        if prev is not None:  # rule 18
            raise GraphError(
                f"duplicate node id {quoted(node.id)} (already used by $.nodes[{prev}])",
                path=f"{base}.id",
            )
        first_index[node.id] = node.index
        spec = lookup(node.node_type)  # rule 19
        if spec is None:
            raise UnknownNodeTypeError(
                f"unknown node type {quoted(node.node_type)}", path=f"{base}.node_type"
            )
        problem = spec.check_params(node.params)  # rule 20
        if problem and problem[1]:
            name, message = problem
            if name == "" or name[0] in ".[":
                path = f"{base}.params{name}"
            else:
                path = key_path(f"{base}.params", name)
            raise InvalidParameterError(message, path=path)
        ports[node.id] = spec.output_ports(node.params)
        type_names[node.id] = spec.name
    if manifest.connections is None:
        for node in manifest.nodes[:-1]:  # an implicit chain leaves each node by its only port
            _resolve_port(node.id, type_names[node.id], ports[node.id], None, f"$.nodes[{node.index}]")
        return
    first_connection: dict[tuple[str, str, str], int] = {}
    for c in manifest.connections:
        base = f"$.connections[{c.index}]"
        if c.source not in first_index:  # rule 21
            raise GraphError(
                f"connection source {quoted(c.source)} names no node", path=f"{base}.from"
            )
        if c.target not in first_index:
            raise GraphError(
                f"connection target {quoted(c.target)} names no node", path=f"{base}.to"
            )
        port = _resolve_port(c.source, type_names[c.source], ports[c.source], c.port, base)
        key = (c.source, port, c.target)
        prev = first_connection.get(key)
        if prev is not None:  # rule 22
            raise GraphError(
                f"duplicate connection {quoted(c.source)} -> {quoted(c.target)} "
                f"(same as $.connections[{prev}])",
                path=base,
            )
        first_connection[key] = c.index
    cycle = find_cycle(manifest)  # rule 23
    if cycle:
        raise GraphError(f"connections form a cycle: {format_cycle(cycle)}", path="$.connections")


# --------------------------------------------------------------------------------------------
# Public API


def parse_manifest(doc: str | bytes | dict, lookup: Lookup | None = None) -> Manifest:
    """Parse and validate a v1 manifest given as JSON text (str or UTF-8 bytes) or as a parsed
    dict. ``lookup(node_type)`` returns the NodeTypeSpec of a registered type (aliases included)
    or None; by default the registry's ``remotemedia.core.registry.lookup``.

    Raises the ManifestError subclass and path of the first failing rule of docs/MANIFEST.md.
    A dict is not affected by the size limit; it must be JSON data (see _check_data) and is
    deep-copied, so the Manifest shares nothing with the caller's dict."""
    if isinstance(doc, (str, bytes, bytearray, memoryview)):
        data = _load_text(doc)
    elif isinstance(doc, (dict, list)):
        _check_data(doc)
        data = copy.deepcopy(doc)
    else:
        raise TypeError(
            f"parse_manifest expects JSON text (str or bytes) or a dict, got {type(doc).__name__}"
        )
    manifest = _structure(data)
    _semantics(manifest, lookup)
    return manifest


def manifest_to_dict(manifest: Manifest) -> dict:
    """The v1 document of a Manifest (a fresh dict; optional fields only when set).
    ``parse_manifest(manifest_to_dict(m)) == m`` for a valid manifest."""
    out: dict[str, Any] = {"version": manifest.version}
    metadata = copy.deepcopy(manifest.metadata) if manifest.metadata is not None else None
    if manifest.name is not None:
        metadata = metadata if metadata is not None else {}
        metadata["name"] = manifest.name
    if metadata is not None:
        out["metadata"] = metadata
    nodes = []
    for n in manifest.nodes:
        node: dict[str, Any] = {
            "id": n.id,
            "node_type": n.node_type,
            "params": copy.deepcopy(n.params),
        }
        if n.capabilities is not None:
            node["capabilities"] = copy.deepcopy(n.capabilities)
        if n.host is not None:
            node["host"] = n.host
        if n.runtime_hint is not None:
            node["runtime_hint"] = n.runtime_hint
        nodes.append(node)
    out["nodes"] = nodes
    if manifest.connections is not None:
        out["connections"] = [
            {"from": c.source, "to": c.target, **({} if c.port is None else {"from_port": c.port})}
            for c in manifest.connections
        ]
    return out


def manifest_to_json(manifest: Manifest, indent: int | None = None) -> str:
    """``manifest_to_dict`` as JSON text (NaN/Infinity refused, as the parser refuses them)."""
    return json.dumps(manifest_to_dict(manifest), indent=indent, allow_nan=False)
