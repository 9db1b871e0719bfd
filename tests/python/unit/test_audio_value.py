"""The Audio value: construction, shape, sample-type and layout conversions (docs/AUDIO.md), and
its crossing into the native runtime and back without a copy."""

import numpy as np
import pytest

from remotemedia import Audio, Pipeline
from remotemedia.core.audio import convert_samples, pairwise_sum
from remotemedia.nodes import PassThroughNode


def test_shape_follows_layout():
    a = Audio(np.zeros((480, 2), np.int16), 48000)
    assert (a.channels, a.frames, a.dtype, a.layout) == (2, 480, "int16", "interleaved")
    assert a.duration == 0.01
    p = Audio(np.zeros((2, 480), np.float32), 48000, "planar")
    assert (p.channels, p.frames) == (2, 480)
    assert p.interleaved().shape == (480, 2) and p.planar().shape == (2, 480)
    m = Audio(np.zeros(160, np.float64), 16000, "planar")
    assert (m.channels, m.layout) == (1, "interleaved")


def test_constructor_does_not_copy():
    x = np.arange(8, dtype=np.float32)
    assert Audio(x, 8000).samples is x


@pytest.mark.parametrize("samples, rate, layout, exc", [
    (np.zeros(4, np.int64), 8000, "interleaved", TypeError),
    (np.zeros((2, 2, 2), np.float32), 8000, "interleaved", ValueError),
    (np.zeros(4, np.float32), 0, "interleaved", ValueError),
    (np.zeros(4, np.float32), 8000.0, "interleaved", TypeError),
    (np.zeros(4, np.float32), 8000, "mid-side", ValueError),
])
def test_constructor_rejects_what_is_not_audio(samples, rate, layout, exc):
    with pytest.raises(exc):
        Audio(samples, rate, layout)


def test_int_to_float_divides_by_full_scale():
    x = np.array([-32768, -1, 0, 16384, 32767], np.int16)
    assert convert_samples(x, "float64").tolist() == [-1.0, -1 / 32768, 0.0, 0.5, 32767 / 32768]


def test_float_to_int_rounds_half_to_even_clips_and_zeroes_nan():
    x = np.array([0.5 / 32768, 1.5 / 32768, -2.5 / 32768, 1.0, 2.0, -3.0, np.nan])
    with np.errstate(invalid="ignore"):
        assert convert_samples(x, "int16").tolist() == [0, 2, -2, 32767, 32767, -32768, 0]


def test_int_to_int_goes_through_float64():
    assert convert_samples(np.array([-32768, 1, 32767], np.int16), "int32").tolist() == [
        -2**31, 65536, 32767 * 65536]
    x = np.array([32768, 98304, 65535, 2**31 - 1], np.int32)
    assert convert_samples(x, "int16").tolist() == [0, 2, 1, 32767]


def test_round_trip_int16_float32_int16_is_exact():
    x = np.arange(-32768, 32768, dtype=np.int16)
    a = Audio(x, 8000)
    assert a.to_dtype("float32").to_dtype("int16") == a


def test_to_layout_transposes():
    a = Audio(np.arange(6, dtype=np.int16).reshape(3, 2), 8000)
    p = a.to_layout("planar")
    assert p.samples.tolist() == [[0, 2, 4], [1, 3, 5]] and p.samples.flags.c_contiguous
    assert p.to_layout("interleaved") == a
    assert a.to_layout("interleaved") is a


def test_equality_covers_rate_layout_dtype_and_samples():
    x = np.zeros((4, 2), np.float32)
    a = Audio(x, 8000)
    assert a == Audio(x.copy(), 8000)
    assert a != Audio(x, 16000)
    assert a != Audio(x.astype(np.float64), 8000)
    assert a != Audio(np.zeros((2, 4), np.float32), 8000, "planar")
    assert a != Audio(x + 1, 8000)


def test_pairwise_sum_is_numpys_sum():
    x = np.array([1e16] + [1.0] * 199)
    assert pairwise_sum(x) == 1e16 + 188.0  # naive order would give 1e16


@pytest.mark.parametrize("runtime", ["native", "python"])
@pytest.mark.parametrize("layout, shape", [("interleaved", (480, 2)), ("planar", (2, 480)), ("interleaved", (480,))])
def test_audio_crosses_a_pipeline_unchanged_and_uncopied(runtime, layout, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    a = Audio(x, 48000, layout)
    out = Pipeline([PassThroughNode()]).run_sync([a, 7], runtime=runtime)
    assert out[0] == a and out[1] == 7
    assert out[0].samples is x  # no copy on the way in or out

