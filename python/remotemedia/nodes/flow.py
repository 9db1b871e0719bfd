"""The flow family: nodes that group, select, transform and route items. Native implementations
live in src/nodes/flow.cpp; both follow docs/SEMANTICS.md."""

from __future__ import annotations

from typing import Any

from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type

__all__ = ["BufferNode"]


@register_node_type(aliases=("Buffer",))
class BufferNode(Node):
    """Groups items into lists of buffer_size; the remainder is emitted at end of input."""

    PARAMS = (ParamSpec("buffer_size", "int", required=True, description="Items per emitted list (at least 1).",
                        minimum=1),)

    def initialize(self) -> None:
        self._held: list = []

    def process(self, item: Any) -> list | None:
        held = self._held
        held.append(item)
        if len(held) == self.config["buffer_size"]:
            self._held = []
            return held
        return None

    def flush(self) -> list | None:
        held, self._held = self._held, []
        return held or None
