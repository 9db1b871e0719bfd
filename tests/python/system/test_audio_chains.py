"""Chains of audio nodes, on random signals and random chunkings:

- differential: the native runtime and the Python executor give identical outputs (every sample,
  dtype, rate and layout; every level and segment) for random chains of every audio node;
- streaming: a session fed chunk by chunk gives what one whole buffer gives, for chains whose
  result does not depend on where the items are cut (per-item nodes such as AudioNormalize and
  AudioLevel do, by definition);
- errors: a wrong item deep in a stream fails on both executors with the same class, node and item.
"""

import numpy as np
import pytest

from remotemedia import Audio, Pipeline, errors
from remotemedia.core.audio import convert_samples
from remotemedia.nodes import (
    MapNode,
    AudioChunkerNode,
    AudioFormatNode,
    AudioGainNode,
    AudioLevelNode,
    AudioNormalizeNode,
    AudioResampleNode,
    EnergyVADNode,
)

DTYPES = ("int16", "int32", "float32", "float64")
RATES = (8000, 16000, 22050, 44100, 48000)


def random_signal(rng, seconds: float, rate: int, channels: int, dtype: str, layout: str) -> Audio:
    """Bursts of noise and tones between near-silence, so VADs and levels have something to find."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    x = np.zeros((n, channels))
    pos, loud = 0, rng.random() < 0.5
    while pos < n:
        length = int(rng.uniform(0.05, 0.4) * rate)
        loud = not loud  # alternating, so even a short signal has a burst
        level = 10 ** (rng.uniform(-30, -3) / 20) if loud else 10 ** (-75 / 20)
        seg = slice(pos, min(n, pos + length))
        tone = np.sin(2 * np.pi * rng.uniform(100, 3000) * t[seg])[:, None]
        x[seg] = level * (0.5 * tone + 0.5 * rng.standard_normal((len(t[seg]), channels)))
        pos += length
    samples = convert_samples(np.clip(x, -1, 1 - 2**-31), dtype)
    if channels == 1 and rng.random() < 0.5:
        samples = np.ascontiguousarray(samples[:, 0])  # 1-D mono
    audio = Audio(np.ascontiguousarray(samples), rate)
    return audio.to_layout(layout) if samples.ndim == 2 else audio


def random_chunks(rng, audio: Audio) -> list[Audio]:
    """Cuts at random frames, including empty items and items of a single frame."""
    cuts = np.sort(rng.integers(0, audio.frames + 1, size=int(rng.integers(0, 12))))
    bounds = [0, *cuts.tolist(), audio.frames]
    frames_axis = 1 if audio.layout == "planar" and audio.samples.ndim == 2 else 0
    out = []
    for a, b in zip(bounds, bounds[1:]):
        part = audio.samples[:, a:b] if frames_axis == 1 else audio.samples[a:b]
        out.append(Audio(np.ascontiguousarray(part), audio.sample_rate, audio.layout))
    return out


def random_node(rng, position: int, last: bool):
    """One audio node with random parameters; analysis nodes (no audio out) only at the end."""
    kinds = ["format", "gain", "normalize", "resample", "chunker"] + (["level", "vad"] if last else [])
    kind = kinds[int(rng.integers(len(kinds)))]
    name = f"{kind}{position}"
    if kind == "format":
        params = {"dtype": str(rng.choice(DTYPES))}
        if rng.random() < 0.5:
            params["layout"] = str(rng.choice(["interleaved", "planar"]))
        if rng.random() < 0.3:
            params["channels"] = 1
        return AudioFormatNode(name=name, **params)
    if kind == "gain":
        return AudioGainNode(name=name, db=float(rng.uniform(-20, 20)))
    if kind == "normalize":
        return AudioNormalizeNode(name=name, mode=str(rng.choice(["peak", "rms"])), target_db=float(rng.uniform(-30, 0)))
    if kind == "resample":
        return AudioResampleNode(name=name, sample_rate=int(rng.choice(RATES)),
                                 quality=str(rng.choice(["quick", "low", "medium", "high", "very_high"])))
    if kind == "chunker":
        if rng.random() < 0.5:
            return AudioChunkerNode(name=name, frames=int(rng.integers(1, 2000)), pad=bool(rng.random() < 0.5))
        return AudioChunkerNode(name=name, duration_ms=float(rng.uniform(1, 50)))
    if kind == "level":
        return AudioLevelNode(name=name)
    return EnergyVADNode(name=name, threshold_db=float(rng.uniform(-50, -20)), frame_ms=float(rng.uniform(5, 30)),
                         hangover_ms=float(rng.uniform(0, 200)), min_speech_ms=float(rng.uniform(0, 100)),
                         include_audio=bool(rng.random() < 0.7))


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    audio = random_signal(rng, seconds=float(rng.uniform(0.05, 1.5)), rate=int(rng.choice(RATES)),
                          channels=int(rng.choice([1, 2])), dtype=str(rng.choice(DTYPES)),
                          layout=str(rng.choice(["interleaved", "planar"])))
    length = int(rng.integers(1, 5))
    nodes = [random_node(rng, i, i == length - 1) for i in range(length)]
    return rng, audio, nodes


def _describe(nodes) -> str:
    return " -> ".join(f"{type(n).__name__}{n.config}" for n in nodes)


def with_faults(rng, items: list) -> list:
    """Sometimes a wrong item (not audio, another rate, another channel count) among the chunks:
    the executors must fail alike (or pass alike, where a node does not care)."""
    roll = rng.random()
    if roll < 0.6:
        return items
    at = int(rng.integers(0, len(items) + 1))
    rate = items[0].sample_rate if items else 8000
    bad = [42, "text", None, Audio(np.zeros(64, np.float32), rate * 2 if rate < 40000 else rate // 2),
           Audio(np.zeros((64, 3), np.int16), rate)][int(rng.integers(5))]
    return items[:at] + [bad] + items[at:]


@pytest.mark.parametrize("seed", range(150))
def test_native_and_python_executors_agree_on_random_audio_chains(seed):
    rng, audio, nodes = random_case(seed)
    items = with_faults(rng, random_chunks(rng, audio))
    outcomes = []
    for runtime in ("native", "python"):
        try:
            outcomes.append(("ok", Pipeline(nodes).run_sync(items, runtime=runtime)))
        except errors.RemoteMediaError as exc:
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1], _describe(nodes)


STREAMABLE = ("format", "gain", "resample")


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("runtime", ["native", "python"])
def test_a_session_fed_in_chunks_equals_one_whole_buffer(seed, runtime):
    rng = np.random.default_rng(1000 + seed)
    audio = random_signal(rng, seconds=float(rng.uniform(0.5, 2.0)), rate=int(rng.choice(RATES)),
                          channels=int(rng.choice([1, 2])), dtype=str(rng.choice(DTYPES)),
                          layout=str(rng.choice(["interleaved", "planar"])))
    nodes = []
    for i in range(int(rng.integers(0, 4))):
        kind = STREAMABLE[int(rng.integers(len(STREAMABLE)))]
        if kind == "format":
            nodes.append(AudioFormatNode(name=f"f{i}", dtype=str(rng.choice(DTYPES))))
        elif kind == "gain":
            nodes.append(AudioGainNode(name=f"g{i}", db=float(rng.uniform(-12, 12))))
        else:
            nodes.append(AudioResampleNode(name=f"r{i}", sample_rate=int(rng.choice(RATES))))
    # A fixed-size chunker or the VAD at the end makes items comparable whatever the cuts were.
    if rng.random() < 0.5:
        nodes.append(AudioChunkerNode(name="frames", frames=int(rng.integers(50, 1500))))
    else:
        nodes.append(EnergyVADNode(name="vad", threshold_db=-60.0, frame_ms=10.0, hangover_ms=60.0, min_speech_ms=0.0))
    pipeline = Pipeline(nodes)
    whole = pipeline.run_sync([audio], runtime=runtime)
    chunks = random_chunks(rng, audio)
    streamed = list(pipeline.stream_sync(chunks, runtime=runtime))
    assert streamed == whole, _describe(nodes)
    assert whole, "the chain produced nothing: the case tests nothing"


@pytest.mark.parametrize("runtime", ["native", "python"])
def test_the_speech_front_end_streams_20ms_chunks_like_one_buffer(runtime):
    rng = np.random.default_rng(5)
    audio = random_signal(rng, seconds=6.0, rate=48000, channels=1, dtype="float32", layout="interleaved")
    pipeline = Pipeline([
        AudioResampleNode(name="resample", sample_rate=16000),
        AudioGainNode(name="gain", db=6.0),
        AudioChunkerNode(name="chunker", duration_ms=20.0),
        EnergyVADNode(name="vad", threshold_db=-40.0),
    ])
    whole = pipeline.run_sync([audio], runtime=runtime)
    step = 960
    chunks = [Audio(audio.samples[i:i + step], 48000) for i in range(0, audio.frames, step)]
    streamed = list(pipeline.stream_sync(chunks, runtime=runtime))
    assert len(whole) >= 3
    assert streamed == whole
    for segment in whole:
        assert segment["audio"].sample_rate == 16000
        assert segment["audio"].frames == round((segment["end"] - segment["start"]) * 16000)


@pytest.mark.parametrize("runtime", ["native", "python"])
def test_a_wrong_item_deep_in_an_audio_stream_names_node_and_item(runtime):
    chunks = [Audio(np.zeros(480, np.float32), 48000) for _ in range(5)]
    items = chunks[:3] + [42] + chunks[3:]
    pipeline = Pipeline([AudioGainNode(name="gain", db=3.0), AudioResampleNode(name="resample", sample_rate=16000)])
    with pytest.raises(errors.NodeTypeError) as info:
        pipeline.run_sync(items, runtime=runtime)
    assert info.value.node_id == "gain" and info.value.item_index == 3
    assert "int" in str(info.value)


@pytest.mark.parametrize("expression", ["item", "not item", "item == item", "item != 1", "item + 1", "-item",
                                        "len(item)", "item[0]", "item.sample_rate"])
def test_expressions_on_audio_items_agree(expression):
    items = [Audio(np.zeros(4, np.float32), 8000), Audio(np.zeros(0, np.int16), 8000)]
    outcomes = []
    for runtime in ("native", "python"):
        try:
            outcomes.append(Pipeline([MapNode(name="m", expression=expression)]).run_sync(items, runtime=runtime))
        except errors.RemoteMediaError as exc:
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("expression, item, message", [
    ("item[0]", Audio(np.zeros(4, np.float32), 8000), "an audio cannot be indexed"),
    ("item[0]", 5, "an int cannot be indexed"),
    ("item.x", 2.5, "a float has no fields (looking up 'x')"),
    ("item[5]", np.arange(3), "index 5 out of range for an array of length 3"),
])
def test_type_names_take_their_article_on_both_runtimes(expression, item, message):
    for runtime in ("native", "python"):
        with pytest.raises(errors.NodeError) as caught:
            Pipeline([MapNode(name="m", expression=expression)]).run_sync([item], runtime=runtime)
        assert str(caught.value).endswith(message), (runtime, str(caught.value))
