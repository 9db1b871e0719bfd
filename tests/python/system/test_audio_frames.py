"""AudioChunkerNode on both executors: exact chunks whatever the input's item sizes, the same
outputs (item by item) from the native node and the Python executor, duration_ms rounding, the
remainder short or padded, views of the input where a chunk lies inside an item, the stream rules
and parameter checks with the same errors on both."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Audio, Pipeline, errors  # noqa: E402
from remotemedia.core.audio import convert_samples  # noqa: E402
from remotemedia.nodes import AudioChunkerNode  # noqa: E402

from audio_signals import DTYPES, RUNTIMES, as_audio, both_param_error, node_error  # noqa: E402
from audio_signals import random_sizes, run_both, seed, split  # noqa: E402

FORMS = ((1, "interleaved"), (2, "interleaved"), (3, "planar"), (2, "planar"))


def signal(rng, dtype: str, channels: int, layout: str, frames: int, rate: int = 16000) -> Audio:
    return as_audio(convert_samples(rng.uniform(-1, 1, (frames, channels)), dtype), rate, layout)


def chunker(**params) -> Pipeline:
    return Pipeline([AudioChunkerNode(name="ch", **params)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels,layout", FORMS)
@pytest.mark.parametrize("pad", [False, True])
def test_random_chunkings_give_the_same_chunks_on_both(dtype, channels, layout, pad):
    rng = np.random.default_rng(seed(dtype, channels, layout, pad))
    audio = signal(rng, dtype, channels, layout, 5000)
    whole = run_both(chunker(frames=320, pad=pad), [audio])
    assert [a.frames for a in whole] == [320] * 15 + [320 if pad else 200]
    frames = np.concatenate([a.interleaved() for a in whole])
    assert np.array_equal(frames[:5000], audio.interleaved())
    assert not frames[5000:].any()  # the padding is zeros
    for a in whole:
        assert (a.sample_rate, a.dtype, a.layout, a.channels, a.samples.ndim) == (
            16000, dtype, layout, channels, audio.samples.ndim)
    for top in (50, 400, 2000):
        got = run_both(chunker(frames=320, pad=pad), split(audio, random_sizes(rng, 5000, top)))
        assert got == whole


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("duration_ms,rate,frames", [
    (20, 16000, 320), (20.0, 44100, 882), (2.5, 1000, 2), (3.5, 1000, 4), (0.7, 1000, 1), (10, 22050, 220),
    (30, 48000, 1440),
])
def test_duration_is_rounded_half_to_even_at_the_first_rate(runtime, duration_ms, rate, frames):
    audio = Audio(np.arange(3 * frames + 1, dtype=np.int16), rate)
    out = chunker(duration_ms=duration_ms).run_sync([audio], runtime=runtime)
    assert [a.frames for a in out] == [frames] * 3 + [1]


def test_chunks_inside_an_item_are_views_and_a_whole_item_is_itself():
    audio = Audio(np.arange(2000, dtype=np.float32).reshape(1000, 2), 16000)
    for runtime in RUNTIMES:
        out = chunker(frames=300).run_sync([audio], runtime=runtime)
        assert [a.frames for a in out] == [300, 300, 300, 100]
        for a in out[:3]:
            assert np.shares_memory(a.samples, audio.samples)
        assert not np.shares_memory(out[3].samples, audio.samples)  # held back: a copy
    assert chunker(frames=1000).run_sync([audio], runtime="python")[0] is audio
    assert chunker(frames=1000).run_sync([audio], runtime="native")[0].samples is audio.samples


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_empty_input_and_exact_multiples(runtime):
    assert chunker(frames=4, pad=True).run_sync([], runtime=runtime) == []
    empty = Audio(np.zeros((0, 2), np.int16), 16000)
    assert chunker(frames=4, pad=True).run_sync([empty, empty], runtime=runtime) == []
    eight = Audio(np.zeros((8, 2), np.int16), 16000)
    assert [a.frames for a in chunker(frames=4, pad=True).run_sync([eight], runtime=runtime)] == [4, 4]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_session_streams_what_a_run_returns(runtime):
    rng = np.random.default_rng(3)
    items = split(signal(rng, "float32", 2, "planar", 4000), random_sizes(rng, 4000, 700))
    pipeline = chunker(duration_ms=20, pad=True)
    assert list(pipeline.stream_sync(items, runtime=runtime)) == pipeline.run_sync(items, runtime=runtime)


# ------------------------------------------------------------------------------- errors


FIRST = Audio(np.zeros((10, 2), np.float32), 16000)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("bad,cls,message", [
    ("x", errors.NodeTypeError, "expects audio, got str"),
    ({"a": 1}, errors.NodeTypeError, "expects audio, got dict"),
    (Audio(np.zeros((10, 2), np.float32), 8000), errors.NodeValueError, "sample rate changed from 16000 to 8000 Hz"),
    (Audio(np.zeros((10, 3), np.float32), 16000), errors.NodeValueError, "channel count changed from 2 to 3"),
    (Audio(np.zeros((10, 2), np.int16), 16000), errors.NodeValueError, "sample type changed from float32 to int16"),
    (Audio(np.zeros((2, 10), np.float32), 16000, "planar"), errors.NodeValueError,
     "layout changed from interleaved to planar"),
])
def test_errors_name_the_node_and_item(runtime, bad, cls, message):
    exc = node_error(chunker(frames=4), [FIRST, bad], runtime)
    assert type(exc) is cls
    assert (exc.node_id, exc.node_type, exc.item_index, exc.message) == ("ch", "AudioChunkerNode", 1, message)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_mono_shapes_do_not_mix_and_a_tiny_duration_is_an_error(runtime):
    mono = Audio(np.zeros(10, np.float32), 16000)
    exc = node_error(chunker(frames=4), [mono, Audio(np.zeros((10, 1), np.float32), 16000)], runtime)
    assert exc.message == "layout changed from 1-D mono to interleaved"
    exc = node_error(chunker(duration_ms=0.4), [Audio(np.zeros(10, np.float32), 1000)], runtime)
    assert type(exc) is errors.NodeValueError and exc.item_index == 0
    assert exc.message == "duration_ms 0.4 at 1000 Hz is less than one frame"


@pytest.mark.parametrize("params,path,message", [
    ({}, "$.nodes[0].params", "give exactly one of 'frames' and 'duration_ms'"),
    ({"pad": True}, "$.nodes[0].params", "give exactly one of 'frames' and 'duration_ms'"),
    ({"frames": 10, "duration_ms": 20}, "$.nodes[0].params.duration_ms", "give exactly one of 'frames' and 'duration_ms'"),
    ({"frames": 0}, "$.nodes[0].params.frames", "parameter 'frames' must be at least 1"),
    ({"duration_ms": 0}, "$.nodes[0].params.duration_ms", "parameter 'duration_ms' must be more than 0"),
    ({"duration_ms": -2.5}, "$.nodes[0].params.duration_ms", "parameter 'duration_ms' must be more than 0"),
    ({"frames": 2.0}, "$.nodes[0].params.frames", None),
    ({"frames": None}, "$.nodes[0].params.frames", None),
    ({"frames": 2, "pad": 1}, "$.nodes[0].params.pad", None),
])
def test_bad_params_fail_alike_on_both_parsers(params, path, message):
    found_path, found_message = both_param_error("AudioChunker", params)
    assert found_path == path
    if message is not None:
        assert found_message == message
    if params == {"frames": 2.0}:  # the Python API takes an integral float where an int is wanted
        assert AudioChunkerNode(name="ch", **params).params() == {"frames": 2}
        return
    with pytest.raises(errors.InvalidParameterError):
        AudioChunkerNode(name="ch", **params)
