"""Audio for pipelines: the ``Audio`` value (samples, sample rate, channel layout) and file helpers
(WAV, FLAC, Ogg through libsndfile). docs/AUDIO.md has the rules both runtimes follow."""

from remotemedia.audio.files import *  # noqa: F401,F403
from remotemedia.audio import files as _files
from remotemedia.core.audio import FULL_SCALE, LAYOUTS, SAMPLE_TYPES, Audio

__all__ = ["Audio", "SAMPLE_TYPES", "LAYOUTS", "FULL_SCALE", *_files.__all__]
