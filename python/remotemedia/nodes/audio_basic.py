"""The basic audio nodes: AudioFormat (sample type, channels, layout), AudioGain and AudioNormalize.

Native implementations live in src/nodes/audio_basic.cpp; both follow docs/AUDIO.md bit for bit
(numpy only here). Each emits one output per input item, including an empty buffer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from remotemedia.core.audio import FULL_SCALE, Audio, convert_samples
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec, _json_type
from remotemedia.core.registry import register_node_type
from remotemedia.errors import NodeValueError
from remotemedia.nodes._audio_stream import SAMPLE_BYTES, audio_fits, expect_audio, too_large

__all__ = ["AudioFormatNode", "AudioGainNode", "AudioNormalizeNode"]

_INT_RANGE = {"int16": (-32768.0, 32767.0), "int32": (-2147483648.0, 2147483647.0)}


def db_to_factor(db: float) -> float:
    """10 ** (db / 20), the C library's pow as the native nodes compute it; OverflowError when it
    does not fit a float (check_config turns that into a parameter error)."""
    return 10.0 ** (db / 20.0)


def _finite_factor(params: dict, name: str) -> tuple[str, str] | None:
    try:
        db_to_factor(params[name])
    except OverflowError:
        return f".{name}", f"parameter '{name}' is too large: 10 ** ({name} / 20) overflows"
    return None


def apply_gain(samples: np.ndarray, g: float) -> np.ndarray:
    """samples * g with the sample type's rule: float64 in float64, float32 in float32 by
    float32(g), integers in float64 then rounded half to even and clipped. Floats are not clipped."""
    samples = np.ascontiguousarray(samples)  # storage order as the native copy has it
    dtype = samples.dtype.name
    with np.errstate(all="ignore"):  # inf where a float overflows, as the native loop
        if dtype == "float64":
            return samples * g
        if dtype == "float32":
            return samples * np.float32(g)
        lo, hi = _INT_RANGE[dtype]
        x = samples.astype(np.float64)
        x *= g
        np.rint(x, out=x)
        np.clip(x, lo, hi, out=x)
        if not math.isfinite(g):
            x[np.isnan(x)] = 0.0  # 0 * inf: sample_from_scaled's NaN rule
        return x.astype(dtype)


def peak_level(samples: np.ndarray) -> float:
    """max |x| over the samples scaled to [-1, 1) (NaN if any sample is NaN, as np.max)."""
    samples = np.ascontiguousarray(samples)
    if samples.dtype.name in FULL_SCALE:
        m = int(np.max(np.abs(samples.astype(np.int64)))) if samples.size else 0
        return float(m) * (1.0 / FULL_SCALE[samples.dtype.name])
    return float(np.max(np.abs(samples.astype(np.float64)))) if samples.size else 0.0


def rms_level(samples: np.ndarray) -> float:
    """sqrt(sum(x * x) / n) over the samples scaled to [-1, 1), summed in numpy's pairwise order
    over storage order (the native pairwise_sum); 0 for no samples."""
    n = samples.size
    if n == 0:
        return 0.0
    squares = np.square(convert_samples(np.ascontiguousarray(samples).reshape(-1), "float64"))
    return math.sqrt(float(np.add.reduce(squares)) / n)


# ------------------------------------------------------------------------------------ gain


@register_node_type(aliases=("AudioGain",))
class AudioGainNode(Node):
    """Multiplies audio by a gain in dB (integer samples are rounded and clipped, floats are not clipped)."""

    PARAMS = (ParamSpec("db", "number", required=True,
                        description="Gain in dB: samples are multiplied by 10 ** (db / 20)."),)

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__(name, **config)
        self._factor = db_to_factor(self.config["db"])

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        return _finite_factor(params, "db")

    def process(self, item: Any) -> Audio:
        a = expect_audio(item)
        if self._factor == 1.0:  # changes no sample: the same item, as the native node
            return a
        return Audio._from_native(apply_gain(a.samples, self._factor), a.sample_rate, a.layout)


# ------------------------------------------------------------------------------- normalize


@register_node_type(aliases=("AudioNormalize",))
class AudioNormalizeNode(Node):
    """Scales each audio item so that its peak or RMS level is target_db (silence passes unchanged)."""

    PARAMS = (
        ParamSpec("mode", "string", default="peak", choices=("peak", "rms"),
                  description="The level to bring to target_db: peak or rms."),
        ParamSpec("target_db", "number", default=-1.0, description="Target level in dB relative to full scale."),
    )

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__(name, **config)
        self._rms = self.config.get("mode", "peak") == "rms"
        self._target = db_to_factor(self.config.get("target_db", -1.0))

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        return _finite_factor(params, "target_db") if "target_db" in params else None

    def process(self, item: Any) -> Audio:
        a = expect_audio(item)
        s = a.samples
        if s.size == 0:
            return a
        level = rms_level(s) if self._rms else peak_level(s)
        if level == 0.0 or not math.isfinite(level):
            return a  # no gain brings silence (or a NaN / infinite level) to the target
        return Audio._from_native(apply_gain(s, self._target / level), a.sample_rate, a.layout)


# ---------------------------------------------------------------------------------- format


def _check_format(params: dict) -> tuple[str, str] | None:
    select = params.get("select")
    if select is None:
        return None
    if params.get("channels") is not None:
        return ".select", "select and channels cannot be used together"
    if not select:
        return ".select", "parameter 'select' must list at least one channel"
    for i, c in enumerate(select):
        if type(c) is not int or c < 0:
            got = str(c) if type(c) is int else _json_type(c)
            return f".select[{i}]", f"a channel index must be an integer of at least 0, got {got}"
    return None


def _mix_down(a: Audio) -> np.ndarray:
    """Mono float64: per frame (((c0 + c1) + c2) + ...) / C of the samples scaled to [-1, 1)."""
    x = a.interleaved()
    if a.frames == 0:  # no samples to add, however many channels (2**31 - 1 is allowed)
        return np.zeros(0, np.float64)
    scale = 1.0 / FULL_SCALE[a.dtype] if a.dtype in FULL_SCALE else None
    m = x[:, 0].astype(np.float64)  # a new array
    if scale is not None:
        m *= scale
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as in the native loop
        for c in range(1, a.channels):
            column = x[:, c].astype(np.float64)
            if scale is not None:
                column *= scale
            m += column
    m /= a.channels
    return m


# The most channels `channels` may ask for (the native kMaxFormatChannels; docs/NODES.md, "Limits").
MAX_FORMAT_CHANNELS = 65536


def _check_gathered_size(a: Audio, k: int, to: str) -> None:
    """Gathered channels are frames x k in the input's sample type, then in the output's: the
    wider of the two must fit what a node allocates."""
    wider = to if SAMPLE_BYTES[to] > SAMPLE_BYTES[a.dtype] else a.dtype
    if not audio_fits(a.frames, k, wider):
        raise too_large("the output", a.frames, k, wider)


def _gather(a: Audio, pick: list[int], layout: str) -> Audio:
    """The channels ``pick`` (same sample type) in ``layout``; one channel gives 1-D mono."""
    x = a.interleaved()
    if len(pick) == 1:
        return Audio._from_native(np.ascontiguousarray(x[:, pick[0]]), a.sample_rate, "interleaved")
    if layout == "interleaved":
        return Audio._from_native(np.ascontiguousarray(x[:, pick]), a.sample_rate, layout)
    return Audio._from_native(np.ascontiguousarray(a.planar()[pick, :]), a.sample_rate, layout)


@register_node_type(aliases=("AudioFormat",))
class AudioFormatNode(Node):
    """Converts audio to another sample type, channel count or layout (docs/AUDIO.md)."""

    PARAMS = (
        ParamSpec("dtype", "string", choices=("int16", "int32", "float32", "float64"),
                  description="Output sample type (absent: the input's)."),
        ParamSpec("channels", "int", minimum=1, maximum=MAX_FORMAT_CHANNELS,
                  description="Output channel count (at most 65536): 1 mixes down, from mono duplicates (absent: "
                              "the input's)."),
        ParamSpec("select", "list", description="Channel indices to keep, in this order (absent: all); not with channels."),
        ParamSpec("layout", "string", choices=("interleaved", "planar"),
                  description="Output layout (absent: the input's); mono output is 1-D."),
    )

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__(name, **config)
        c = self.config
        self._dtype, self._channels = c.get("dtype"), c.get("channels")
        self._select, self._layout = c.get("select"), c.get("layout")

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        return _check_format(params)

    def process(self, item: Any) -> Audio:
        a = expect_audio(item)
        channels = a.channels
        to = self._dtype or a.dtype
        layout = self._layout or a.layout
        r = a
        select = self._select
        if select is not None:
            for c in select:
                if c >= channels:
                    noun = "channel" if channels == 1 else "channels"
                    raise NodeValueError(f"channel {c} selected, but the audio has {channels} {noun}")
            if len(select) != channels or list(select) != list(range(channels)):  # no list of 2**31 channels
                _check_gathered_size(a, len(select), to)
                r = _gather(a, list(select), layout)
        elif self._channels is not None and self._channels != channels:
            n = self._channels
            if n == 1 and channels > 0:
                r = Audio._from_native(_mix_down(a), a.sample_rate, "interleaved")
            elif channels == 1:
                _check_gathered_size(a, n, to)
                r = _gather(a, [0] * n, layout)
            else:
                raise NodeValueError(f"cannot map {channels} channels to {n}; use select")
        return r.to_dtype(to).to_layout(layout)
