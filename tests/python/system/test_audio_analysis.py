"""AudioLevel and EnergyVAD on both executors (docs/AUDIO.md): equal outputs bit for bit on random
signals of every sample type and layout, for every chunking of the stream (one item, 20 ms items,
random sizes with empty items); the VAD's segments at the known times of synthetic bursts; outputs
while the stream goes on (bounded memory); errors of the same class, message, node and item."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Audio, Pipeline, errors  # noqa: E402
from remotemedia.nodes import AudioLevelNode, EnergyVADNode  # noqa: E402

from audio_signals import DTYPES, RUNTIMES, assert_same, both, both_param_error, random_audio, seed  # noqa: E402

SHAPES = [(1, "interleaved"), (2, "interleaved"), (2, "planar"), (3, "planar")]


def chunk(a: Audio, sizes) -> list[Audio]:
    """``a`` cut into consecutive items of the given sizes (cycled, empty ones included)."""
    s, planar = a.samples, a.layout == "planar"
    items, i, k = [], 0, 0
    while i < a.frames:
        n = sizes[k % len(sizes)]
        part = s[:, i:i + n] if planar else s[i:i + n]
        items.append(Audio(np.ascontiguousarray(part), a.sample_rate, a.layout))
        i, k = i + n, k + 1
    return items


def chunkings(rng, a: Audio, frame_of_20ms: int):
    yield [a]
    yield chunk(a, [frame_of_20ms])
    yield chunk(a, [int(n) for n in rng.integers(0, 3 * frame_of_20ms, 64)] + [1])


def level_reference(a: Audio) -> tuple[float, float]:
    """RMS and peak by the docs/AUDIO.md formulas, independently of the node's code."""
    x = np.ascontiguousarray(a.samples).astype(np.float64).ravel()
    if a.dtype in ("int16", "int32"):
        x = x * (1.0 / {"int16": 32768.0, "int32": 2147483648.0}[a.dtype])
    if x.size == 0:
        return 0.0, 0.0
    return math.sqrt(float(np.sum(np.square(x))) / x.size), float(np.max(np.abs(x)))


# ------------------------------------------------------------------------------- AudioLevel


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels, layout", SHAPES)
def test_level_agrees_and_follows_the_formulas(dtype, channels, layout):
    rng = np.random.default_rng(seed(dtype, channels, layout))
    a = random_audio(rng, dtype, channels, layout, 30_011, rate=48000, specials=False)
    for items in chunkings(rng, a, 960):
        _, out = both(AudioLevelNode, items)
        assert len(out) == len(items)  # one map per item, empty ones too
        frames = 0
        for item, m in zip(items, out):
            rms, peak = level_reference(item)
            assert_same(m, {"start": frames / 48000, "duration": item.frames / 48000, "rms": rms, "peak": peak,
                            "rms_db": 20 * math.log10(max(rms, 1e-10)), "peak_db": 20 * math.log10(max(peak, 1e-10))})
            frames += item.frames


def test_level_of_specials_empty_and_full_scale():
    items = [Audio(np.array([0.5, np.nan], np.float32), 8000), Audio(np.zeros(0, np.float32), 8000),
             Audio(np.array([np.inf, 0.0], np.float32), 8000)]
    _, out = both(AudioLevelNode, items)
    assert math.isnan(out[0]["peak"]) and math.isnan(out[0]["peak_db"])
    assert out[1] == {"start": 0.00025, "duration": 0.0, "rms": 0.0, "peak": 0.0, "rms_db": -200.0, "peak_db": -200.0}
    assert out[2]["peak"] == math.inf and out[2]["rms_db"] == math.inf
    _, (m,) = both(AudioLevelNode, [Audio(np.array([-32768, 0], np.int16), 8000)])
    assert m["peak"] == 1.0 and m["peak_db"] == 0.0 and m["rms"] == math.sqrt(0.5)


def test_level_errors():
    a = Audio(np.zeros(4, np.float32), 48000)
    kind, exc = both(lambda: AudioLevelNode(name="lv"), [a, Audio(np.zeros(4, np.float32), 44100)])
    assert isinstance(exc, errors.NodeValueError) and exc.item_index == 1
    assert str(exc) == "node 'lv' (AudioLevelNode) failed on item 1: sample rate changed from 48000 to 44100 Hz"
    kind, exc = both(lambda: AudioLevelNode(name="lv"), [a, a, Audio(np.zeros((4, 2), np.float32), 48000)])
    assert isinstance(exc, errors.NodeValueError) and exc.item_index == 2
    assert exc.message == "channel count changed from 1 to 2"
    # A change of sample type or layout is fine: levels do not mix items.
    both(AudioLevelNode, [a, Audio(np.zeros(4, np.int16), 48000)])
    kind, exc = both(lambda: AudioLevelNode(name="lv"), [1.5])
    assert isinstance(exc, errors.NodeTypeError) and exc.message == "expects audio, got float"


