"""The flow family: nodes that group, select, transform and route items. Native implementations
live in src/nodes/flow.cpp; both follow docs/SEMANTICS.md and docs/EXPRESSIONS.md, and raise the
same errors at the same parameter paths."""

from __future__ import annotations

from typing import Any, Callable

from remotemedia.core.expression import Expression
from remotemedia.core.manifest import key_path
from remotemedia.core.node import Node, ToPort
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import InvalidParameterError, quoted

__all__ = ["BufferNode", "FilterNode", "MapNode", "RouterNode"]


def _syntax(text: str, suffix: str) -> tuple[str, str] | None:
    try:
        Expression.parse(text)
    except InvalidParameterError as exc:
        return suffix, exc.message
    return None


def _init_expression_node(node: Node, name: str | None, key: str, value: Any, kw: dict) -> None:
    """Node.__init__ of a Filter or Map whose ``key`` parameter is an expression or a Python
    function. A function makes the node run as Python (python_only_reason); the other parameters
    are still checked, with a placeholder expression in its place."""
    if callable(value):
        Node.__init__(node, name, **{key: "item"}, **kw)
        node.config = {key: value}
    elif value is None:
        Node.__init__(node, name, **kw)  # raises: the expression is required
    else:
        Node.__init__(node, name, **{key: value}, **kw)


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


@register_node_type(aliases=("Filter",))
class FilterNode(Node):
    """Keeps the items for which the condition (an expression) is true."""

    PARAMS = (ParamSpec("condition", "string", required=True,
                        description="An expression of `item` (docs/EXPRESSIONS.md)."),)

    def __init__(self, name: str | None = None, condition: str | Callable[[Any], Any] | None = None, **kw: Any):
        _init_expression_node(self, name, "condition", condition, kw)
        self._test = condition if callable(condition) else Expression.parse(self.config["condition"]).truthy

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        return _syntax(params["condition"], ".condition")

    def python_only_reason(self) -> str | None:
        return "its condition is a Python callable" if callable(self.config.get("condition")) else None

    def process(self, item: Any) -> Any:
        return item if self._test(item) else None


@register_node_type(aliases=("Map",))
class MapNode(Node):
    """Emits the value of the expression for each item (a None value emits nothing)."""

    PARAMS = (ParamSpec("expression", "string", required=True,
                        description="An expression of `item` (docs/EXPRESSIONS.md)."),)

    def __init__(self, name: str | None = None, expression: str | Callable[[Any], Any] | None = None, **kw: Any):
        _init_expression_node(self, name, "expression", expression, kw)
        self.process = expression if callable(expression) else Expression.parse(self.config["expression"]).evaluate

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        return _syntax(params["expression"], ".expression")

    def python_only_reason(self) -> str | None:
        return "its expression is a Python callable" if callable(self.config.get("expression")) else None


def _route_table(params: dict) -> tuple[list[tuple[Expression, str]], tuple[str, ...], str | None]:
    """The routes parsed, the ports (first use, then a new default) and the default port. Raises
    InvalidParameterError whose ``path`` is the suffix below params; the order of the checks is
    route_table's in src/nodes/flow.cpp."""

    def fail(message: str, suffix: str):
        raise InvalidParameterError(message, path=suffix)

    ports: list[str] = []
    routes = []
    for r, route in enumerate(params["routes"]):
        base = f".routes[{r}]"
        if type(route) is not dict:
            fail('a route must be an object {"when": ..., "to": ...}', base)
        for key in route:
            if key not in ("when", "to"):
                fail(f"unknown key {quoted(key)} in a route", key_path(base, key))
        when, to = route.get("when"), route.get("to")
        if type(when) is not str:
            fail('a route needs "when": an expression', f"{base}.when")
        if type(to) is not str or not to:
            fail('a route needs "to": a port name', f"{base}.to")
        try:
            expression = Expression.parse(when)
        except InvalidParameterError as exc:
            fail(exc.message, f"{base}.when")
        if to not in ports:
            ports.append(to)
        routes.append((expression, to))
    default = params.get("default")
    if default is not None:
        if type(default) is not str or not default:
            fail("'default' must be a port name or null", ".default")
        if default not in ports:
            ports.append(default)
    if not ports:
        fail("a router needs at least one route or a default", ".routes")
    return routes, tuple(ports), default


@register_node_type(aliases=("Router",))
class RouterNode(Node):
    """Sends each item to the output port of the first route whose condition holds, else to the default port."""

    PARAMS = (
        ParamSpec("routes", "list", required=True,
                  description='[{"when": expression, "to": port}, ...], tried in order.'),
        ParamSpec("default", "any", description="The port for items no route takes; null drops them."),
    )

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__(name, **config)
        self._routes, self._ports, self._default = _route_table(self.config)
        self._tests = [(expr.truthy, port) for expr, port in self._routes]

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        try:
            _route_table(params)
        except InvalidParameterError as exc:
            return exc.path, exc.message
        return None

    @classmethod
    def ports_for(cls, params: dict) -> tuple[str, ...]:
        return _route_table(params)[1]

    def process(self, item: Any) -> Any:
        single = len(self._ports) == 1  # one port: plain outputs, as any single-port node
        for test, port in self._tests:
            if test(item):
                return item if single else ToPort(port, item)
        if self._default is not None:
            return item if single else ToPort(self._default, item)
        return None
