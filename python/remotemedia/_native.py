"""Access to the native runtime, the extension module ``remotemedia._runtime``.

The module is imported on first use. When it cannot be imported, pipelines run on the Python
executor and the first such run warns once per process.
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any, Iterable

import numpy as np

from remotemedia.core.items import run_result
from remotemedia.errors import RuntimeUnavailableError

__all__ = ["runtime_module", "require_runtime", "warn_fallback", "run_compiled"]

_NOT_LOADED: Any = object()
UNSET: Any = object()  # "look the module up yourself" for functions taking an optional module
_module: ModuleType | None = _NOT_LOADED
_import_error: ImportError | None = None
_warned = False


def runtime_module() -> ModuleType | None:
    """The native module, or None when it cannot be imported."""
    global _module, _import_error
    if _module is _NOT_LOADED:
        try:
            from remotemedia import _runtime
        except ImportError as exc:
            _module, _import_error = None, exc
        else:
            _module = _runtime
    return _module


def require_runtime() -> ModuleType:
    """The native module; RuntimeUnavailableError when it cannot be imported."""
    module = runtime_module()
    if module is None:
        raise RuntimeUnavailableError(
            f"the native runtime (remotemedia._runtime) cannot be imported: {_import_error}"
        )
    return module


def warn_fallback() -> None:
    """Warn, once per process, that runs fall back to the Python executor."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"the native runtime (remotemedia._runtime) cannot be imported ({_import_error}); "
            "pipelines run on the Python executor",
            RuntimeWarning,
            stacklevel=4,  # the caller of Pipeline.run
        )


def run_compiled(compiled: Any, items: Iterable[Any]) -> list | np.ndarray:
    """Run a ``_runtime.CompiledPipeline``: a list in, a list out; an array in, an array out."""
    if isinstance(items, np.ndarray) and items.ndim >= 1:
        result = compiled.run(items)
        # The column fast path returns an array; other paths return the outputs as a list.
        return result if isinstance(result, np.ndarray) else run_result(result, items)
    return compiled.run(items if type(items) is list else list(items))
