"""One exception family for both executors.

The native binding raises these same classes (it looks them up by name in this module), so a caller
catches the same type whichever executor ran. Messages are formatted here, from the bare message and
the location fields, so both executors print faults the same way.
"""

from __future__ import annotations

__all__ = [
    "RemoteMediaError",
    "ManifestError",
    "UnknownNodeTypeError",
    "InvalidParameterError",
    "GraphError",
    "NodeError",
    "NodeTypeError",
    "NodeValueError",
    "NodeZeroDivisionError",
    "NodeOverflowError",
    "RuntimeUnavailableError",
    "annotate_node_exception",
    "quoted",
]

# What quoted() writes for the characters it escapes; other control characters become \xNN.
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quoted(text: str) -> str:
    """``text`` as messages quote a node id, node type, parameter name or string value, the same on
    both runtimes (C++ ``remotemedia::quote``): in single quotes, with backslash, single quote,
    newline, tab and carriage return escaped as ``\\\\ \\' \\n \\t \\r``, other control
    characters (and DEL) as ``\\xNN``, a lone surrogate (only a dict can hold one) as ``\\uDXXX``,
    everything else as is. A plain name reads ``'a'``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


class RemoteMediaError(Exception):
    """Base of every error RemoteMedia raises on its own account."""

    def __init__(self, message: str, **fields) -> None:
        self.message = message
        for key, value in fields.items():
            setattr(self, key, value)
        super().__init__(self._format())

    def _format(self) -> str:
        return self.message


class ManifestError(RemoteMediaError, ValueError):
    """The manifest (or the pipeline it describes) is invalid. ``path`` is a JSON path like
    ``$.nodes[1].params.operand``."""

    path: str | None = None
    #: Which node, for an error raised by a node's constructor (no manifest, so no path):
    #: "node 'c' (CalculatorNode)"; str() starts with it.
    node: str | None = None

    def __init__(self, message: str, *, path: str | None = "$", node: str | None = None) -> None:
        super().__init__(message, path=path, node=node)

    def _format(self) -> str:
        where = self.path or self.node
        return f"{where}: {self.message}" if where else self.message


class UnknownNodeTypeError(ManifestError):
    """A node type is not registered (under its name or an alias)."""


class InvalidParameterError(ManifestError):
    """A node parameter is missing, unknown, mistyped or out of range."""


class GraphError(ManifestError):
    """Duplicate ids, dangling connections, cycles."""


class NodeError(RemoteMediaError):
    """A node failed on an item. ``item_index`` is the index in that node's input stream, or None
    for a failure at end of stream (flush)."""

    node_id: str | None = None
    node_type: str | None = None
    item_index: int | None = None

    def __init__(
        self,
        message: str,
        *,
        node_id: str | None = None,
        node_type: str | None = None,
        item_index: int | None = None,
    ) -> None:
        super().__init__(message, node_id=node_id, node_type=node_type, item_index=item_index)

    def locate(self, node_id: str, node_type: str, item_index: int | None) -> "NodeError":
        """Fill in where the error happened (the executor knows, the node does not)."""
        self.node_id, self.node_type, self.item_index = node_id, node_type, item_index
        self.args = (self._format(),)
        return self

    def _format(self) -> str:
        if self.node_id is None:
            return self.message
        where = "at end of stream" if self.item_index is None else f"on item {self.item_index}"
        return f"node {quoted(self.node_id)} ({self.node_type}) failed {where}: {self.message}"


class NodeTypeError(NodeError, TypeError):
    """The item's type is not one the node accepts."""


class NodeValueError(NodeError, ValueError):
    """The item's value is outside what the node accepts."""


class NodeZeroDivisionError(NodeError, ZeroDivisionError):
    """Division or modulo by zero, or zero to a negative power."""


class NodeOverflowError(NodeError, OverflowError):
    """A result does not fit the value's type (int64, or an array's int dtype)."""


class RuntimeUnavailableError(RemoteMediaError, ImportError):
    """The native runtime was requested explicitly but cannot be used."""


def annotate_node_exception(
    exc: BaseException, node_id: str, node_type: str, item_index: int | None
) -> BaseException:
    """Attach the location to an exception raised inside a node, keeping its type.

    RemoteMedia's own NodeErrors get their message rewritten; a user's exception keeps its message and
    traceback and gains attributes plus a note, so ``except ValueError`` still catches it."""
    if isinstance(exc, NodeError):
        if exc.node_id is None:
            exc.locate(node_id, node_type, item_index)
        return exc
    if getattr(exc, "node_id", None) is None:
        exc.node_id = node_id  # type: ignore[attr-defined]
        exc.node_type = node_type  # type: ignore[attr-defined]
        exc.item_index = item_index  # type: ignore[attr-defined]
        where = "at end of stream" if item_index is None else f"on item {item_index}"
        exc.add_note(f"raised in node {quoted(node_id)} ({node_type}) {where}")
    return exc
