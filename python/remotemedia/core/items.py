"""The items of a run and the shape of its result ("array in, array out", docs/SEMANTICS.md).

Both executors use these two functions, so they agree on what a run's input and result are.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["check_items_argument", "input_items", "run_result", "check_nesting", "NESTING_LIMIT", "TOO_DEEP"]

#: Lists and dicts nest at most this many levels (the native runtime's kMaxDepth in
#: src/python/convert.cpp, the JSON data limit): a value deeper, or containing itself, is refused.
NESTING_LIMIT = 64
TOO_DEEP = "a list or dict nested more than 64 levels deep (or containing itself) is not a value"


def _is_map(d: dict) -> bool:
    """A dict is a map (a value the runtime looks into) when every key is a str; any other dict
    is an opaque object, as in the native runtime."""
    for key in d:
        if type(key) is not str:
            return False
    return True


def check_nesting(value: Any) -> None:
    """Raise NodeValueError when ``value`` is a list or map nested more than NESTING_LIMIT levels
    (a list that contains itself is infinitely deep): the rule the native runtime applies to every
    Python value it takes in (docs/SEMANTICS.md)."""
    t = type(value)
    if t is not list and t is not dict:
        return
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if type(v) is dict:
            if not _is_map(v):
                continue
            children = v.values()
        else:
            children = v
        if depth >= NESTING_LIMIT:
            from remotemedia.errors import NodeValueError
            raise NodeValueError(TOO_DEEP)
        for child in children:
            tc = type(child)
            if tc is list or tc is dict:
                stack.append((child, depth + 1))


def check_items_argument(items: Any, *, async_ok: bool = False) -> None:
    """TypeError unless ``items`` is a collection of items: a str, bytes or dict is iterable, but
    ``run("abc")`` meaning three one-letter items is almost always a mistake for ``run(["abc"])``."""
    if isinstance(items, (str, bytes, bytearray, dict)):
        raise TypeError(f"items must be an iterable of items (a list, tuple, generator or numpy array), not a "
                        f"{type(items).__name__}: to run one {type(items).__name__}, pass [item]")
    if hasattr(items, "__iter__") or (async_ok and hasattr(items, "__aiter__")):
        return
    if isinstance(items, np.ndarray):  # a 0-d array has __iter__ but cannot be iterated
        return
    raise TypeError(f"items must be an iterable of items (a list, tuple, generator or numpy array), not "
                    f"{type(items).__name__}: to run one item, pass [item]")


def input_items(items: Iterable[Any]) -> tuple[list, np.ndarray | None]:
    """The items of a run as a list, and the input array when the result must be an array.

    A numpy array with ``ndim >= 1`` gives its elements (numpy scalars) or rows; any other iterable
    gives its items. A list is returned as is, not copied: the executors never modify it."""
    if isinstance(items, np.ndarray) and items.ndim >= 1:
        return list(items), items
    items = items if type(items) is list else list(items)
    for i, item in enumerate(items):
        t = type(item)
        if t is list or t is dict:
            try:
                check_nesting(item)
            except ValueError as exc:
                raise type(exc)(f"item {i}: {exc}") from None
    return items, None


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
