"""The package logs to the "remotemedia" logger (docs/LOGGING.md) and is quiet by default."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from remotemedia import Node, Pipeline, _native
from remotemedia.nodes import CalculatorNode


def test_the_package_is_quiet_unless_logging_is_configured():
    # Without a handler of its own a WARNING would reach Python's last-resort handler on stderr.
    code = ("import logging, remotemedia; logging.getLogger('remotemedia').warning('hello'); "
            "print(logging.getLogger('remotemedia').handlers)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stderr == "" and "NullHandler" in done.stdout


@pytest.mark.skipif(_native.runtime_module() is None, reason="no native runtime")
def test_placement_is_logged_at_debug_when_a_pipeline_compiles(caplog):
    class Plus(Node):
        def process(self, x):
            return x + 1

    pipeline = Pipeline([Plus("p"), CalculatorNode(name="c", operation="add", operand=1)], name="logged")
    with caplog.at_level(logging.DEBUG, logger="remotemedia"):
        assert pipeline.run_sync([1], runtime="native") == [3]
    messages = [r.getMessage() for r in caplog.records if r.name == "remotemedia"]
    assert any(m.startswith("pipeline 'logged' compiled for the native runtime: p (Plus): python") and
               "c (CalculatorNode): native" in m for m in messages), messages


@pytest.mark.parametrize("runtime", ["python", pytest.param("native", marks=pytest.mark.skipif(
    _native.runtime_module() is None, reason="no native runtime"))])
def test_a_session_failure_is_logged_at_info(caplog, runtime):
    pipeline = Pipeline([CalculatorNode(name="c", operation="divide", operand=0)])
    with caplog.at_level(logging.INFO, logger="remotemedia"):
        with pytest.raises(ZeroDivisionError):
            with pipeline.sync_session(runtime=runtime) as s:
                s.send(1)
                s.end()
                list(s)
    messages = [r.getMessage() for r in caplog.records if r.name == "remotemedia" and r.levelno == logging.INFO]
    assert any(m.startswith("session failed") and "NodeZeroDivisionError" in m and "node 'c'" in m
               for m in messages), messages
