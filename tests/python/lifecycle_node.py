"""A node for the session tests that records its initialize and cleanup in a shared log, so a test
sees whether and in which order the executor ran them."""

from __future__ import annotations

from remotemedia import Node


class Lifecycle(Node):
    """Passes items on; appends ("initialize", name) and ("cleanup", name) to ``log``."""

    def __init__(self, name=None, log=None, **kw):
        super().__init__(name, **kw)
        self.log = log if log is not None else []

    def initialize(self):
        self.log.append(("initialize", self.name))

    def process(self, x):
        return x

    def cleanup(self):
        self.log.append(("cleanup", self.name))
