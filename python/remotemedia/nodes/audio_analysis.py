"""The audio analysis nodes: AudioLevel (the level of each item) and EnergyVAD (speech segments by
frame energy).

Native implementations live in src/nodes/audio_analysis.cpp; both follow docs/AUDIO.md bit for bit
(numpy only here): sums of squares in numpy's pairwise order, square roots and log10 from the C
library (``math``), never numpy's own transcendental kernels.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from remotemedia.core.audio import FULL_SCALE, Audio
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import NodeValueError
from remotemedia.nodes._audio_stream import StreamFormat, expect_audio
from remotemedia.nodes.audio_basic import peak_level, rms_level

__all__ = ["AudioLevelNode", "EnergyVADNode"]


def level_db(level: float) -> float:
    """20 * log10(max(level, 1e-10)): silence is -200 dB; a NaN level stays NaN."""
    return 20.0 * math.log10(1e-10 if level < 1e-10 else level)


# ---------------------------------------------------------------------------------- level


@register_node_type(aliases=("AudioLevel",))
class AudioLevelNode(Node):
    """Emits each audio item's start time, duration, RMS and peak level (linear and in dB)."""

    def initialize(self) -> None:
        self._stream = StreamFormat()  # times are counted in frames of the first item's rate
        self._frames_before = 0

    def process(self, item: Any) -> dict:
        a = expect_audio(item)
        self._stream.check(a)
        rate = a.sample_rate
        rms = rms_level(a.samples)
        peak = peak_level(a.samples) if a.samples.size else 0.0
        start = self._frames_before / rate
        self._frames_before += a.frames
        return {"start": start, "duration": a.frames / rate, "rms": rms, "peak": peak,
                "rms_db": level_db(rms), "peak_db": level_db(peak)}


# ------------------------------------------------------------------------------ EnergyVAD

_MAX_FRAME_MS = 10000.0
_SAMPLE_COUNT_CAP = 2**62  # "never" for a hangover or a segment length


def ms_to_samples(ms: float, rate: int) -> int:
    """round(ms * rate / 1000) (half to even), capped where it can only mean "longer than any
    stream"; the same float operations as the native node."""
    x = float(ms) * rate / 1000.0
    if x >= float(_SAMPLE_COUNT_CAP):
        return _SAMPLE_COUNT_CAP
    return round(x)


class _Segments:
    """The open segment's samples: interleaved arrays (views of the items, which are immutable)
    covering stream frames [start, start + frames)."""

    __slots__ = ("parts", "frames")

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.frames = 0

    def clear(self) -> None:
        self.parts, self.frames = [], 0

    def append(self, block: np.ndarray) -> None:
        self.parts.append(block)
        self.frames += block.shape[0]

    def joined(self) -> np.ndarray:
        if len(self.parts) != 1:
            self.parts = [np.concatenate(self.parts)]
        return self.parts[0]

    def drop_front(self, frames: int) -> None:
        rest = self.joined()[frames:]
        self.parts, self.frames = [rest], rest.shape[0]


