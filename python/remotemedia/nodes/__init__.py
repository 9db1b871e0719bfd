"""Built-in node types. Importing this package registers them (``remotemedia.core.registry``)."""

from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.calculator import CalculatorNode
from remotemedia.nodes.flow import BufferNode, FilterNode, MapNode, RouterNode
from remotemedia.nodes import audio_analysis, audio_basic, audio_files, audio_frames, audio_resample, ml
from remotemedia.nodes.audio_analysis import *  # noqa: F401,F403
from remotemedia.nodes.audio_basic import *  # noqa: F401,F403
from remotemedia.nodes.audio_files import *  # noqa: F401,F403
from remotemedia.nodes.audio_frames import *  # noqa: F401,F403
from remotemedia.nodes.audio_resample import *  # noqa: F401,F403
from remotemedia.nodes.ml import *  # noqa: F401,F403

__all__ = ["PassThroughNode", "CalculatorNode", "BufferNode", "FilterNode", "MapNode", "RouterNode",
           *audio_basic.__all__, *audio_resample.__all__, *audio_frames.__all__, *audio_analysis.__all__,
           *audio_files.__all__, *ml.__all__]
