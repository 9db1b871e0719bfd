"""Hybrid ML nodes: Python inference inside native pipelines.

The nodes here have no native implementation: in a native pipeline the audio conversions before them
(AudioResample, AudioFormat) run as C++ and the model runs as Python (docs/PYTHON_NODES.md). Importing
this package stays cheap: onnxruntime and pocketsphinx are imported by the nodes' ``initialize``.
"""

from remotemedia.nodes.ml.stt import SpeechToTextNode
from remotemedia.nodes.ml.vad import SileroVADNode

__all__ = ["SileroVADNode", "SpeechToTextNode"]

# Names from the seed document that this package does not have, and what takes their place.
_INSTEAD = {
    "WhisperTranscription": "SpeechToTextNode (engine='moonshine' or 'pocketsphinx'; docs/AUDIO.md), "
                            "after AudioResampleNode(sample_rate=16000) and EnergyVADNode or SileroVADNode",
}


def __getattr__(name: str):
    # `from remotemedia.nodes.ml import WhisperTranscription` goes through here (PEP 562) and gets
    # an ImportError that says what to use; any other missing name is a plain AttributeError.
    if name in _INSTEAD:
        raise ImportError(f"remotemedia.nodes.ml has no {name}: use {_INSTEAD[name]}", name=name,
                          path=__file__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
