"""AudioResampleNode: streaming sample-rate conversion with the soxr package (libsoxr).

The native node (src/nodes/audio_resample.cpp) uses the system's libsoxr with the same recipe; the
two agree bit for bit (docs/AUDIO.md, "AudioResample"). One thing needs care: libsoxr dithers int16
output by default, with a seed taken from the clock (the package's fork seeds it from the input),
so int16 results would differ between builds and runs. Neither runtime dithers: here integer
streams go through float64 (exact) and back with ``convert_samples`` (round half to even, clip),
which is what libsoxr's undithered integer output does natively.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from remotemedia.core.audio import FULL_SCALE, Audio, convert_samples
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import NodeValueError
from remotemedia.nodes._audio_stream import StreamFormat, audio_fits, expect_audio, too_large

__all__ = ["AudioResampleNode"]

QUALITIES = ("quick", "low", "medium", "high", "very_high")
# The soxr package's names of libsoxr's recipes SOXR_QQ ... SOXR_VHQ.
_RECIPES = {"quick": "QQ", "low": "LQ", "medium": "MQ", "high": "HQ", "very_high": "VHQ"}
MAX_RATE = 2**31 - 1  # an Audio's rate is 32 bits in the native runtime
# The largest ratio of the two rates, either way, given to libsoxr (the native node's kMaxRatio):
# libsoxr 0.1.3 crashes upsampling by 2^18 or more at "quick" (docs/AUDIO.md, the measurements).
MAX_RATIO = 65536
# The channel counts given to libsoxr (the native kMaxChannels): the native library crashes on 0, and
# the soxr package takes at most 65536.
MAX_CHANNELS = 65536


def _shaped(frames_by_channel: np.ndarray, ndim: int, layout: str) -> np.ndarray:
    """(frames, channels) samples shaped as an item of rank ``ndim`` and ``layout``."""
    if ndim == 1:
        return frames_by_channel.reshape(-1)
    if layout == "planar":
        return np.ascontiguousarray(frames_by_channel.T)
    return frames_by_channel


@register_node_type(aliases=("AudioResample",))
class AudioResampleNode(Node):
    """Resamples audio to sample_rate with libsoxr, streaming; the filter's delayed tail comes at end of input."""

    PARAMS = (
        ParamSpec("sample_rate", "int", required=True, description="Output sample rate in Hz (at least 1).",
                  minimum=1),
        ParamSpec("quality", "string", default="high", choices=QUALITIES,
                  description="libsoxr quality recipe: quick, low, medium, high or very_high."),
    )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        if params["sample_rate"] > MAX_RATE:
            return ".sample_rate", f"parameter 'sample_rate' must be at most {MAX_RATE}"
        return None

    def initialize(self) -> None:
        self._format = StreamFormat()  # rate and channels; items of another sample type are converted
        self._stream = None  # soxr.ResampleStream; None while passing through
        self._form = None  # (ndim, layout, dtype) of the latest item: the flushed tail has it

    def process(self, item: Any) -> Audio | None:
        audio = expect_audio(item)
        if self._format.check(audio):
            self._start(audio)
        samples = audio.samples
        self._form = (samples.ndim, audio.layout, samples.dtype.name)
        if audio.frames == 0:
            return None
        if self._stream is None:
            return audio  # already at the output rate: the item itself
        out_rate = self.config["sample_rate"]
        made = audio.frames * out_rate // audio.sample_rate + 1  # what the item makes, checked first
        if not audio_fits(made, audio.channels, self._dtype):
            raise too_large(f"the output of an item resampled to {out_rate} Hz", made, audio.channels, self._dtype)
        # (frames, channels) in the stream's sample type, as the stream's soxr type wants it
        x = audio.interleaved()
        if x.dtype.name != self._dtype:
            x = convert_samples(x, self._dtype)
        if self._scale is not None:
            x = x.astype(np.float64)
            x *= self._scale
        y = self._stream.resample_chunk(np.ascontiguousarray(x))
        return self._emit(y)

    def flush(self) -> Audio | None:
        if self._stream is None:
            return None
        y = self._stream.resample_chunk(np.empty((0, self._format.channels), self._stream_dtype), last=True)
        return self._emit(y)

    def _start(self, audio: Audio) -> None:
        import soxr  # the package is needed only when a stream really resamples

        self._dtype = audio.dtype  # what soxr is set up with; later items are converted to it
        out_rate = self.config["sample_rate"]
        if audio.sample_rate == out_rate:
            return
        if out_rate > MAX_RATIO * audio.sample_rate or audio.sample_rate > MAX_RATIO * out_rate:
            raise NodeValueError(f"cannot resample from {audio.sample_rate} to {out_rate} Hz: the rates differ by "
                                 f"more than a factor of {MAX_RATIO}")
        if not 1 <= audio.channels <= MAX_CHANNELS:
            raise NodeValueError(f"cannot resample audio of {audio.channels} channels: libsoxr takes 1 to {MAX_CHANNELS}")
        # Integers go through float64 (exact both ways; see the module docstring).
        self._scale = 1.0 / FULL_SCALE[self._dtype] if self._dtype in FULL_SCALE else None
        self._stream_dtype = "float64" if self._scale is not None else self._dtype
        recipe = _RECIPES[self.config.get("quality", "high")]
        self._stream = soxr.ResampleStream(audio.sample_rate, out_rate, audio.channels, self._stream_dtype, recipe)

    def _emit(self, y: np.ndarray) -> Audio | None:
        if y.shape[0] == 0:
            return None
        if self._stream_dtype != self._dtype:
            y = convert_samples(y, self._dtype)
        ndim, layout, dtype = self._form
        if dtype != self._dtype:
            y = convert_samples(y, dtype)
        return Audio._from_native(_shaped(y, ndim, layout), self.config["sample_rate"], layout)
