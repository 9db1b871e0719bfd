"""What an audio node accepts, with the errors of docs/AUDIO.md ("Nodes"), shared by the audio
nodes of the Python executor. The native twin, with the same messages, is src/nodes/audio_stream.h.

A stateful audio node (resampler, chunker, level, VADs, file sink) counts time and frames in samples
of one rate and channel count, so the first item fixes them for the whole stream; nodes that join
the samples of several items into one array (AudioChunker, EnergyVAD) fix the sample type and the
layout too. A later item that differs is a NodeValueError saying what changed, from what to what.
"""

from __future__ import annotations

from typing import Any

from remotemedia.core.audio import Audio
# An item's type as the native runtime names it in messages (Value::type_name): "audio",
# "ndarray[float32]", "numpy.int64", "NoneType", "str", ...
from remotemedia.core.expression import _type_name as type_name
from remotemedia.errors import NodeTypeError, NodeValueError


# The twins of kMaxAllocationBytes (remotemedia/ndarray.h) and kMaxNodeFrames (audio_stream.h):
# the most bytes a node allocates for one array whose size a parameter or an item's header decides,
# and the most frames a parameter may ask for at once (docs/NODES.md, "Limits").
MAX_ALLOCATION_BYTES = 2**32
MAX_NODE_FRAMES = 2**31 - 1

SAMPLE_BYTES = {"int16": 2, "int32": 4, "float32": 4, "float64": 8}


def audio_fits(frames: int, channels: int, dtype: str) -> bool:
    """Whether ``frames`` x ``channels`` samples of ``dtype`` fit MAX_ALLOCATION_BYTES."""
    return frames * channels * SAMPLE_BYTES[dtype] <= MAX_ALLOCATION_BYTES


def too_large(what: str, frames: int, channels: int, dtype: str) -> NodeValueError:
    """The error of an array that does not fit (the native runtime's words)."""
    return NodeValueError(f"{what} of {frames} frames x {channels} channels of {dtype} would take more than "
                          f"{MAX_ALLOCATION_BYTES} bytes, the most a node allocates for one array")


def expect_audio(item: Any) -> Audio:
    """The item, if it is audio; the NodeTypeError every audio node raises otherwise."""
    if type(item) is not Audio:
        raise NodeTypeError(f"expects audio, got {type_name(item)}")
    return item


def shape_name(ndim: int, layout: str) -> str:
    """"1-D mono", "interleaved" or "planar": how samples of rank ``ndim`` are laid out, for
    messages. A 1-D mono stream and (frames, 1) items count as different layouts."""
    return "1-D mono" if ndim == 1 else layout


def check_rate(a: Audio, rate: int) -> None:
    if a.sample_rate != rate:
        raise NodeValueError(f"sample rate changed from {rate} to {a.sample_rate} Hz")


def check_channels(a: Audio, channels: int) -> None:
    if a.channels != channels:
        raise NodeValueError(f"channel count changed from {channels} to {a.channels}")


def check_sample_type(a: Audio, dtype: str) -> None:
    if a.dtype != dtype:
        raise NodeValueError(f"sample type changed from {dtype} to {a.dtype}")


class StreamFormat:
    """The format of a stream, fixed by its first item: its rate and channel count, and with
    ``everything`` its sample type and layout (rank included) too. One per node and run."""

    __slots__ = ("everything", "rate", "channels", "dtype", "ndim", "layout")

    def __init__(self, everything: bool = False) -> None:
        self.everything = everything
        self.rate: int | None = None  # None until the first item

    def check(self, a: Audio) -> bool:
        """True for the item that starts the stream (it fixes the format); for a later one, a
        NodeValueError naming the first difference, in the order rate, channels, sample type,
        layout."""
        if self.rate is None:
            self.rate, self.channels, self.dtype = a.sample_rate, a.channels, a.dtype
            self.ndim, self.layout = a.samples.ndim, a.layout
            return True
        check_rate(a, self.rate)
        check_channels(a, self.channels)
        if self.everything:
            check_sample_type(a, self.dtype)
            ndim = a.samples.ndim
            if ndim != self.ndim or (ndim == 2 and a.layout != self.layout):
                raise NodeValueError(
                    f"layout changed from {shape_name(self.ndim, self.layout)} to {shape_name(ndim, a.layout)}")
        return False
