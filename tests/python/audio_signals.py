"""Helpers shared by the audio tests (tests/python/system/test_audio_*.py): random signals of every
sample type and layout, cutting them into items, and running a pipeline on both executors with
outputs or errors compared bit for bit."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from remotemedia import Audio, Pipeline, errors

RUNTIMES = ("python", "native")
DTYPES = ("int16", "int32", "float32", "float64")
INT_RANGE = {"int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1)}


def seed(*parts) -> int:
    """A seed for numpy's generator from a test's parameters (stable across runs and processes)."""
    return zlib.crc32(repr(parts).encode())


# ------------------------------------------------------------------------------- signals


def as_audio(x: np.ndarray, rate: int, layout: str, one_d: bool = True) -> Audio:
    """(frames, channels) samples as Audio: 1-D mono when there is one channel (and ``one_d``),
    else in ``layout``; always a new C-contiguous array."""
    if x.shape[1] == 1 and one_d:
        return Audio(np.ascontiguousarray(x[:, 0]), rate)
    if layout == "planar":
        return Audio(np.ascontiguousarray(x.T), rate, "planar")
    return Audio(np.ascontiguousarray(x), rate)


def random_audio(rng, dtype, channels, layout, frames, rate=16000, specials=True, one_d=None):
    """Random samples: full-range integers (extremes included), floats that also go past full
    scale and (with ``specials``) hold NaN, inf and -0.0; mono is 1-D (70% of the time, unless
    ``one_d`` says)."""
    if dtype in INT_RANGE:
        lo, hi = INT_RANGE[dtype]
        x = rng.integers(lo, hi, size=(frames, channels), endpoint=True, dtype=dtype)
        if x.size:
            x.flat[rng.integers(0, x.size, 3)] = rng.choice([lo, hi, 0, -1, 1], 3)
    else:
        x = (rng.standard_normal((frames, channels)) * rng.choice([0.01, 0.3, 1.5])).astype(dtype)
        if specials and x.size > 4:
            x.flat[rng.integers(0, x.size, 4)] = [np.nan, np.inf, -np.inf, -0.0]
    return as_audio(x, rate, layout, one_d=channels == 1 and (one_d if one_d is not None else rng.random() < 0.7))


def split(audio: Audio, sizes) -> list[Audio]:
    """The audio cut into consecutive items of the given sizes (the last takes the rest)."""
    out, pos = [], 0
    planar = audio.samples.ndim == 2 and audio.layout == "planar"
    for n in list(sizes) + [audio.frames]:
        n = min(n, audio.frames - pos)
        part = audio.samples[:, pos:pos + n] if planar else audio.samples[pos:pos + n]
        out.append(Audio(np.ascontiguousarray(part), audio.sample_rate, audio.layout))
        pos += n
        if pos >= audio.frames:
            break
    return out


def random_sizes(rng, total: int, top: int) -> list[int]:
    """Item sizes in [0, top) (empty items included) until they add up to at least ``total``."""
    sizes, pos = [], 0
    while pos < total:
        n = int(rng.integers(0, top))
        sizes.append(n)
        pos += n
    return sizes


# ------------------------------------------------------------------------ both executors


def assert_same(a, b):
    """Equal bit for bit: Audio by rate, layout, dtype, shape and bytes; floats by their bits."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, Audio):
        assert (a.sample_rate, a.layout, a.samples.dtype, a.samples.shape) == (
            b.sample_rate, b.layout, b.samples.dtype, b.samples.shape), (a, b)
        assert np.ascontiguousarray(a.samples).tobytes() == np.ascontiguousarray(b.samples).tobytes(), (a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float):
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), (a, b)
    else:
        assert a == b


def both(make, items):
    """Runs a one-node pipeline on both executors; the outputs must be the same bit for
    bit, or both fail with the same class, message, node and item. Returns ("ok", outputs) or
    ("error", exception)."""
    results = []
    pipeline = Pipeline([make()])
    for runtime in RUNTIMES:
        try:
            results.append(("ok", pipeline.run_sync(list(items), runtime=runtime)))
        except errors.RemoteMediaError as exc:
            results.append(("error", exc))
    (pk, pv), (nk, nv) = results
    assert pk == nk, results
    if pk == "error":
        assert type(pv) is type(nv) and str(pv) == str(nv), results
        assert (pv.node_type, pv.item_index) == (nv.node_type, nv.item_index), results
    else:
        assert_same(pv, nv)
    return results[1]


def run_both(pipeline: Pipeline, items: list) -> list[Audio]:
    """Runs on both executors, asserts the outputs are equal Audio item by item (rate, layout,
    dtype, shape and every sample); returns the native ones."""
    python = pipeline.run_sync(items, runtime="python")
    native = pipeline.run_sync(items, runtime="native")
    assert len(python) == len(native)
    for p, n in zip(python, native):
        assert type(p) is Audio and type(n) is Audio
        assert p == n, (p, n)
    return native


def node_error(pipeline: Pipeline, items: list, runtime: str) -> errors.NodeError:
    """The NodeError a run on ``runtime`` fails with."""
    with pytest.raises(errors.NodeError) as info:
        pipeline.run_sync(items, runtime=runtime)
    return info.value


def both_param_error(node_type, params):
    """The same InvalidParameterError (message and path) from the Python manifest parser and the
    native one; returns (path, message)."""
    from remotemedia import _runtime

    manifest = json.dumps({"version": "v1", "nodes": [{"id": "n", "node_type": node_type, "params": params}]})
    found = []
    for parse in (Pipeline.from_manifest, _runtime.validate):
        with pytest.raises(errors.InvalidParameterError) as info:
            parse(manifest)
        found.append((info.value.path, info.value.message))
    assert found[0] == found[1], found
    return found[0]
