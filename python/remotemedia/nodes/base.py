"""Basic built-in nodes."""

from __future__ import annotations

from typing import Any

from remotemedia.core.node import Node
from remotemedia.core.registry import register_node_type

__all__ = ["Node", "PassThroughNode"]


@register_node_type(aliases=("PassThrough",))
class PassThroughNode(Node):
    """Emits every item unchanged."""

    def process(self, item: Any) -> Any:
        return item
