"""SpeechToTextNode: text of speech segments by PocketSphinx or Moonshine, with the model each wheel ships.

A Python node (no native implementation); inside a native pipeline it gets the segments a native
VAD cut (EnergyVAD) or SileroVAD's. The decoder loads the US English acoustic model, language
model and pronunciation dictionary that the pocketsphinx package carries under
``pocketsphinx.get_model_path()`` (nothing is downloaded), once per node; every utterance reuses it.
engine="moonshine" runs Moonshine base-en from the moonshine-cpp wheel instead (nodes/ml/moonshine.py).
docs/AUDIO.md says which other speech-to-text packages were considered and why these.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import numpy as np

from remotemedia.core.audio import Audio
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import InvalidParameterError, NodeTypeError
from remotemedia.nodes.ml._audio_input import mono_samples, type_name

__all__ = ["SpeechToTextNode", "pocketsphinx_model_paths"]

_RATE = 16000
_FRAMES_PER_SECOND = 100  # pocketsphinx's frame rate (frate), 10 ms frames
_ALTERNATE = re.compile(r"\(\d+\)$")  # "the(2)": the dictionary's second pronunciation of "the"
_ENGINES = ("pocketsphinx", "moonshine")
_POCKETSPHINX_ONLY = ("acoustic_model", "language_model", "dictionary")


def pocketsphinx_model_paths() -> dict[str, str]:
    """The acoustic model (hmm), language model (lm) and dictionary (dict) in the pocketsphinx wheel."""
    try:
        import pocketsphinx
    except ImportError as exc:
        raise ImportError("SpeechToTextNode needs pocketsphinx (pip install 'remotemedia[ml]')") from exc
    root = pocketsphinx.get_model_path()
    return {
        "hmm": os.path.join(root, "en-us", "en-us"),
        "lm": os.path.join(root, "en-us", "en-us.lm.bin"),
        "dict": os.path.join(root, "en-us", "cmudict-en-us.dict"),
    }


def _new_decoder(key: tuple) -> Any:
    from pocketsphinx import Decoder

    for name, path in zip(_POCKETSPHINX_ONLY, key):
        if not os.path.exists(path):  # PocketSphinx says only "Failed to initialize PocketSphinx"
            raise InvalidParameterError(f"parameter '{name}': no such file or directory: {path!r}", path=None)
    try:
        return Decoder(hmm=key[0], lm=key[1], dict=key[2], samprate=_RATE, logfn=os.devnull)
    except RuntimeError as exc:
        raise InvalidParameterError(f"PocketSphinx cannot load the model {key[0]!r}, {key[1]!r}, {key[2]!r}: {exc}",
                                    path=None) from exc


@register_node_type(aliases=("SpeechToText",))
class SpeechToTextNode(Node):
    """Text ({"start", "end", "text", "words"}) of each speech segment or Audio item, 16 kHz mono, by PocketSphinx or Moonshine (Python)."""

    PARAMS = (
        ParamSpec("engine", "string", default="pocketsphinx", choices=_ENGINES,
                  description="pocketsphinx, or moonshine (Moonshine base-en from moonshine-cpp: far more accurate, no word times)."),
        ParamSpec("words", "bool", default=True,
                  description="Add \"words\": [{\"word\", \"start\", \"end\"}] (seconds) to each result (pocketsphinx only)."),
        ParamSpec("acoustic_model", "string",
                  description="Directory of a PocketSphinx acoustic model (default: en-us from the wheel)."),
        ParamSpec("language_model", "string",
                  description="PocketSphinx language model file (default: en-us.lm.bin from the wheel)."),
        ParamSpec("dictionary", "string",
                  description="Pronunciation dictionary (default: cmudict-en-us.dict from the wheel)."),
    )

    _decoder: Any = None
    _decoder_config: tuple | None = None
    _moonshine: Any = None

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__(name, **config)
        # Shared with the copies of this node that runs and sessions make (a shallow copy).
        self._pool: list[tuple[tuple, Any]] = []  # (model paths, decoder) not in use
        self._pool_lock = threading.Lock()

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        if params.get("engine") == "moonshine":
            for name in _POCKETSPHINX_ONLY:
                if name in params:
                    return f".{name}", f"{name} is a pocketsphinx parameter; engine is moonshine"
        return None

    def initialize(self) -> None:
        self._offset = 0.0  # stream time of the next bare Audio item
        if self.config.get("engine") == "moonshine":
            from remotemedia.nodes.ml.moonshine import MoonshineModel

            self._moonshine = MoonshineModel()  # one per node and run: freed in cleanup
            return
        # The decoder takes a quarter of a second to load: a node keeps its decoders across its
        # runs and sessions, in a pool that the copies a run or session makes of the node share,
        # taking one in initialize and giving it back in cleanup (two sessions at once each get
        # their own: a decoder holds an utterance's state). Not across nodes: what a decoder
        # recognises depends a little on the utterances it decoded before (its CMN estimate).
        c = self.config
        paths = pocketsphinx_model_paths()
        key = (c.get("acoustic_model") or paths["hmm"], c.get("language_model") or paths["lm"],
               c.get("dictionary") or paths["dict"])
        # (A decoder this object already holds may be its original's, copied with it: not ours
        # to give back; initialize without cleanup only drops one.)
        with self._pool_lock:
            free = [d for d in self._pool if d[0] == key]
            if free:
                self._pool.remove(free[0])
        self._decoder, self._decoder_config = (free[0][1] if free else _new_decoder(key)), key

    def _release_decoder(self) -> None:
        if self._decoder is not None:
            with self._pool_lock:
                self._pool.append((self._decoder_config, self._decoder))
            self._decoder = None

    def cleanup(self) -> None:
        self._release_decoder()
        if self._moonshine is not None:
            self._moonshine.close()
            self._moonshine = None

    def process(self, item: Any) -> dict[str, Any]:
        if isinstance(item, Audio):
            audio, start = item, self._offset
            end = start + audio.duration
            self._offset = end
        elif isinstance(item, dict) and isinstance(item.get("audio"), Audio):
            audio = item["audio"]
            start = item.get("start", 0.0)
            end = item.get("end", start + audio.duration)
        else:
            hint = (" (a segment without audio: give the VAD include_audio=true)"
                    if isinstance(item, dict) and "audio" not in item else "")
            raise NodeTypeError(
                f"{self.node_type} expects audio or a segment {{\"start\", \"end\", \"audio\"}}, "
                f"got {type_name(item)}{hint}"
            )
        samples = mono_samples(self.node_type, audio, (_RATE,))
        if self._moonshine is not None:
            return {"start": start, "end": end, "text": self._moonshine.transcribe(samples)}
        if samples.dtype != np.int16:
            samples = audio.to_dtype("int16").samples.reshape(-1)  # docs/AUDIO.md's float -> int rule

        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(np.ascontiguousarray(samples).tobytes(), no_search=False, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        result: dict[str, Any] = {"start": start, "end": end, "text": hyp.hypstr if hyp is not None else ""}
        if self.config.get("words", True):
            result["words"] = [
                {"word": _ALTERNATE.sub("", seg.word),
                 "start": start + seg.start_frame / _FRAMES_PER_SECOND,
                 "end": start + (seg.end_frame + 1) / _FRAMES_PER_SECOND}
                for seg in decoder.seg() or ()  # None when nothing was decoded
                if not (seg.word.startswith("<") or seg.word.startswith("["))  # <s>, </s>, <sil>, [NOISE]
            ]
        return result
