"""AudioChunkerNode: audio cut into chunks of exactly ``frames`` frames, whatever the sizes of the
input's items; the remainder comes at end of input (short, or zero-padded to full length). The
native node is src/nodes/audio_frames.cpp; docs/AUDIO.md states the rules both follow.

A chunk inside one item is a view of the item's samples (a copy for planar audio of several
channels, whose chunks are not contiguous); a chunk that is a whole item is the item itself; a
chunk spanning items is joined from the pieces held back.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from remotemedia.core.audio import Audio
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import NodeValueError
from remotemedia.nodes._audio_stream import MAX_NODE_FRAMES, StreamFormat, audio_fits, expect_audio, too_large

__all__ = ["AudioChunkerNode"]


def _frames_at_rate(duration_ms: float, rate: int) -> int:
    """duration_ms at ``rate``, as the native node computes it (one float product and quotient);
    Python's round() is half to even."""
    x = float(duration_ms) * rate / 1000
    frames = round(x) if x < 2.0**32 else x  # round() of an inf would raise OverflowError
    if frames > MAX_NODE_FRAMES or frames < 1:
        what = f"more than {MAX_NODE_FRAMES} frames" if frames > MAX_NODE_FRAMES else "less than one frame"
        raise NodeValueError(f"duration_ms {duration_ms} at {rate} Hz is {what}")
    return frames


@register_node_type(aliases=("AudioChunker",))
class AudioChunkerNode(Node):
    """Cuts audio into chunks of exactly frames (or duration_ms) frames; the remainder comes at end of input."""

    PARAMS = (
        ParamSpec("frames", "int", description="Frames per chunk (at least 1, at most 2147483647); give this or "
                                               "duration_ms.", minimum=1, maximum=MAX_NODE_FRAMES),
        ParamSpec("duration_ms", "number",
                  description="Chunk length in milliseconds (more than 0), rounded to frames at the first "
                              "item's rate; give this or frames."),
        ParamSpec("pad", "bool", default=False, description="Zero-pad the last chunk to full length."),
    )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        frames, duration = params.get("frames"), params.get("duration_ms")
        if (frames is None) == (duration is None):
            return ("" if frames is None else ".duration_ms"), "give exactly one of 'frames' and 'duration_ms'"
        if duration is not None and not duration > 0:
            return ".duration_ms", "parameter 'duration_ms' must be more than 0"
        return None

    def initialize(self) -> None:
        self._frames = self.config.get("frames")  # fixed at the first item when given as duration_ms
        self._pad = self.config.get("pad", False)
        self._stream = StreamFormat(everything=True)  # chunks join the samples of several items
        self._pieces: list[np.ndarray] = []  # frames held back (views of items), fewer than a chunk
        self._held = 0

    def process(self, item: Any) -> Iterator[Audio]:
        audio = expect_audio(item)
        if self._stream.check(audio):
            if self._frames is None:
                self._frames = _frames_at_rate(self.config["duration_ms"], audio.sample_rate)
            # Every chunk is an array of _frames frames (a padded one whatever the input): a size no
            # node may allocate is refused before any is made.
            if not audio_fits(self._frames, audio.channels, audio.dtype):
                raise too_large("chunks", self._frames, audio.channels, audio.dtype)
        samples = audio.samples
        n = audio.frames
        if n == 0:
            return
        size = self._frames
        planar = samples.ndim == 2 and audio.layout == "planar"
        pos = 0
        if self._held:  # complete the chunk started by earlier items
            pos = min(size - self._held, n)
            self._pieces.append(samples[:, :pos] if planar else samples[:pos])
            self._held += pos
            if self._held < size:
                return
            yield self._join(size)
        if pos == 0 and n == size:  # the item is a chunk
            yield audio
            return
        rate, layout = audio.sample_rate, audio.layout
        while n - pos >= size:
            chunk = np.ascontiguousarray(samples[:, pos:pos + size]) if planar else samples[pos:pos + size]
            yield Audio._from_native(chunk, rate, layout)
            pos += size
        if pos < n:
            self._pieces.append(samples[:, pos:] if planar else samples[pos:])
            self._held = n - pos

    def flush(self) -> Iterator[Audio]:
        if self._held:
            yield self._join(self._frames if self._pad else self._held)

    def _join(self, frames: int) -> Audio:
        """The held pieces as one chunk of ``frames`` frames (zeros after them, when padding)."""
        stream = self._stream
        rate, channels, dtype, ndim, layout = stream.rate, stream.channels, stream.dtype, stream.ndim, stream.layout
        pieces = self._pieces
        axis = 1 if ndim == 2 and layout == "planar" else 0
        if frames > self._held:
            shape = (frames,) if ndim == 1 else (channels, frames) if axis else (frames, channels)
            out = np.zeros(shape, dtype)
            if axis:
                out[:, :self._held] = np.concatenate(pieces, axis=1)
            else:
                out[:self._held] = np.concatenate(pieces)
        else:
            out = np.concatenate(pieces, axis=axis)
        self._pieces = []
        self._held = 0
        return Audio._from_native(out, rate, layout)