@register_node_type(aliases=("EnergyVAD",))
class EnergyVADNode(Node):
    """Finds speech by frame energy; emits {start, end, audio} per segment, in seconds."""

    PARAMS = (
        ParamSpec("threshold_db", "number", default=-40.0,
                  description="A frame is loud when its RMS level in dB is above this."),
        ParamSpec("frame_ms", "number", default=20.0,
                  description="Analysis frame length in ms (more than 0, at most 10000)."),
        ParamSpec("hangover_ms", "number", default=300.0, minimum=0.0,
                  description="Quiet time after the last loud frame that ends a segment."),
        ParamSpec("min_speech_ms", "number", default=100.0, minimum=0.0,
                  description="Segments shorter than this are dropped."),
        ParamSpec("max_segment_ms", "number", default=30000.0,
                  description="Segments are cut at this length (more than 0)."),
        ParamSpec("include_audio", "bool", default=True, description='Attach the segment\'s samples as "audio".'),
    )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        frame_ms = params.get("frame_ms", 20.0)
        if not 0.0 < frame_ms <= _MAX_FRAME_MS:
            return ".frame_ms", "parameter 'frame_ms' must be greater than 0 and at most 10000"
        if not params.get("max_segment_ms", 30000.0) > 0.0:
            return ".max_segment_ms", "parameter 'max_segment_ms' must be greater than 0"
        return None

    def initialize(self) -> None:
        c = self.config
        self._threshold = float(c.get("threshold_db", -40.0))
        self._include_audio = c.get("include_audio", True)
        self._stream = StreamFormat(everything=True)  # segments join the samples of several items
        self._frame = 0  # frames per analysis frame, fixed by the first item
        self._held: list[np.ndarray] = []  # the frame begun but not complete, interleaved
        self._held_frames = 0
        self._pos = 0  # stream frames evaluated so far (where the held frame begins)
        self._in_speech = False
        self._start = 0
        self._last_loud_end = 0
        self._segment = _Segments()

    # -- stream ----------------------------------------------------------------------------
    def process(self, item: Any) -> Iterator[dict]:
        yield from self._push(item)

    def flush(self) -> Iterator[dict]:
        yield from self._finish()

    def _push(self, item: Any) -> list[dict]:
        a = expect_audio(item)
        if self._stream.check(a):
            self._setup(a)
        out: list[dict] = []
        x = a.interleaved()
        frames = a.frames
        L = self._frame
        f = 0
        if self._held_frames:  # complete the frame the last item began
            f = min(L - self._held_frames, frames)
            self._held.append(x[:f])
            self._held_frames += f
            if self._held_frames < L:
                return out
            self._frames(self._held_block(), out)
            self._held, self._held_frames = [], 0
        whole = (frames - f) // L
        if whole:
            self._frames(x[f:f + whole * L], out)
            f += whole * L
        if f < frames:
            self._held.append(x[f:])
            self._held_frames += frames - f
        return out

    def _finish(self) -> list[dict]:
        out: list[dict] = []
        if self._frame and self._held_frames:  # the last, shorter frame
            block = self._held_block()
            self._held, self._held_frames = [], 0
            self._frames(block, out, frame=block.shape[0])
        if self._in_speech:
            self._close(self._last_loud_end, out)
        return out

    def _setup(self, a: Audio) -> None:
        c, rate = self.config, a.sample_rate
        self._frame = ms_to_samples(c.get("frame_ms", 20.0), rate)
        self._hangover = ms_to_samples(c.get("hangover_ms", 300.0), rate)
        self._min_speech = ms_to_samples(c.get("min_speech_ms", 100.0), rate)
        self._max_segment = ms_to_samples(c.get("max_segment_ms", 30000.0), rate)
        if self._frame < 1:
            self._frame = 0
            raise NodeValueError(f"frame_ms gives frames of 0 samples at {rate} Hz; it must give at least 1")
        if self._max_segment < 1:
            self._frame = 0
            raise NodeValueError(
                f"max_segment_ms gives segments of 0 samples at {rate} Hz; it must give at least 1")
        self._rate = rate
        self._channels = a.channels
        self._one_d = a.samples.ndim == 1
        self._layout = a.layout
        self._channel_major = a.layout == "planar" and a.channels > 1
        self._scale = 1.0 / FULL_SCALE[a.dtype] if a.dtype in FULL_SCALE else None

    def _held_block(self) -> np.ndarray:
        held = self._held
        return held[0] if len(held) == 1 else np.concatenate(held)

    # -- frames ----------------------------------------------------------------------------
    def _frame_dbs(self, block: np.ndarray, frame: int) -> list[float]:
        """The RMS level in dB of each frame of ``frame`` frames in ``block`` (interleaved, a whole
        number of frames), over each frame's samples in storage order: channel by channel when the
        stream is planar."""
        count = block.shape[0] // frame
        channels = self._channels
        if self._channel_major:  # block.T is (channels, frames): a view of a planar item
            rows = block.T.reshape(channels, count, frame).transpose(1, 0, 2)
        else:
            rows = block.reshape(count, frame * channels)
        # A new C-ordered float64 array (never the item's own memory, which the squares overwrite).
        x = rows.astype(np.float64, order="C").reshape(count, frame * channels)
        if self._scale is not None:
            x *= self._scale
        np.square(x, out=x)
        sums = np.add.reduce(x, axis=1)  # each row in numpy's pairwise order, as np.sum of the row
        n = frame * channels
        if n == 0:
            return [level_db(0.0)] * count
        return [level_db(math.sqrt(s / n)) for s in sums.tolist()]

    def _frames(self, block: np.ndarray, out: list, frame: int = 0) -> None:
        frame = frame or self._frame
        dbs = self._frame_dbs(block, frame)
        threshold = self._threshold
        for i, db in enumerate(dbs):
            self._on_frame(block[i * frame:(i + 1) * frame], db > threshold, out)

    def _on_frame(self, frame: np.ndarray, loud: bool, out: list) -> None:
        """The state machine of docs/AUDIO.md (EnergyVAD) for the frame [pos, pos + len(frame))."""
        a = self._pos
        b = a + frame.shape[0]
        self._pos = b
        if not self._in_speech:
            if not loud:
                return
            self._in_speech = True
            self._start = a
            self._segment.clear()
        if self._include_audio:
            self._segment.append(frame)
        if loud:
            self._last_loud_end = b
        max_segment = self._max_segment
        while self._in_speech and b - self._start >= max_segment:
            cut = self._start + max_segment
            self._emit(min(self._last_loud_end, cut), out)
            if loud and cut < b:  # the loud frame goes on past the cut: the next segment starts there
                if self._include_audio:
                    self._segment.drop_front(cut - self._start)
                self._start = cut
            else:
                self._in_speech = False
                self._segment.clear()
        if self._in_speech and not loud and b - self._last_loud_end >= self._hangover:
            self._close(self._last_loud_end, out)

    def _close(self, end: int, out: list) -> None:
        self._emit(end, out)
        self._in_speech = False
        self._segment.clear()

    def _emit(self, end: int, out: list) -> None:
        length = end - self._start
        if length < self._min_speech:
            return
        rate = self._rate
        seg = {"start": self._start / rate, "end": end / rate}
        if self._include_audio:
            samples = self._segment.joined()[:length]
            if self._one_d:
                samples = np.ascontiguousarray(samples.reshape(-1))
            elif self._layout == "planar":
                samples = np.ascontiguousarray(samples.T)
            else:
                samples = np.ascontiguousarray(samples)
            if samples.base is not None or not samples.flags.owndata:
                samples = samples.copy()  # the segment owns its samples, not a view of an item
            seg["audio"] = Audio._from_native(samples, rate, self._layout)
        out.append(seg)
