"""Random built-in flow nodes for the hypothesis tests of graphs and sessions: each test draws a
kind from BUILTIN_KINDS plus its own Python nodes, and builtin_node makes the built-in ones."""

from hypothesis import strategies as st

from remotemedia.nodes import BufferNode, CalculatorNode, FilterNode, MapNode, PassThroughNode, RouterNode

BUILTIN_KINDS = ["pass", "calc", "buffer", "filter", "map", "router"]


def builtin_node(draw, kind: str, name: str, expressions: list[str]):
    """A node of a built-in kind with drawn parameters; expressions are drawn from `expressions`."""
    if kind == "pass":
        return PassThroughNode(name=name)
    if kind == "calc":
        return CalculatorNode(name=name, operation=draw(st.sampled_from(["add", "multiply", "modulo"])),
                              operand=draw(st.integers(-3, 3)))
    if kind == "buffer":
        return BufferNode(name=name, buffer_size=draw(st.integers(1, 3)))
    if kind == "filter":
        return FilterNode(name=name, condition=draw(st.sampled_from(expressions)))
    if kind == "map":
        return MapNode(name=name, expression=draw(st.sampled_from(expressions)))
    if kind == "router":
        routes = [{"when": draw(st.sampled_from(expressions)), "to": p} for p in ("a", "b")[: draw(st.integers(1, 2))]]
        return RouterNode(name=name, routes=routes, default=draw(st.sampled_from([None, "c"])))
    raise ValueError(f"not a built-in kind: {kind}")
