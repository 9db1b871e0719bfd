"""Audio: samples plus the sample rate and channel layout that say how to interpret them.

The samples are a numpy array (never copied by the constructor): shape ``(frames,)`` for mono,
``(frames, channels)`` when interleaved, ``(channels, frames)`` when planar, of one of the sample
types int16, int32, float32 or float64. The native runtime's counterpart is ``AudioBuffer``
(include/remotemedia/audio.h); an ``Audio`` crosses into and out of it without copying the samples.

The conversions between sample types and layouts follow docs/AUDIO.md, which the native runtime
implements bit for bit (src/core/audio.cpp); the two are compared by tests/python/unit/test_audio.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Audio", "SAMPLE_TYPES", "LAYOUTS", "FULL_SCALE", "convert_samples", "pairwise_sum"]

SAMPLE_TYPES = ("int16", "int32", "float32", "float64")
LAYOUTS = ("interleaved", "planar")
# An integer sample s stands for s / FULL_SCALE in [-1, 1).
FULL_SCALE = {"int16": 32768.0, "int32": 2147483648.0}


class Audio:
    """A buffer of audio samples with its sample rate and channel layout (docs/AUDIO.md)."""

    __slots__ = ("samples", "sample_rate", "layout")

    samples: np.ndarray
    sample_rate: int
    layout: str

    def __init__(self, samples: Any, sample_rate: int, layout: str = "interleaved") -> None:
        arr = samples if type(samples) is np.ndarray else np.asarray(samples)
        if arr.dtype.name not in SAMPLE_TYPES:
            raise TypeError(f"audio samples must be int16, int32, float32 or float64, not {arr.dtype.name}")
        if arr.ndim not in (1, 2):
            raise ValueError(f"audio samples must be 1-D (mono) or 2-D, not {arr.ndim}-D")
        if type(sample_rate) is not int and not isinstance(sample_rate, np.integer):
            raise TypeError(f"sample_rate must be an int, not {type(sample_rate).__name__}")
        # The native AudioBuffer's limits (and words): its rate and channel count are 32 bits, so an
        # Audio beyond them could not cross into the native runtime as audio.
        if not 0 < sample_rate <= 2**31 - 1:
            raise ValueError(f"sample_rate must be positive and fit 32 bits, not {sample_rate}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be 'interleaved' or 'planar', not {layout!r}")
        if arr.ndim == 2 and arr.shape[1 if layout == "interleaved" else 0] > 2**31 - 1:
            raise ValueError(f"too many audio channels: {arr.shape[1 if layout == 'interleaved' else 0]}")
        self.samples = arr
        self.sample_rate = int(sample_rate)
        self.layout = "interleaved" if arr.ndim == 1 else layout  # mono 1-D has no layout to speak of

    @classmethod
    def _from_native(cls, samples: np.ndarray, sample_rate: int, layout: str) -> "Audio":
        # The binding's constructor: the native side already checked everything.
        self = object.__new__(cls)
        self.samples = samples
        self.sample_rate = sample_rate
        self.layout = layout
        return self

    # -- shape -------------------------------------------------------------------------------
    @property
    def channels(self) -> int:
        s = self.samples
        if s.ndim == 1:
            return 1
        return s.shape[1] if self.layout == "interleaved" else s.shape[0]

    @property
    def frames(self) -> int:
        s = self.samples
        if s.ndim == 1:
            return s.shape[0]
        return s.shape[0] if self.layout == "interleaved" else s.shape[1]

    @property
    def dtype(self) -> str:
        return self.samples.dtype.name

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frames / self.sample_rate

    def __len__(self) -> int:
        return self.frames

    # -- conversions -------------------------------------------------------------------------
    def to_dtype(self, dtype: str | np.dtype | type) -> "Audio":
        """The same audio as another sample type (docs/AUDIO.md: scaling, rounding, clipping)."""
        name = np.dtype(dtype).name
        if name not in SAMPLE_TYPES:
            raise ValueError(f"audio sample type must be one of {', '.join(SAMPLE_TYPES)}, not {name}")
        if name == self.dtype:
            return self
        return Audio._from_native(convert_samples(self.samples, name), self.sample_rate, self.layout)

    def to_layout(self, layout: str) -> "Audio":
        """The same audio with channels interleaved ((frames, channels)) or planar ((channels, frames))."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be 'interleaved' or 'planar', not {layout!r}")
        if layout == self.layout or self.samples.ndim == 1:
            return self
        return Audio._from_native(np.ascontiguousarray(self.samples.T), self.sample_rate, layout)

    def interleaved(self) -> np.ndarray:
        """The samples as (frames, channels), whatever the layout (a view when possible)."""
        s = self.samples
        if s.ndim == 1:
            return s.reshape(-1, 1)
        return s if self.layout == "interleaved" else s.T

    def planar(self) -> np.ndarray:
        """The samples as (channels, frames), whatever the layout (a view when possible)."""
        s = self.samples
        if s.ndim == 1:
            return s.reshape(1, -1)
        return s if self.layout == "planar" else s.T

    # -- comparison ----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Audio):
            return NotImplemented
        return (
            self.sample_rate == other.sample_rate
            and self.layout == other.layout
            and self.samples.dtype == other.samples.dtype
            and self.samples.shape == other.samples.shape
            and bool(np.array_equal(self.samples, other.samples))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable payload, as numpy arrays

    def __repr__(self) -> str:
        return (f"Audio({self.frames} frames, {self.channels} ch, {self.sample_rate} Hz, {self.dtype}, "
                f"{self.layout}, {self.duration:.3f} s)")

    def __reduce__(self) -> tuple:
        return (Audio, (self.samples, self.sample_rate, self.layout))


def convert_samples(samples: np.ndarray, dtype: str) -> np.ndarray:
    """Samples as another sample type, by the rules of docs/AUDIO.md (both runtimes agree bit for
    bit): int to float divides by the full scale; float to int multiplies by it, rounds half to even
    and clips to the type's range (NaN becomes 0); int to int goes through float64 the same way."""
    src = samples.dtype.name
    if src == dtype:
        return samples
    if dtype in ("float32", "float64"):
        if src in FULL_SCALE:
            # int32 -> float32 rounds once (astype); the power-of-two scale is exact.
            out = samples.astype(dtype)
            out *= out.dtype.type(1.0 / FULL_SCALE[src])
            return out
        return samples.astype(dtype)
    scale = FULL_SCALE[dtype]
    x = samples.astype(np.float64)
    if src in FULL_SCALE:
        x *= 1.0 / FULL_SCALE[src]
    x *= scale
    np.rint(x, out=x)
    np.clip(x, -scale, scale - 1.0, out=x)
    x[np.isnan(x)] = 0.0
    return x.astype(dtype)


def pairwise_sum(values: np.ndarray) -> float:
    """The sum of a float64 array as numpy computes it (pairwise summation over a contiguous 1-D
    array); the native runtime's reductions (levels, RMS) use the same order, so both agree exactly."""
    return float(np.add.reduce(np.ascontiguousarray(values, dtype=np.float64).ravel()))
