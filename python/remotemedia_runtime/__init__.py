"""The seed project's runtime module, kept so its code runs unchanged.

The seed called ``remotemedia_runtime.execute_pipeline_with_input(manifest_json, input_data)`` to
run a manifest natively. Here it runs the manifest as ``Pipeline.run`` does: natively when the
native runtime can, on the Python executor otherwise.
"""

from __future__ import annotations

from typing import Any, Iterable

from remotemedia import __version__, _native
from remotemedia.core.pipeline import Pipeline

__all__ = [
    "execute_pipeline_with_input",
    "execute_pipeline",
    "get_runtime_version",
    "is_available",
    "__version__",
]


async def execute_pipeline_with_input(manifest_json: str | dict, input_data: Iterable[Any]) -> Any:
    """Run ``input_data`` through the manifest's pipeline; the outputs as ``Pipeline.run`` returns
    them (a list; an array for an array input)."""
    return await Pipeline.from_manifest(manifest_json).run(input_data)


async def execute_pipeline(manifest_json: str | dict) -> Any:
    """Run the manifest's pipeline without input items: what its nodes emit at end of stream."""
    return await execute_pipeline_with_input(manifest_json, [])


def get_runtime_version() -> str:
    """The version of the runtime that runs pipelines: the native module's, or the package's."""
    module = _native.runtime_module()
    return module.__version__ if module is not None else __version__


def is_available() -> bool:
    """Whether the native runtime can be imported."""
    return _native.runtime_module() is not None
