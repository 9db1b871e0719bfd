"""What a value is, on both executors (docs/SEMANTICS.md, "Values and their types"): None is never a
node's output (Filter included), a str with a lone surrogate is a str, a list or dict nested more
than 64 levels deep (or containing itself) is refused where it enters the runtime, and a list or
dict a node passes on unchanged is the very object."""

from __future__ import annotations

import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Node, Pipeline  # noqa: E402
from remotemedia.core.items import NESTING_LIMIT, TOO_DEEP  # noqa: E402
from remotemedia.errors import NodeValueError  # noqa: E402
from remotemedia.nodes import BufferNode, FilterNode, MapNode, PassThroughNode, RouterNode  # noqa: E402

RUNTIMES = ("native", "python")


def outcome(run):
    try:
        return "ok", run()
    except Exception as exc:  # noqa: BLE001 - the class and the words are compared
        return type(exc), str(exc)


def nested(depth: int):
    """A list of `depth` levels: [[...[0]...]] (depth 1 is [0])."""
    v = 0
    for _ in range(depth):
        v = [v]
    return v


# --------------------------------------------------------------------------------- None

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_filter_never_emits_none(runtime):
    p = Pipeline([FilterNode(name="f", condition="not is_str(item)")])
    items = [None, 1, "x", None, 0.5]
    assert p.run_sync(items, runtime=runtime) == [1, 0.5]
    assert list(p.stream_sync(items, runtime=runtime)) == [1, 0.5], "item by item, as in a session"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_condition_on_none_still_runs_and_may_fail(runtime):
    p = Pipeline([FilterNode(name="f", condition="item > 0")])
    with pytest.raises(Exception) as info:
        p.run_sync([1, None], runtime=runtime)
    assert getattr(info.value, "item_index", None) == 1


# ------------------------------------------------------------------------ lone surrogates

SURROGATES = ["\ud800x", "a\udfffb", "\udc80", "é\ud83d"]


@pytest.mark.parametrize("text", SURROGATES)
def test_a_lone_surrogate_str_is_a_str_on_both(text):
    for expression in ("len(item)", "item + 'z'", "item[0]", "item == 'x'", "is_str(item)", "item < '\uffff'",
                       "[item, len(item)]", "item in ['x', 'ab']"):
        p = Pipeline([MapNode(name="m", expression=expression)])
        native, python = (outcome(lambda rt=rt: p.run_sync([text], runtime=rt)) for rt in RUNTIMES)
        assert native == python, f"{expression!r} on {text!r}"
    assert Pipeline([PassThroughNode(name="p")]).run_sync([text, {text: text}], runtime="native") == [text, {text: text}]


# ---------------------------------------------------------------------------- nesting

def self_containing():
    a: list = [1]
    a.append(a)
    return a


def deep_dict(depth):
    v: object = 0
    for _ in range(depth):
        v = {"k": v}
    return v


@pytest.mark.parametrize("make", [lambda: nested(NESTING_LIMIT + 1), lambda: nested(100_000), self_containing,
                                  lambda: deep_dict(NESTING_LIMIT + 1), lambda: [1, [2, nested(NESTING_LIMIT)]]])
@pytest.mark.parametrize("node", [PassThroughNode, lambda name: MapNode(name=name, expression="item == item")])
def test_too_deep_inputs_are_refused_alike(make, node):
    p = Pipeline([node(name="n")])
    results = {rt: outcome(lambda rt=rt: p.run_sync([5, make()], runtime=rt)) for rt in RUNTIMES}
    assert results["native"] == results["python"] == (NodeValueError, f"item 1: {TOO_DEEP}")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_deepest_allowed_value_passes_and_compares(runtime):
    deepest = nested(NESTING_LIMIT)  # 64 lists
    p = Pipeline([MapNode(name="m", expression="item == item")])
    assert p.run_sync([deepest, deep_dict(NESTING_LIMIT)], runtime=runtime) == [True, True]
    # A dict with a key that is not a str is an opaque object: not looked into, so not refused.
    opaque = {1: nested(NESTING_LIMIT + 5)}
    assert Pipeline([PassThroughNode(name="p")]).run_sync([opaque], runtime=runtime)[0] is opaque


class MakesDeep(Node):
    def process(self, n):
        return nested(n)


class YieldsDeep(Node):
    def process(self, n):
        yield n
        yield nested(n)


class AwaitsDeep(Node):
    async def process(self, n):
        return nested(n)


class FlushesDeep(Node):
    def process(self, n):
        self.n = n

    def flush(self):
        return nested(self.n)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_flush_making_a_too_deep_value_fails_at_end_of_stream(runtime):
    got = outcome(lambda: Pipeline([FlushesDeep(name="deep")]).run_sync([NESTING_LIMIT + 1], runtime=runtime))
    assert got == (NodeValueError, f"node 'deep' (FlushesDeep) failed at end of stream: {TOO_DEEP}")


@pytest.mark.parametrize("node_class", [MakesDeep, YieldsDeep, AwaitsDeep])
@pytest.mark.parametrize("last", [False, True])
def test_a_user_node_making_a_too_deep_value_fails_on_that_item(node_class, last):
    nodes = [node_class(name="deep")] + ([] if last else [PassThroughNode(name="p")])
    p = Pipeline(nodes)
    results = {rt: outcome(lambda rt=rt: p.run_sync([3, NESTING_LIMIT + 1], runtime=rt)) for rt in RUNTIMES}
    assert results["native"] == results["python"]
    assert results["python"] == (NodeValueError, f"node 'deep' ({node_class.__name__}) failed on item 1: {TOO_DEEP}")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sessions_refuse_a_too_deep_item_on_send(runtime):
    p = Pipeline([PassThroughNode(name="p")])
    with p.sync_session(runtime=runtime) as s:
        with pytest.raises(NodeValueError, match="nested more than 64 levels"):
            s.send(self_containing())
        s.send([1])
        s.end()
        assert list(s) == [[1]]


# ---------------------------------------------------------------------------- identity

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_list_or_dict_passed_on_unchanged_is_the_very_object(runtime):
    a, d = [1, [2, 3]], {"k": [4]}
    p = Pipeline([PassThroughNode(name="p"), FilterNode(name="f", condition="len(item) > 0"),
                  RouterNode(name="r", routes=[{"when": "True", "to": "out"}])])
    out = p.run_sync([a, d], runtime=runtime)
    assert out[0] is a and out[1] is d
    # A node that builds a new container gives a new one; the elements are still the very objects.
    grouped = Pipeline([BufferNode(name="b", buffer_size=2)]).run_sync([a, d], runtime=runtime)
    assert grouped == [[a, d]] and grouped[0][0] is a and grouped[0][1] is d
    picked = Pipeline([MapNode(name="m", expression="item[1]")]).run_sync([a], runtime=runtime)
    assert picked[0] is a[1]


class Keep(Node):
    """Returns the same list object every time: outputs alias it, on both executors."""

    def initialize(self):
        self.seen = []

    def process(self, x):
        self.seen.append(x)
        return self.seen


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_user_nodes_list_reaches_the_next_node_as_itself(runtime):
    out = Pipeline([Keep(name="keep"), PassThroughNode(name="p")]).run_sync([1, 2, 3], runtime=runtime)
    assert out[0] is out[1] is out[2] and out[0] == [1, 2, 3]
