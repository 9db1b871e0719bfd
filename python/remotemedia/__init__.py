"""RemoteMedia: pipelines of nodes authored in Python, run by a native C++ runtime (or by the
Python executor, the reference semantics, where the native runtime is absent)."""

import logging

# The package logs to the "remotemedia" logger (fallbacks, placement, session failures; docs/
# LOGGING.md) and is quiet unless the application configures logging: no "last resort" output.
logging.getLogger("remotemedia").addHandler(logging.NullHandler())

from remotemedia import errors  # noqa: E402
from remotemedia._version import __version__  # noqa: E402
from remotemedia.core.audio import Audio  # noqa: E402
from remotemedia.core.node import Node  # noqa: E402
from remotemedia.core.params import ParamSpec  # noqa: E402
from remotemedia.core.pipeline import Pipeline  # noqa: E402
from remotemedia.core.registry import register_node_type  # noqa: E402
from remotemedia import nodes  # noqa: E402

__all__ = ["Pipeline", "Node", "Audio", "ParamSpec", "register_node_type", "errors", "nodes", "__version__"]
