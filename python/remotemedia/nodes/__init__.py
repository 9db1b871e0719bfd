"""Built-in node types. Importing this package registers them (``remotemedia.core.registry``)."""

from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import CalculatorNode
from remotemedia.nodes.flow import BufferNode, FilterNode, MapNode, RouterNode

__all__ = ["PassThroughNode", "CalculatorNode", "BufferNode", "FilterNode", "MapNode", "RouterNode"]
