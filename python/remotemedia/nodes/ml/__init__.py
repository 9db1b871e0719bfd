"""Hybrid ML nodes: Python inference inside native pipelines.

The nodes here have no native implementation: in a native pipeline the audio conversions before them
(AudioResample, AudioFormat) run as C++ and the model runs as Python (docs/PYTHON_NODES.md). Importing
this package stays cheap: onnxruntime and pocketsphinx are imported by the nodes' ``initialize``.
"""

from remotemedia.nodes.ml.stt import SpeechToTextNode
from remotemedia.nodes.ml.vad import SileroVADNode

__all__ = ["SileroVADNode", "SpeechToTextNode"]
