"""The seed document's "For Users" snippet, as written, with a concrete list.

    python examples/seed_quickstart.py
"""

import asyncio

from remotemedia import Pipeline
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import CalculatorNode


async def main() -> None:
    pipeline = Pipeline("fast")
    pipeline.add_node(PassThroughNode(name="p1"))
    pipeline.add_node(CalculatorNode(name="calc", operation="add", operand=5))

    result = await pipeline.run(list(range(1, 101)))
    print(f"native:  {result[:5]} ... {result[-3:]} ({len(result)} items)")

    reference = await pipeline.run(list(range(1, 101)), use_rust=False)  # the seed's keyword
    print(f"python:  {reference[:5]} ... {reference[-3:]} (same: {reference == result})")
    print("manifest:", pipeline.serialize())


if __name__ == "__main__":
    asyncio.run(main())
