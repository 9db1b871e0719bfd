"""AudioResampleNode on both executors: the native node (Debian's libsoxr) and the Python executor
(the soxr package's ResampleStream, with its own libsoxr build) agree bit for bit, item by item;
chunked streaming equals whole-buffer processing; a tone keeps its frequency and level; soxr's
length rule; the stream rules and parameter checks with the same errors on both."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")
soxr = pytest.importorskip("soxr")

from remotemedia import Audio, Pipeline, errors  # noqa: E402
from remotemedia.core.audio import convert_samples  # noqa: E402
from remotemedia.nodes import AudioResampleNode  # noqa: E402

from audio_signals import DTYPES, RUNTIMES, as_audio, both_param_error, node_error  # noqa: E402
from audio_signals import random_sizes, run_both, seed, split  # noqa: E402

FORMS = ((1, "interleaved"), (2, "interleaved"), (3, "planar"))  # (channels, layout); 1 is a 1-D array
RECIPES = {"quick": "QQ", "low": "LQ", "medium": "MQ", "high": "HQ", "very_high": "VHQ"}


def signal(rng, dtype: str, channels: int, layout: str, frames: int, rate: int) -> Audio:
    """Noise at about -6 dBFS with a few samples at full scale (integers clip on the way back)."""
    x = rng.uniform(-0.5, 0.5, (frames, channels))
    x[rng.integers(0, frames, 4)] = 0.999  # the filter overshoots these: integers clip
    return as_audio(convert_samples(x, dtype), rate, layout)


def joined(outputs: list[Audio]) -> np.ndarray:
    """The outputs' samples concatenated along frames, as (frames, channels)."""
    if not outputs:
        return np.zeros((0, 0))
    return np.concatenate([a.interleaved() for a in outputs])


def resampler(rate: int, quality: str = "high") -> Pipeline:
    return Pipeline([AudioResampleNode(name="rs", sample_rate=rate, quality=quality)])


# ------------------------------------------------------------------------- the two executors


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels,layout", FORMS)
@pytest.mark.parametrize("rates", [(48000, 16000), (44100, 48000), (16000, 22050)])
@pytest.mark.parametrize("quality", ["quick", "high", "very_high"])
def test_native_equals_the_python_executor_item_by_item(dtype, channels, layout, rates, quality):
    rng = np.random.default_rng(seed(dtype, channels, rates, quality))
    audio = signal(rng, dtype, channels, layout, 12000, rates[0])
    items = split(audio, random_sizes(rng, 12000, 1500))
    outputs = run_both(resampler(rates[1], quality), items)
    assert sum(a.frames for a in outputs) == int(Fraction(12000 * rates[1], rates[0]) + Fraction(1, 2))
    for a in outputs:
        assert (a.sample_rate, a.dtype, a.layout, a.channels) == (rates[1], dtype, layout, channels)
        assert a.samples.ndim == audio.samples.ndim and a.frames > 0