# -------------------------------------------------------------------------------- EnergyVAD


def bursts(rng, rate, seconds, loud, channels=1, dtype="float32", layout="interleaved"):
    """Quiet noise (about -85 dB) with loud noise (about -20 dB) in the ``loud`` [from, to) spans."""
    n = int(round(seconds * rate))
    x = rng.uniform(-1e-4, 1e-4, (n, channels))
    for t0, t1 in loud:
        i0, i1 = int(round(t0 * rate)), int(round(t1 * rate))
        x[i0:i1] = rng.uniform(-0.17, 0.17, (i1 - i0, channels))
    if dtype in ("int16", "int32"):
        x = np.rint(x * {"int16": 32768.0, "int32": 2147483648.0}[dtype])
    x = x.astype(dtype)
    if channels == 1:
        return Audio(np.ascontiguousarray(x[:, 0]), rate)
    return Audio(np.ascontiguousarray(x.T), rate, "planar") if layout == "planar" else Audio(x, rate)


LOUD = [(1.0, 1.5), (1.7, 2.0), (3.0, 3.06), (4.0, 6.5), (7.5, 8.0)]
# 1.0-1.5 and 1.7-2.0 merge (the 200 ms gap is within the hangover); 3.0-3.06 is shorter than
# min_speech; 4.0-6.5 is cut at max_segment (1 s); 7.5-8.0 is still open at the end of input.
EXPECTED = [(1.0, 2.0), (4.0, 5.0), (5.0, 6.0), (6.0, 6.5), (7.5, 8.0)]


def segment_times(out):
    return [(m["start"], m["end"]) for m in out]


