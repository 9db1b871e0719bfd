"""Parameter schemas of node types: the Python side of the registry's parameter checking.

The native registry publishes the same schema for its node types (``_runtime.node_types()``); a test
checks that both agree for every built-in node type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
import math

from remotemedia.errors import quoted

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

PARAM_TYPES = ("int", "number", "string", "bool", "list", "map", "any")

_MISSING = object()


def plain_scalar(value: Any) -> Any:
    """A numpy scalar (np.int64(3), np.float32(0.5), np.bool_(True), np.str_("a")) as the Python
    value it holds; anything else unchanged."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str  # one of PARAM_TYPES
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None  # smallest allowed value of an int or number
    maximum: float | None = None  # largest allowed value of an int or number

    def normalized(self, value: Any) -> Any:
        """``value`` as the Python API takes it for this parameter: a numpy scalar becomes the
        Python number, bool or str it holds, and an integral float where an int is wanted the int
        (``sample_rate=16000.0``); anything else stays as it is, for check() to judge. Manifests
        are not normalized: their JSON says what it says."""
        value = plain_scalar(value)
        if self.type == "int" and type(value) is float and value.is_integer() and math.isfinite(value):
            return int(value)
        return value

    def check(self, value: Any) -> str | None:
        """Return a message describing why ``value`` is not acceptable, or None if it is."""
        problem = self._check_type(value)
        if problem is None and self.minimum is not None and type(value) in (int, float):
            if value < self.minimum:
                m = self.minimum
                return f"must be at least {int(m) if float(m).is_integer() else m}"
        if problem is None and self.maximum is not None and type(value) in (int, float):
            if value > self.maximum:
                m = self.maximum
                return f"must be at most {int(m) if float(m).is_integer() else m}"
        return problem

    def _check_type(self, value: Any) -> str | None:
        t = self.type
        if t == "int":
            if type(value) is not int:
                return f"must be an integer, got {_json_type(value)}"
            if not INT64_MIN <= value <= INT64_MAX:
                return "must fit in int64"
        elif t == "number":
            if type(value) not in (int, float):
                return f"must be a number, got {_json_type(value)}"
            if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
                return "must fit in int64"
            if type(value) is float and not math.isfinite(value):
                return "must be finite (JSON has no inf or nan)"
        elif t == "string":
            if type(value) is not str:
                return f"must be a string, got {_json_type(value)}"
            if self.choices and value not in self.choices:
                return f"must be one of {', '.join(self.choices)}; got {quoted(value)}"
        elif t == "bool":
            if type(value) is not bool:
                return f"must be a boolean, got {_json_type(value)}"
        elif t == "list":
            if not isinstance(value, list):
                return f"must be a list, got {_json_type(value)}"
        elif t == "map":
            if not isinstance(value, dict):
                return f"must be an object, got {_json_type(value)}"
        return None


@dataclass(frozen=True)
class NodeTypeSpec:
    """What the registry knows of a node type: its name, aliases and parameters."""

    name: str
    params: tuple[ParamSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    node_class: Any = field(default=None, compare=False)
    #: The names of a node's output ports from its parameters (a router's come from its routes);
    #: None means the one port "out".
    ports: Callable[[dict], tuple[str, ...]] | None = field(default=None, compare=False)
    #: Checks what the schema cannot say (an expression's syntax, a route list's shape), after the
    #: schema checks pass: (path suffix below params, such as ".condition" or ".routes[0].when",
    #: message) for the first problem, or None. The native registry's ParamsCheck says the same.
    check: Callable[[dict], tuple[str, str] | None] | None = field(default=None, compare=False)
    #: A user's node class that declares no PARAMS: any parameters (JSON data) are its own.
    open_params: bool = False

    def output_ports(self, params: dict) -> tuple[str, ...]:
        return ("out",) if self.ports is None else tuple(self.ports(params))

    def param(self, name: str) -> ParamSpec | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def check_params(self, params: dict) -> tuple[str, str] | None:
        """Return (param name or '' or a path suffix starting with "." or "[", message) for the
        first problem, or None.

        Order: unknown names (in the order given), then each declared parameter in declaration
        order (missing required, then type and bounds), then ``check``; a fault ``check`` finds in
        a parameter declared before the one the schema faults comes first. The native registry's
        validate_params checks in the same order."""
        if self.open_params:
            return None
        for name in params:
            if self.param(name) is None:
                return name, f"unknown parameter {quoted(name)} for {self.name}"
        for k, p in enumerate(self.params):
            if p.name not in params:
                if p.required:
                    return self._earlier_check_problem(params, k) or (
                        "",
                        f"missing required parameter {quoted(p.name)} for {self.name}",
                    )
                continue
            problem = p.check(params[p.name])
            if problem:
                return self._earlier_check_problem(params, k) or (
                    p.name,
                    f"parameter {quoted(p.name)} {problem}",
                )
        return None if self.check is None else self.check(params)

    def _earlier_check_problem(self, params: dict, failed: int) -> tuple[str, str] | None:
        """What ``check`` says of a parameter declared before ``self.params[failed]``, which fails
        its schema: asked with the parameters from that one on as given where they pass the schema
        and left out (at their defaults) where not; a required one that does not pass leaves
        nothing safe to ask with. The native registry's validate_params asks the same way."""
        if self.check is None:
            return None
        probe = {}
        for k, p in enumerate(self.params):
            if p.name in params and (k < failed or p.check(params[p.name]) is None):
                probe[p.name] = params[p.name]
            elif p.required:
                return None
        found = self.check(probe)
        if found and found[1] and self._param_index(found[0]) < failed:
            return found
        return None

    def _param_index(self, where: str) -> int:
        """The index of the declared parameter a check_params location points into (a name, or a
        suffix ".name...", '["odd name"]...'), or len(self.params) for the parameters as a whole."""
        from remotemedia.core.manifest import key_path  # manifest imports this module

        for k, p in enumerate(self.params):
            if where == p.name:
                return k
            at = key_path("", p.name)
            if where.startswith(at) and where[len(at) : len(at) + 1] in ("", ".", "["):
                return k
        return len(self.params)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "number"
    if type(value) is str:
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