@pytest.mark.parametrize("quality", list(RECIPES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_both_equal_the_soxr_package_resampling_the_whole_signal(dtype, quality):
    """The package's one-shot resample, as the reference: exact for floats; for integers, the
    package dithers int16 (its own seed), so the reference is its float64 resampling rounded by
    convert_samples, which both executors match exactly (docs/AUDIO.md). Measured on this setup
    (libsoxr 0.1.3 from Debian, soxr 1.1.0): max |difference| 0, for every type and quality."""
    rng = np.random.default_rng(17)
    audio = signal(rng, dtype, 2, "interleaved", 30000, 44100)
    x = audio.samples
    if dtype.startswith("int"):
        want = convert_samples(soxr.resample(convert_samples(x, "float64"), 44100, 16000, RECIPES[quality]), dtype)
    else:
        want = soxr.resample(x, 44100, 16000, RECIPES[quality])
    for runtime in RUNTIMES:
        got = joined(resampler(16000, quality).run_sync(split(audio, [960] * 40), runtime=runtime))
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want), (runtime, np.abs(got.astype(float) - want).max())


# -------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels,layout", FORMS)
def test_chunked_streaming_equals_one_item(runtime, dtype, channels, layout):
    rng = np.random.default_rng(5)
    audio = signal(rng, dtype, channels, layout, 48000, 48000)
    whole = joined(resampler(16000).run_sync([audio], runtime=runtime))
    assert whole.shape == (16000, channels)
    for sizes in ([960] * 50, random_sizes(rng, 48000, 4000), [1, 0, 0, 7, 3000, 0, 2]):
        assert np.array_equal(joined(resampler(16000).run_sync(split(audio, sizes), runtime=runtime)), whole)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_session_streams_what_a_run_returns(runtime):
    rng = np.random.default_rng(8)
    items = split(signal(rng, "float32", 1, "interleaved", 9600, 48000), [960] * 10)
    pipeline = resampler(16000)
    streamed = list(pipeline.stream_sync(items, runtime=runtime))
    ran = pipeline.run_sync(items, runtime=runtime)
    assert len(streamed) == len(ran) and all(a == b for a, b in zip(streamed, ran))


def test_items_changing_type_or_layout_keep_their_form():
    rng = np.random.default_rng(2)
    first = signal(rng, "int16", 2, "interleaved", 4800, 48000)
    second = signal(rng, "float64", 2, "planar", 4800, 48000)
    outputs = run_both(resampler(16000), [first, second, Audio(np.zeros((0, 2), np.float32), 48000)])
    assert (outputs[0].dtype, outputs[0].layout) == ("int16", "interleaved")
    assert [(a.dtype, a.layout) for a in outputs[1:]][-1] == ("float32", "interleaved")  # the tail: the last item's


# ------------------------------------------------------------------------- what it computes


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("rates,quality,tolerance", [
    ((48000, 16000), "high", 1e-5),
    ((44100, 48000), "high", 1e-5),
    ((16000, 48000), "high", 1e-5),
    ((48000, 16000), "very_high", 1e-8),
    ((44100, 48000), "quick", 1e-3),
])
def test_a_sine_keeps_its_frequency_and_amplitude(runtime, rates, quality, tolerance):
    rin, rout = rates
    t = np.arange(rin) / rin
    tone = Audio(0.5 * np.sin(2 * np.pi * 1000 * t), rin)
    y = joined(resampler(rout, quality).run_sync(split(tone, [rin // 50] * 50), runtime=runtime))[:, 0]
    assert len(y) == rout
    want = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(rout) / rout)
    inner = slice(rout // 10, rout - rout // 10)  # away from the filter's edges
    assert np.abs(y[inner] - want[inner]).max() < tolerance
    spectrum = np.abs(np.fft.rfft(y[inner] * np.hanning(len(y[inner]))))
    assert abs(np.argmax(spectrum) * rout / len(y[inner]) - 1000) < 2


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_total_length_is_the_ratio_rounded_half_up(runtime):
    # soxr's rule (checked, ties included): round(N * out / in) with halves rounded up.
    for rin, rout, n in [(16000, 8000, 5), (16000, 8000, 1), (32000, 48000, 3), (48000, 16000, 961),
                         (44100, 48000, 12345), (8000, 44100, 1001), (48000, 44100, 100003)]:
        audio = Audio(np.random.default_rng(n).standard_normal(n).astype(np.float32), rin)
        total = sum(a.frames for a in resampler(rout).run_sync(split(audio, [999] * 200), runtime=runtime))
        assert total == int(Fraction(n * rout, rin) + Fraction(1, 2)), (rin, rout, n)


def test_at_the_output_rate_items_pass_through_unchanged():
    a = Audio(np.arange(320, dtype=np.float32), 16000)
    empty = Audio(np.zeros(0, np.float32), 16000)
    assert resampler(16000).run_sync([a, empty, a], runtime="python") == [a, a]
    out = resampler(16000).run_sync([a, empty, a], runtime="python")
    assert out[0] is a
    native = resampler(16000).run_sync([a, empty, a], runtime="native")
    assert len(native) == 2 and all(x.samples is a.samples for x in native)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_empty_and_no_input_emit_nothing(runtime):
    assert resampler(16000).run_sync([], runtime=runtime) == []
    assert resampler(16000).run_sync([Audio(np.zeros((0, 2), np.int16), 48000)], runtime=runtime) == []


# ------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("bad,cls,message", [
    (5, errors.NodeTypeError, "expects audio, got int"),
    (np.zeros(4, np.float32), errors.NodeTypeError, "expects audio, got ndarray[float32]"),
    (Audio(np.zeros(10, np.float32), 44100), errors.NodeValueError, "sample rate changed from 48000 to 44100 Hz"),
    (Audio(np.zeros((10, 2), np.float32), 48000), errors.NodeValueError, "channel count changed from 1 to 2"),
])
def test_errors_name_the_node_and_item(runtime, bad, cls, message):
    first = Audio(np.zeros(960, np.float32), 48000)
    exc = node_error(resampler(16000), [first, first, bad], runtime)
    assert type(exc) is cls
    assert (exc.node_id, exc.node_type, exc.item_index, exc.message) == ("rs", "AudioResampleNode", 2, message)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stream_rules_hold_when_passing_through(runtime):
    a = Audio(np.zeros(10, np.float32), 16000)
    exc = node_error(resampler(16000), [a, Audio(np.zeros(10, np.float32), 8000)], runtime)
    assert type(exc) is errors.NodeValueError and exc.item_index == 1


@pytest.mark.parametrize("params,path", [
    ({}, "$.nodes[0].params"),
    ({"sample_rate": 0}, "$.nodes[0].params.sample_rate"),
    ({"sample_rate": 16000.0}, "$.nodes[0].params.sample_rate"),
    ({"sample_rate": 2**32}, "$.nodes[0].params.sample_rate"),
    ({"sample_rate": 16000, "quality": "best"}, "$.nodes[0].params.quality"),
    ({"sample_rate": 16000, "dither": True}, "$.nodes[0].params.dither"),
])
def test_bad_params_fail_alike_on_both_parsers(params, path):
    assert both_param_error("AudioResample", params)[0] == path
    if params == {"sample_rate": 16000.0}:  # the Python API takes an integral float where an int is wanted
        assert AudioResampleNode(name="rs", **params).params() == {"sample_rate": 16000}
        return
    with pytest.raises(errors.InvalidParameterError):
        AudioResampleNode(name="rs", **params)
