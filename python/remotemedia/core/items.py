"""The items of a run and the shape of its result ("array in, array out", docs/SEMANTICS.md).

Both executors use these two functions, so they agree on what a run's input and result are.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["input_items", "run_result"]


def input_items(items: Iterable[Any]) -> tuple[list, np.ndarray | None]:
    """The items of a run as a list, and the input array when the result must be an array.

    A numpy array with ``ndim >= 1`` gives its elements (numpy scalars) or rows; any other iterable
    gives its items. A list is returned as is, not copied: the executors never modify it."""
    if isinstance(items, np.ndarray) and items.ndim >= 1:
        return list(items), items
    return (items if type(items) is list else list(items)), None


def run_result(outputs: list, like: np.ndarray | None) -> list | np.ndarray:
    """The result of a run: ``outputs`` itself, or, for an array input ``like``, the outputs as an
    array (an empty array of the input's dtype and row shape when there are none). Outputs that
    cannot form an array (lists of different lengths, say, from a BufferNode's remainder) stay a
    list."""
    if like is None:
        return outputs
    if not outputs:
        return np.empty((0, *like.shape[1:]), dtype=like.dtype)
    try:
        return np.asarray(outputs)
    except ValueError:  # ragged: numpy refuses to guess an object array
        return outputs
