"""The base class of every pipeline node, built-in or written by a user."""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar, NamedTuple

from remotemedia.core.params import NodeTypeSpec, ParamSpec, plain_scalar
from remotemedia.errors import InvalidParameterError, ManifestError, quoted

__all__ = ["Node", "Port", "ToPort"]


class ToPort(NamedTuple):
    """What a node with several output ports returns (or yields) to emit ``item`` on ``port``."""

    port: str
    item: Any


class Port(NamedTuple):
    """An output port of a node, for ``Pipeline.connect(node.output("neg"), other)``."""

    node: "Node"
    name: str


def _is_user_class(cls: type) -> bool:
    """A node class of the user's, not one of this package's built-in nodes."""
    return cls.__module__.split(".")[0] != "remotemedia"


def _check_undeclared(cls: type, config: dict) -> None:
    """A user node that declares no PARAMS keeps any keyword parameters that are JSON data (what
    serialize() can write); others are refused with what to do instead."""
    for key, value in config.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"parameter '{key}' of {cls.__name__} is not JSON data ({exc}): a node's parameters travel in "
                f"its manifest; keep other values as attributes set in {cls.__name__}.__init__", path=None
            ) from None


class Node:
    """A pipeline stage.

    Subclasses define ``process(item)`` as a plain function, a coroutine function, a generator or an
    async generator. A plain or coroutine ``process`` emits its return value, or nothing when it
    returns None; a generator emits every item it yields. ``flush()`` (same four kinds) runs once at
    end of input and emits leftovers. ``initialize()`` and ``cleanup()`` (sync or ``async def``) run
    once per run; ``cleanup`` also runs after a failure. The executors detect each method's kind
    once per run from its definition, so a plain ``def`` that returns a coroutine is a plain
    function whose result is the coroutine object.

    ``node_type`` (the manifest's ``node_type``) defaults to the class name. ``PARAMS`` declares the
    parameters the node accepts as keyword arguments: they are checked at construction with the
    same rules and messages as the manifest validator, kept in ``self.config`` and returned by
    ``params()`` (what ``Pipeline.serialize`` writes). A user's node class without ``PARAMS``
    keeps any keyword parameters that are JSON data, unchecked; a built-in one without accepts
    none. A subclass with its own ``__init__`` passes its parameters on to ``Node.__init__``:
    ``serialize`` refuses a node whose ``__init__`` takes arguments it cannot write.

    An optional ``process_batch(items)`` (plain or ``async def``) takes a whole list of items and
    returns an iterable of outputs (None entries emit nothing); when a class defines it, the
    executors call it instead of ``process``, once per batch, which suits numpy work. An exception
    it raises is reported at the index of the batch's first item.

    ``runtime_hint`` says where the node runs on the native runtime: "auto" (native code when the
    node is a built-in with a native implementation, else Python inside the native pipeline),
    "native" (an error if there is no native implementation) or "python" (always its Python code).
    """

    node_type: ClassVar[str] = "Node"
    #: The manifest's ``host`` and ``capabilities`` of this node (None when absent): kept and
    #: written back; remote execution will place the node by them (until then it runs here).
    host: str | None = None
    capabilities: dict | None = None
    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()
    RUNTIME_HINTS: ClassVar[tuple[str, ...]] = ("auto", "native", "python")

    _name_counter: ClassVar[itertools.count] = itertools.count(1)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "node_type" not in cls.__dict__:
            cls.node_type = cls.__name__
        cls._name_counter = itertools.count(1)  # default names count per class

    def __init__(self, name: str | None = None, *, runtime_hint: str = "auto", **config: Any) -> None:
        if runtime_hint not in self.RUNTIME_HINTS:
            raise ManifestError(
                f"runtime_hint must be one of auto, native, python; got {quoted(runtime_hint) if isinstance(runtime_hint, str) else repr(runtime_hint)}", path=None
            )
        self.runtime_hint = runtime_hint
        if name is None:
            name = f"{type(self).__name__}_{next(type(self)._name_counter)}"
        elif type(name) is not str or not name:
            hint = ""
            if callable(name):  # FilterNode(lambda x: ...): the first positional argument is the name
                hint = " (a function goes by keyword: FilterNode(condition=f), MapNode(expression=f))"
            raise ManifestError(f"a node name must be a non-empty string, got {name!r}{hint}", path=None)
        self.name = name
        specs = {p.name: p for p in self.PARAMS}
        config = {k: specs[k].normalized(v) if k in specs else plain_scalar(v) for k, v in config.items()}
        self.config = config
        if not self.PARAMS and _is_user_class(type(self)):
            _check_undeclared(type(self), config)  # a user node without PARAMS takes JSON data
            return
        problem = self.type_spec().check_params(config)
        if problem:
            message = problem[1]
            if message.startswith("unknown parameter") and _is_user_class(type(self)):
                message += f" (declare it in {type(self).__name__}.PARAMS, e.g. ParamSpec(name, \"int\"))"
            # Which node: a manifest's error has its JSON path, a constructor's has this.
            raise InvalidParameterError(message, path=None, node=f"node {quoted(name)} ({self.node_type})")

    @classmethod
    def ports_for(cls, params: dict) -> tuple[str, ...]:
        """The output ports a node of this class has with these parameters; one, "out", unless a
        class says otherwise. A node with several emits on them by returning ``ToPort(port, x)``."""
        return ("out",)

    def output_ports(self) -> tuple[str, ...]:
        return type(self).ports_for(self.params())

    def output(self, port: str) -> Port:
        """This node's output port ``port``, to connect from."""
        if port not in self.output_ports():
            raise ValueError(
                f"node {quoted(self.name)} ({self.node_type}) has no output port {quoted(str(port))}; "
                f"its ports: {', '.join(self.output_ports())}"
            )
        return Port(self, port)

    @classmethod
    def type_spec(cls) -> NodeTypeSpec:
        """The node type as the registry describes it (name, parameters, first docstring line)."""
        doc = (cls.__doc__ or "").strip()
        return NodeTypeSpec(
            name=cls.node_type,
            params=tuple(cls.PARAMS),
            description=doc.splitlines()[0] if doc else "",
            node_class=cls,
            ports=None if cls.ports_for.__func__ is Node.ports_for.__func__ else cls.ports_for,
            check=None if cls.check_config.__func__ is Node.check_config.__func__ else cls.check_config,
            open_params=not cls.PARAMS and _is_user_class(cls),
        )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        """Checks of the parameters beyond their declared types, for the manifest validator and
        the constructor: (path suffix such as ".condition", message) for the first problem, or
        None. The default has none."""
        return None

    def python_only_reason(self) -> str | None:
        """Why this node must run its Python code even where its type is native (a FilterNode
        given a Python callable), or None."""
        return None

    def process(self, item: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define process()")

    def flush(self) -> Any:
        """Emit what is left at end of input; the default emits nothing."""
        return None

    def initialize(self) -> None:
        """Acquire resources before the first item of a run."""

    def cleanup(self) -> None:
        """Release what ``initialize`` acquired; runs even when the run failed."""

    def params(self) -> dict[str, Any]:
        """The manifest ``params`` of this node."""
        return dict(self.config)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}(name={self.name!r}{args})"
