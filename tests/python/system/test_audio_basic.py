"""AudioFormat, AudioGain and AudioNormalize on both executors (docs/AUDIO.md): every output equal
bit for bit (dtype, shape, layout, every sample's bits) on random signals of every sample type,
mono/stereo/3 channels, interleaved/planar; hand-checked values of the rules; "nothing to do" hands
on the very same samples; errors of the same class, message, node and item."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Audio, Pipeline, errors  # noqa: E402
from remotemedia.nodes import AudioFormatNode, AudioGainNode, AudioNormalizeNode  # noqa: E402

from audio_signals import DTYPES, INT_RANGE, RUNTIMES, assert_same, both, both_param_error  # noqa: E402
from audio_signals import random_audio, seed  # noqa: E402

SHAPES = [(1, "interleaved"), (2, "interleaved"), (2, "planar"), (3, "interleaved"), (3, "planar")]


# ------------------------------------------------------------------------------ AudioFormat

FORMAT_PARAMS = [
    {}, {"dtype": "int16"}, {"dtype": "int32"}, {"dtype": "float32"}, {"dtype": "float64"},
    {"channels": 1}, {"channels": 1, "dtype": "int16"}, {"channels": 1, "dtype": "int32"},
    {"channels": 1, "dtype": "float32"}, {"channels": 2}, {"channels": 3, "layout": "planar", "dtype": "int16"},
    {"select": [1, 0]}, {"select": [0]}, {"select": [2, 2, 0], "layout": "planar"}, {"select": [0, 1]},
    {"layout": "planar"}, {"layout": "interleaved", "dtype": "float32"}, {"layout": "planar", "dtype": "int32"},
]


@pytest.mark.parametrize("params", FORMAT_PARAMS, ids=lambda p: json.dumps(p))
@pytest.mark.parametrize("dtype", DTYPES)
def test_format_agrees_on_random_audio(params, dtype):
    rng = np.random.default_rng(seed(json.dumps(params), dtype))
    for channels, layout in SHAPES:
        items = [random_audio(rng, dtype, channels, layout, n) for n in (0, 1, 7, 480, 1000)]
        kind, out = both(lambda: AudioFormatNode(**params), items)
        if kind == "error":
            assert isinstance(out, errors.NodeValueError)
            continue
        assert len(out) == len(items)  # one per item, the empty one too
        for a, o in zip(items, out):
            assert o.dtype == params.get("dtype", a.dtype) and o.frames == a.frames


def test_format_mix_down_adds_in_order_in_float64_and_rounds_half_to_even():
    frames = np.array([[1, 2], [1, 0], [3, 0], [-3, 0], [-32768, -32768], [32767, 32767]], np.int16)
    kind, out = both(lambda: AudioFormatNode(channels=1), [Audio(frames, 8000), Audio(np.ascontiguousarray(frames.T), 8000, "planar")])
    for o in out:
        assert o.samples.dtype == np.int16 and o.samples.shape == (6,) and o.layout == "interleaved"
        assert o.samples.tolist() == [2, 0, 2, -2, -32768, 32767]
    kind, out = both(lambda: AudioFormatNode(channels=1), [Audio(np.array([[0.1, 0.2, 0.3]]), 8000)])
    assert out[0].samples[0] == ((0.1 + 0.2) + 0.3) / 3 != (0.1 + (0.2 + 0.3)) / 3
    kind, out = both(lambda: AudioFormatNode(channels=1, dtype="float32"), [Audio(np.array([[0.1, 0.2, 0.3]]), 8000)])
    assert out[0].samples.dtype == np.float32 and out[0].samples[0] == np.float32(((0.1 + 0.2) + 0.3) / 3)


def test_format_duplicates_mono_and_selects_channels():
    mono = Audio(np.array([3, -7], np.int16), 8000)
    _, (out,) = both(lambda: AudioFormatNode(channels=2, layout="planar"), [mono])
    assert out.layout == "planar" and out.samples.tolist() == [[3, -7], [3, -7]]
    stereo = Audio(np.array([[1, 2, 3], [4, 5, 6]], np.int32), 8000)
    _, (out,) = both(lambda: AudioFormatNode(select=[2, 0]), [stereo])
    assert out.samples.tolist() == [[3, 1], [6, 4]]
    _, (out,) = both(lambda: AudioFormatNode(select=[1], dtype="int16"), [stereo])
    assert out.samples.shape == (2,) and out.samples.tolist() == [0, 0]  # 2 / 65536 rounds to 0
    _, (out,) = both(lambda: AudioFormatNode(select=[1], dtype="float64"), [stereo])
    assert out.samples.tolist() == [2 / 2**31, 5 / 2**31]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("params", [{}, {"dtype": "float32"}, {"channels": 2}, {"select": [0, 1]},
                                    {"layout": "interleaved"}, {"channels": 2, "dtype": "float32", "layout": "interleaved"}])
def test_format_with_nothing_to_do_hands_on_the_same_samples(runtime, params):
    x = np.zeros((16, 2), np.float32)
    (out,) = Pipeline([AudioFormatNode(**params)]).run_sync([Audio(x, 8000)], runtime=runtime)
    assert out.samples is x


def test_format_value_and_type_errors():
    stereo = Audio(np.zeros((4, 2), np.float32), 8000)
    three = Audio(np.zeros((4, 3), np.float32), 8000)
    kind, exc = both(lambda: AudioFormatNode(name="fmt", select=[0, 2]), [stereo])
    assert isinstance(exc, errors.NodeValueError) and exc.item_index == 0 and exc.node_id == "fmt"
    assert exc.message == "channel 2 selected, but the audio has 2 channels"
    kind, exc = both(lambda: AudioFormatNode(name="fmt", channels=2), [stereo, three])
    assert isinstance(exc, errors.NodeValueError) and exc.item_index == 1
    assert exc.message == "cannot map 3 channels to 2; use select"
    assert "node 'fmt' (AudioFormatNode) failed on item 1" in str(exc)
    for item, name in [(3, "int"), ("x", "str"), (np.zeros(3, np.float32), "ndarray[float32]"), ({"a": 1}, "dict"),
                       (np.float32(1), "numpy.float32")]:
        kind, exc = both(lambda: AudioFormatNode(name="fmt"), [stereo, item])
        assert isinstance(exc, errors.NodeTypeError) and exc.item_index == 1
        assert exc.message == f"expects audio, got {name}"


@pytest.mark.parametrize("params, path", [
    ({"select": [0], "channels": 1}, "$.nodes[0].params.select"),
    ({"select": []}, "$.nodes[0].params.select"),
    ({"select": [1, -1]}, "$.nodes[0].params.select[1]"),
    ({"select": [0, 1.0]}, "$.nodes[0].params.select[1]"),
    ({"select": [True]}, "$.nodes[0].params.select[0]"),
    ({"select": 1}, "$.nodes[0].params.select"),
    ({"channels": 0}, "$.nodes[0].params.channels"),
    ({"dtype": "int8"}, "$.nodes[0].params.dtype"),
    ({"layout": "mid-side"}, "$.nodes[0].params.layout"),
    ({"dtype": None}, "$.nodes[0].params.dtype"),
])
def test_format_parameter_errors(params, path):
    assert both_param_error("AudioFormat", params)[0] == path
    with pytest.raises(errors.InvalidParameterError):
        AudioFormatNode(**params)


# -------------------------------------------------------------------------------- AudioGain

GAINS = [0, -6, 6.0206, 3.5, 40, -200, 1e-9, -0.1, 350, 1000]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("db", GAINS)
def test_gain_agrees_on_random_audio(dtype, db):
    rng = np.random.default_rng(seed(dtype, db))
    for channels, layout in SHAPES:
        items = [random_audio(rng, dtype, channels, layout, n) for n in (0, 3, 960, 4097)]
        _, out = both(lambda: AudioGainNode(db=db), items)
        g = 10.0 ** (db / 20.0)
        for a, o in zip(items, out):
            assert o.dtype == a.dtype and o.samples.shape == a.samples.shape and o.layout == a.layout
            with np.errstate(all="ignore"):
                if dtype == "float64":
                    expected = a.samples * g
                elif dtype == "float32":
                    expected = a.samples * np.float32(g)
                else:
                    lo, hi = INT_RANGE[dtype]
                    expected = np.clip(np.rint(a.samples.astype(np.float64) * g), lo, hi).astype(dtype)
            assert expected.tobytes() == o.samples.tobytes()


def test_gain_floats_are_not_clipped_and_integers_are():
    _, (f, i) = both(lambda: AudioGainNode(db=20), [Audio(np.array([0.5, -0.9], np.float32), 8000),
                                                      Audio(np.array([5000, -5000, 3], np.int16), 8000)])
    assert f.samples.tolist() == [np.float32(0.5) * np.float32(10.0), np.float32(-0.9) * np.float32(10.0)]
    assert f.samples.max() > 1
    assert i.samples.tolist() == [32767, -32768, 30]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_gain_of_zero_db_hands_on_the_same_samples(runtime):
    x = np.arange(10, dtype=np.int16)
    (out,) = Pipeline([AudioGainNode(db=0)]).run_sync([Audio(x, 8000)], runtime=runtime)
    assert out.samples is x


def test_gain_errors():
    path, message = both_param_error("AudioGain", {"db": 7000})
    assert path == "$.nodes[0].params.db" and "overflows" in message
    assert both_param_error("AudioGain", {})[0] == "$.nodes[0].params"
    assert both_param_error("AudioGain", {"db": "6"})[0] == "$.nodes[0].params.db"
    with pytest.raises(errors.InvalidParameterError):
        AudioGainNode(db=7000)
    AudioGainNode(db=-7000)  # a factor of 0 is fine
    kind, exc = both(lambda: AudioGainNode(name="g", db=1), [None])
    assert isinstance(exc, errors.NodeTypeError) and exc.message == "expects audio, got NoneType"


# --------------------------------------------------------------------------- AudioNormalize


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["peak", "rms"])
@pytest.mark.parametrize("target_db", [-1.0, 0, -20.5, 3])
def test_normalize_agrees_on_random_audio(dtype, mode, target_db):
    rng = np.random.default_rng(seed(dtype, mode, target_db))
    for channels, layout in SHAPES:
        items = [random_audio(rng, dtype, channels, layout, n, specials=False) for n in (0, 1, 5, 960, 100_003)]
        items.append(Audio(np.zeros((50, channels), dtype), 16000))  # silence: unchanged
        _, out = both(lambda: AudioNormalizeNode(mode=mode, target_db=target_db), items)
        for a, o in zip(items, out):
            assert o.dtype == a.dtype and o.samples.shape == a.samples.shape
            if dtype == "float64" and a.samples.size and np.any(a.samples):
                x = o.samples.astype(np.float64)
                level = np.sqrt(np.mean(x * x)) if mode == "rms" else np.max(np.abs(x))
                assert level == pytest.approx(10 ** (target_db / 20), rel=1e-12)


def test_normalize_rms_sum_is_pairwise_bit_for_bit():
    # Values whose sum of squares depends on the order of additions: any order but numpy's
    # pairwise one changes the factor, and so the last bits of every output sample.
    rng = np.random.default_rng(5)
    x = np.concatenate([[0.9], rng.standard_normal(9999) * 1e-9, [0.5] * 300]).astype(np.float64)
    items = [Audio(x, 8000)]
    _, (o,) = both(lambda: AudioNormalizeNode(mode="rms", target_db=-3), items)
    rms = math.sqrt(float(np.sum(np.square(x))) / x.size)
    assert o.samples.tobytes() == (x * (10.0 ** (-3 / 20.0) / rms)).tobytes()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_normalize_passes_silence_empty_and_nan_unchanged(runtime):
    arrays = [np.zeros(8, np.int16), np.zeros((0, 2), np.float32), np.array([0.5, np.nan]), np.array([np.inf, 0.1])]
    for mode in ("peak", "rms"):
        out = Pipeline([AudioNormalizeNode(mode=mode)]).run_sync([Audio(x, 8000) for x in arrays], runtime=runtime)
        assert len(out) == len(arrays)
        for o, x in zip(out, arrays):
            # (An empty array does not keep its identity across the binding, even through PassThrough.)
            assert o.samples is x if x.size else (o.samples.shape, o.samples.dtype) == (x.shape, x.dtype)


def test_normalize_peak_of_integers_counts_the_most_negative_sample():
    _, (o,) = both(lambda: AudioNormalizeNode(target_db=-6.020599913279624), [Audio(np.array([-32768, 16384], np.int16), 8000)])
    assert o.samples.tolist() == [-16384, 8192]


def test_normalize_errors():
    assert both_param_error("AudioNormalize", {"mode": "lufs"})[0] == "$.nodes[0].params.mode"
    assert both_param_error("AudioNormalize", {"target_db": 1e4})[0] == "$.nodes[0].params.target_db"
    kind, exc = both(lambda: AudioNormalizeNode(name="n"), [Audio(np.ones(3), 8000), [1, 2]])
    assert isinstance(exc, errors.NodeTypeError) and exc.item_index == 1 and exc.message == "expects audio, got list"


def test_normalize_to_a_gain_that_overflows_clips_integers_and_zeroes_nan():
    # 10 ** (6100 / 20) / (5 / 32768) is inf: x * inf clips, 0 * inf is NaN, which becomes 0.
    _, (o,) = both(lambda: AudioNormalizeNode(target_db=6100), [Audio(np.array([1, -1, 0, 5], np.int16), 8000)])
    assert o.samples.tolist() == [32767, -32768, 0, 32767]
