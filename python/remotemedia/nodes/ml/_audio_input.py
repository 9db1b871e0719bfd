"""Checks shared by the ML nodes: what Audio they take, with errors that say which native node
fixes the input (the ML nodes run as Python; the conversions before them are native nodes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from remotemedia.core.audio import Audio
from remotemedia.errors import NodeTypeError, NodeValueError


def type_name(item: Any) -> str:
    return type(item).__name__


def require_audio(node_type: str, item: Any) -> Audio:
    if not isinstance(item, Audio):
        raise NodeTypeError(f"{node_type} expects audio, got {type_name(item)}")
    return item


def mono_samples(node_type: str, audio: Audio, rates: tuple[int, ...]) -> np.ndarray:
    """The samples of mono ``audio`` at one of ``rates`` as a 1-D array (a view), else NodeValueError
    naming the native node that converts it."""
    if audio.sample_rate not in rates:
        want = " or ".join(str(r) for r in rates)
        raise NodeValueError(
            f"{node_type} expects audio at {want} Hz, got {audio.sample_rate} Hz: "
            f"resample it first (AudioResample with sample_rate={rates[-1]})"
        )
    if audio.channels != 1:
        raise NodeValueError(
            f"{node_type} expects mono audio, got {audio.channels} channels: "
            f"mix or select one first (AudioFormat with channels=1)"
        )
    return audio.samples.reshape(-1)
