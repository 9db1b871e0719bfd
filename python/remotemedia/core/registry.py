"""The Python node-type registry: node type name (or alias) -> NodeTypeSpec with its node class.

The manifest validator resolves ``node_type`` with ``lookup`` and checks parameters with the spec's
``check_params``; ``Pipeline.from_manifest`` builds nodes with ``create_node``. The built-in node
types register themselves when ``remotemedia.nodes`` is imported, which importing this module does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, TypeVar

from remotemedia.core.node import Node
from remotemedia.core.params import NodeTypeSpec
from remotemedia.errors import UnknownNodeTypeError, quoted

__all__ = ["register_node_type", "unregister_node_type", "lookup", "node_types", "create_node"]

N = TypeVar("N", bound=type[Node])

# Every name and alias maps to the spec of its node type.
_by_name: dict[str, NodeTypeSpec] = {}


def register_node_type(
    cls: N | None = None, name: str | None = None, aliases: tuple[str, ...] = ()
) -> N | Callable[[N], N]:
    """Register a Node subclass under ``name`` (default: its ``node_type``) and ``aliases``.

    Usable as ``register_node_type(MyNode)``, ``@register_node_type`` or
    ``@register_node_type(aliases=("Mine",))``. Registering under another name sets the class's
    ``node_type`` to it, so pipelines serialize the name the registry knows. Registering the same
    class again replaces its names; a name already taken by another class is a ValueError."""
    if cls is None:
        return lambda c: register_node_type(c, name, aliases)
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise TypeError(f"register_node_type expects a Node subclass, got {cls!r}")
    spec = dataclasses.replace(cls.type_spec(), name=name or cls.node_type, aliases=tuple(aliases))
    names = (spec.name, *spec.aliases)
    for n in names:
        taken = _by_name.get(n)
        if taken is not None and taken.node_class is not cls:
            raise ValueError(f"node type name {quoted(n)} is already registered for {taken.node_class!r}")
    for n in [n for n, s in _by_name.items() if s.node_class is cls]:
        del _by_name[n]
    for n in names:
        _by_name[n] = spec
    cls.node_type = spec.name
    return cls


def unregister_node_type(name: str) -> None:
    """Remove a node type (given by its name or an alias) with all its aliases."""
    spec = _by_name.get(name)
    if spec is None:
        raise UnknownNodeTypeError(f"unknown node type {quoted(name)}", path=None)
    for n in (spec.name, *spec.aliases):
        del _by_name[n]


def lookup(name: str) -> NodeTypeSpec | None:
    """The spec registered under ``name`` or one of its aliases, or None."""
    return _by_name.get(name)


def node_types() -> list[NodeTypeSpec]:
    """Every registered node type once, sorted by name."""
    return sorted({id(s): s for s in _by_name.values()}.values(), key=lambda s: s.name)


def create_node(node_type: str, node_id: str, params: dict[str, Any] | None = None) -> Node:
    """A new node of a registered type (name or alias) with the given id and parameters."""
    spec = _by_name.get(node_type)
    if spec is None:
        raise UnknownNodeTypeError(f"unknown node type {quoted(node_type)}", path=None)
    return spec.node_class(name=node_id, **(params or {}))


import remotemedia.nodes  # noqa: E402,F401  (registers the built-in node types)
