"""RemoteMedia: pipelines of nodes authored in Python, run by a native C++ runtime (or by the
Python executor, the reference semantics, where the native runtime is absent)."""

from remotemedia import errors
from remotemedia._version import __version__
from remotemedia.core.audio import Audio
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.pipeline import Pipeline
from remotemedia.core.registry import register_node_type
from remotemedia import nodes

__all__ = ["Pipeline", "Node", "Audio", "ParamSpec", "register_node_type", "errors", "nodes", "__version__"]
