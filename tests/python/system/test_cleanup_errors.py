"""Cleanup failures in ``Pipeline.run``: the native run raises what the Python executor raises.

A node's ``cleanup`` (or an ``initialize`` that failed before it) that raises replaces the run's
outcome as an exception raised in a ``finally`` does (docs/SEMANTICS.md): the error it replaced
becomes its ``__context__``, and a second failing cleanup replaces the first the same way. Both
runtimes must give the same class, message, node, item index and notes, all along that chain.
"""

from __future__ import annotations

import asyncio

import pytest
from error_chains import context_chain, describe

from remotemedia import Node, Pipeline, _native
from remotemedia.nodes import BufferNode, MapNode, PassThroughNode, RouterNode

native_only = pytest.mark.skipif(_native.runtime_module() is None, reason="no native runtime")


class CleanupFails(Node):
    """Passes items on; its cleanup raises KeyError."""

    def process(self, x):
        return x

    def cleanup(self):
        raise KeyError(f"cleanup of {self.name}")


class AsyncCleanupFails(CleanupFails):
    async def cleanup(self):
        await asyncio.sleep(0)
        raise LookupError(f"async cleanup of {self.name}")


class CleanupFailsWhileHandling(CleanupFails):
    """Its cleanup's error already has a context of its own (raised in an ``except`` block)."""

    def cleanup(self):
        try:
            {}["missing"]
        except KeyError:
            raise RuntimeError(f"cleanup of {self.name}, while handling")  # noqa: B904 - a context


class FailOn(Node):
    """Raises ValueError on the item equal to ``bad``, from inside an ``except`` block."""

    def __init__(self, name=None, bad=2, **kw):
        super().__init__(name, **kw)
        self.bad = bad

    def process(self, x):
        if x == self.bad:
            try:
                int("not a number")
            except ValueError:
                raise ValueError(f"{x} is bad") from None
        return x


class FailOnWithContext(FailOn):
    def process(self, x):
        if x == self.bad:
            try:
                [][0]
            except IndexError:
                raise ValueError(f"{x} is bad")  # noqa: B904 - the context is the point
        return x


class InitFails(Node):
    def initialize(self):
        raise RuntimeError(f"no {self.name}")

    def process(self, x):
        return x


def graph():
    """c1 -> r; r.small -> c2; r.big -> f: pushed item by item (no chain)."""
    p = Pipeline(name="graph")
    r = RouterNode(name="r", routes=[{"when": "item < 3", "to": "small"}], default="big")
    p.connect(CleanupFails("c1"), r)
    p.connect(r.output("small"), CleanupFails("c2"))
    p.connect(r.output("big"), FailOn("f", bad=4))
    return p


CASES = {
    # name: (pipeline, items)
    "a Python node fails, then a cleanup": (
        lambda: Pipeline([CleanupFails("c"), PassThroughNode(name="p"), FailOn("f", bad=2)]), [0, 1, 2, 3]),
    "a native node fails, then a cleanup": (
        lambda: Pipeline([CleanupFails("c"), MapNode(name="m", expression="10 / item")]), [5, 2, 0, 1]),
    "two cleanups after a failure": (
        lambda: Pipeline([CleanupFails("c1"), AsyncCleanupFails("c2"), FailOn("f", bad=1)]), [0, 1]),
    "three cleanups after a failure with its own context": (
        lambda: Pipeline([CleanupFails("c1"), CleanupFailsWhileHandling("c2"), CleanupFails("c3"),
                          FailOnWithContext("f", bad=1)]), [0, 1]),
    "a cleanup alone, after a clean end": (
        lambda: Pipeline([CleanupFails("c"), BufferNode(name="b", buffer_size=2)]), [1, 2, 3]),
    "an async cleanup after a flush failure": (
        lambda: Pipeline([AsyncCleanupFails("c"), BufferNode(name="b", buffer_size=2),
                          MapNode(name="m", expression="1 / (len(item) - 1)")]), [1, 2, 3]),
    "cleanups after an initialize failure": (
        lambda: Pipeline([CleanupFails("c1"), AsyncCleanupFails("c2"), InitFails("i"), CleanupFails("never")]),
        [1]),
    "a graph (no chain): a node fails, then two cleanups": (lambda: graph(), [1, 4, 2]),
}


def run_error(make, items, runtime, *, use_async=False):
    pipeline = make()
    with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
        if use_async:
            asyncio.run(pipeline.run(items, runtime=runtime))
        else:
            pipeline.run_sync(items, runtime=runtime)
    return caught.value


@native_only
@pytest.mark.parametrize("use_async", [False, True], ids=["run_sync", "run"])
@pytest.mark.parametrize("case", CASES)
def test_the_native_run_raises_the_python_runs_chain_of_replaced_errors(case, use_async):
    make, items = CASES[case]
    # The reference is the Python executor's `run` (see the xfail below for its run_sync).
    expected = run_error(make, items, "python", use_async=True)
    got = run_error(make, items, "native", use_async=use_async)
    assert describe(got) == describe(expected)
    assert context_chain(got) == context_chain(expected)
    assert not got.__suppress_context__ and got.__cause__ is None


def test_the_python_run_chains_the_replaced_errors_as_a_finally_does():
    # What the native run is compared with, pinned down: the last cleanup to fail (the first node's)
    # wins, and the chain runs back through each error it replaced to the node's failure and that
    # failure's own context.
    make, items = CASES["three cleanups after a failure with its own context"]
    chain = context_chain(run_error(make, items, "python"))
    assert [(d[0], d[1]) for d in chain] == [
        (KeyError, "'cleanup of c1'"), (RuntimeError, "cleanup of c2, while handling"),
        (KeyError, "'missing'"), (KeyError, "'cleanup of c3'"),
        (ValueError, "1 is bad"),
        (IndexError, "list index out of range"),
    ]
    assert chain[4][2:4] == ("f", 1)
    assert chain[0][4] == ["raised in cleanup() of node 'c1' (CleanupFails)"]

    make, items = CASES["a cleanup alone, after a clean end"]
    assert context_chain(run_error(make, items, "python")) == [
        (KeyError, "'cleanup of c'", None, None, ["raised in cleanup() of node 'c' (CleanupFails)"])
    ]


@native_only
def test_each_native_run_makes_its_own_chain():
    # The replaced errors of one run are not those of the next: a run keeps no state.
    make, items = CASES["two cleanups after a failure"]
    pipeline = make()
    errors = []
    for _ in range(3):
        with pytest.raises(LookupError) as caught:
            pipeline.run_sync(items, runtime="native")
        errors.append(caught.value)
    assert len({id(e) for e in errors}) == 3
    assert len({id(e.__context__) for e in errors}) == 3
    for e in errors:
        assert context_chain(e) == context_chain(run_error(make, items, "python", use_async=True))


def test_the_python_run_sync_keeps_the_chain_of_the_python_run():
    make, items = CASES["two cleanups after a failure"]
    assert context_chain(run_error(make, items, "python")) == context_chain(
        run_error(make, items, "python", use_async=True))