def check_segment_audio(a: Audio, out):
    for m in out:
        seg = m["audio"]
        i0, i1 = round(m["start"] * a.sample_rate), round(m["end"] * a.sample_rate)
        assert (seg.sample_rate, seg.layout, seg.dtype) == (a.sample_rate, a.layout, a.dtype)
        assert seg.samples.ndim == a.samples.ndim and seg.frames == i1 - i0
        assert np.array_equal(seg.interleaved(), a.interleaved()[i0:i1])


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels, layout", SHAPES)
def test_vad_finds_the_bursts_whatever_the_chunking(rate, dtype, channels, layout):
    rng = np.random.default_rng(seed(rate, dtype, channels, layout))
    a = bursts(rng, rate, 8.0, LOUD, channels, dtype, layout)
    outputs = []
    for items in chunkings(rng, a, rate // 50):
        _, out = both(lambda: EnergyVADNode(max_segment_ms=1000), items)
        assert segment_times(out) == EXPECTED
        check_segment_audio(a, out)
        outputs.append(out)
    for out in outputs[1:]:
        assert_same(out, outputs[0])


def vad_case(rng):
    """Random parameters and a random signal whose level wanders around the threshold."""
    rate = int(rng.choice([8000, 16000, 44100, 48000]))
    params = {
        "threshold_db": float(rng.uniform(-45, -25)),
        "frame_ms": float(rng.choice([5, 10, 20, 25.5, 30])),
        "hangover_ms": float(rng.choice([0, 10, 50, 200])),
        "min_speech_ms": float(rng.choice([0, 15, 60])),
        "max_segment_ms": float(rng.choice([7, 40, 250, 30000])),
        "include_audio": bool(rng.random() < 0.8),
    }
    n = int(rng.integers(1, 3 * rate))
    envelope = np.repeat(10 ** rng.uniform(-3.5, -0.5, n // 200 + 1), 200)[:n]
    channels, layout = [(1, "interleaved"), (2, "interleaved"), (2, "planar")][int(rng.integers(0, 3))]
    dtype = str(rng.choice(DTYPES))
    x = rng.standard_normal((n, channels)) * envelope[:, None]
    if dtype in ("int16", "int32"):
        full = {"int16": 32768.0, "int32": 2147483648.0}[dtype]
        x = np.clip(np.rint(x * full), -full, full - 1)
    x = x.astype(dtype)
    a = Audio(np.ascontiguousarray(x[:, 0]), rate) if channels == 1 else (
        Audio(np.ascontiguousarray(x.T), rate, "planar") if layout == "planar" else Audio(x, rate))
    return params, a


@pytest.mark.parametrize("case", range(40))
def test_vad_agrees_on_random_signals_and_parameters(case):
    rng = np.random.default_rng(seed("vad", case))
    params, a = vad_case(rng)
    first = None
    for items in chunkings(rng, a, max(1, round(params["frame_ms"] * a.sample_rate / 1000))):
        _, out = both(lambda: EnergyVADNode(**params), items)
        if first is None:
            first = out
        assert_same(out, first)  # chunking never changes the result
    longest = round(params["max_segment_ms"] * a.sample_rate / 1000)
    shortest = round(params["min_speech_ms"] * a.sample_rate / 1000)
    previous_end = 0.0
    for m in first:
        assert set(m) == ({"start", "end", "audio"} if params["include_audio"] else {"start", "end"})
        length = round((m["end"] - m["start"]) * a.sample_rate)
        assert shortest <= length <= longest and m["start"] >= previous_end
        previous_end = m["end"]
    if params["include_audio"]:
        check_segment_audio(a, first)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_vad_emits_segments_while_the_stream_goes_on(runtime):
    # 20 s of continuous speech in 20 ms items, max_segment 1 s: a segment comes out every second
    # of input, long before the end (the node keeps only the open segment, not the stream).
    rng = np.random.default_rng(1)
    a = bursts(rng, 16000, 20.0, [(0.0, 20.0)])
    items = chunk(a, [320])
    pulled = 0

    def source():
        nonlocal pulled
        for item in items:
            pulled += 1
            yield item

    seen_at = []
    pipeline = Pipeline([EnergyVADNode(max_segment_ms=1000)])
    for out in pipeline.stream_sync(source(), runtime=runtime):
        seen_at.append((pulled, out["start"], out["end"]))
    assert [(s, e) for _, s, e in seen_at] == [(float(k), float(k + 1)) for k in range(20)]
    assert seen_at[0][0] < 300  # the first second came out before 6 s of input were even read


def test_vad_errors():
    a = Audio(np.zeros(160, np.float32), 16000)
    for second, message in [
        (Audio(np.zeros(160, np.float32), 8000), "sample rate changed from 16000 to 8000 Hz"),
        (Audio(np.zeros((160, 2), np.float32), 16000), "channel count changed from 1 to 2"),
        (Audio(np.zeros(160, np.int16), 16000), "sample type changed from float32 to int16"),
    ]:
        kind, exc = both(lambda: EnergyVADNode(name="vad"), [a, second])
        assert isinstance(exc, errors.NodeValueError) and exc.item_index == 1 and exc.message == message
    kind, exc = both(lambda: EnergyVADNode(name="vad"), [Audio(np.zeros((4, 2)), 16000),
                                                         Audio(np.zeros((2, 4)), 16000, "planar")])
    assert exc.message == "layout changed from interleaved to planar"
    kind, exc = both(lambda: EnergyVADNode(name="vad"), [a, Audio(np.zeros((4, 1), np.float32), 16000)])
    assert exc.message == "layout changed from 1-D mono to interleaved"
    kind, exc = both(lambda: EnergyVADNode(name="vad", frame_ms=0.05), [Audio(np.zeros(4), 8000)])
    assert isinstance(exc, errors.NodeValueError) and exc.item_index == 0
    assert exc.message == "frame_ms gives frames of 0 samples at 8000 Hz; it must give at least 1"
    kind, exc = both(lambda: EnergyVADNode(name="vad", max_segment_ms=0.01), [Audio(np.zeros(4), 8000)])
    assert exc.message == "max_segment_ms gives segments of 0 samples at 8000 Hz; it must give at least 1"
    kind, exc = both(lambda: EnergyVADNode(name="vad"), [a, b"x"])
    assert isinstance(exc, errors.NodeTypeError) and exc.message == "expects audio, got bytes"


@pytest.mark.parametrize("params, path", [
    ({"frame_ms": 0}, "$.nodes[0].params.frame_ms"),
    ({"frame_ms": -5}, "$.nodes[0].params.frame_ms"),
    ({"frame_ms": 10000.5}, "$.nodes[0].params.frame_ms"),
    ({"max_segment_ms": 0}, "$.nodes[0].params.max_segment_ms"),
    ({"hangover_ms": -1}, "$.nodes[0].params.hangover_ms"),
    ({"min_speech_ms": -0.5}, "$.nodes[0].params.min_speech_ms"),
    ({"threshold_db": "loud"}, "$.nodes[0].params.threshold_db"),
    ({"include_audio": 1}, "$.nodes[0].params.include_audio"),
])
def test_vad_parameter_errors(params, path):
    assert both_param_error("EnergyVAD", params)[0] == path
    with pytest.raises(errors.InvalidParameterError):
        EnergyVADNode(**params)


def test_vad_huge_lengths_mean_never():
    # Hangover and max_segment beyond any stream: one segment from the first loud frame to the
    # last, closed at end of input.
    rng = np.random.default_rng(2)
    a = bursts(rng, 8000, 3.0, [(0.5, 1.0), (2.0, 2.5)])
    _, out = both(lambda: EnergyVADNode(hangover_ms=1e300, max_segment_ms=1e300, include_audio=False), [a])
    assert out == [{"start": 0.5, "end": 2.5}]
