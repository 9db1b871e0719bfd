"""SileroVADNode: speech segments from the Silero VAD model, run with onnxruntime.

A Python node (it has no native implementation): inside a native pipeline the resampling and format
conversion before it run as C++ and only the inference runs as Python. The model is the ONNX file
that the silero-vad package ships (silero_vad/data/silero_vad.onnx); the package itself is never
imported (it imports torch), only its data file is read. The model's streaming interface, as
silero's OnnxWrapper drives it: each call takes one window (512 samples at 16 kHz, 256 at 8 kHz)
preceded by the last 64 (32) samples of the previous window, zeros before the first, plus a
recurrent state (2, 1, 128) and the rate; it returns the window's speech probability and the next
state. The state runs through time, so the windows of one stream go one call each, in order.
(The package also ships a 16 kHz "sequence" export that takes many consecutive windows per call and
gives bit-identical probabilities; it is not used: a 20 ms stream brings less than one window per
item, and the stock model covers 8 kHz as well.)

Probabilities become segments by silero's own rules (``SpeechSegmenter``), one window at a time, so
a stream in any chunking gives the segments ``get_speech_timestamps`` gives on the whole recording.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from remotemedia.core.audio import Audio, convert_samples
from remotemedia.core.node import Node, ToPort
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import InvalidParameterError
from remotemedia.nodes._audio_stream import check_rate, check_sample_type
from remotemedia.nodes.ml._audio_input import mono_samples, require_audio
from remotemedia.nodes.ml.segmenter import SpeechSegmenter, window_samples

__all__ = ["SileroVADNode", "silero_model_path"]

_RATES = (8000, 16000)


def silero_model_path() -> str:
    """The path of silero_vad.onnx in the installed silero-vad package, found without importing it."""
    import importlib.metadata  # here: it costs milliseconds, and importing the nodes must stay cheap

    spec = importlib.util.find_spec("silero_vad")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location) / "data" / "silero_vad.onnx"
        if path.is_file():
            return str(path)
    try:
        for f in importlib.metadata.files("silero-vad") or ():
            if f.name == "silero_vad.onnx" and f.parent.name == "data":
                return str(f.locate())
    except importlib.metadata.PackageNotFoundError:
        pass
    raise FileNotFoundError(
        "SileroVADNode needs the Silero VAD model: install the silero-vad package "
        "(pip install 'remotemedia[ml]'; torch is not needed) or pass model=<path to silero_vad.onnx>"
    )


_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def _inference_session(path: str) -> Any:
    """One onnxruntime session per model file, shared by every node (``run`` is thread-safe; the
    recurrent state lives in the node). One thread per call, as silero configures it: the model is
    small, and a pipeline's other nodes want the other cores."""
    with _sessions_lock:
        session = _sessions.get(path)
        if session is None:
            try:
                import onnxruntime
            except ImportError as exc:
                raise ImportError(
                    "SileroVADNode needs onnxruntime (pip install 'remotemedia[ml]')"
                ) from exc
            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = 1
            options.log_severity_level = 3  # no warnings about unused initializers
            try:
                session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own classes: NoSuchFile, InvalidProtobuf, ...
                raise InvalidParameterError(f"parameter 'model': onnxruntime cannot load {path!r}: {exc}",
                                            path=None) from exc
            _sessions[path] = session
        return session


class _SampleStore:
    """The samples of one stream from some index on, as the arrays that came in (no copies until a
    segment is cut out)."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.first = 0  # stream index of parts[0][0]
        self.length = 0  # stream index just past the last sample

    def append(self, samples: np.ndarray) -> None:
        if samples.size:
            self.parts.append(samples)
            self.length += samples.size

    def slice(self, start: int, end: int) -> np.ndarray:
        assert self.first <= start <= end <= self.length, (self.first, start, end, self.length)
        out, pos = [], self.first
        for part in self.parts:
            lo, hi = max(start, pos), min(end, pos + part.size)
            if lo < hi:
                out.append(part[lo - pos:hi - pos])
            pos += part.size
            if pos >= end:
                break
        if len(out) == 1:
            return out[0].copy()  # the segment owns its samples, not a view of a whole item
        return np.concatenate(out) if out else np.empty(0, dtype=self.parts[0].dtype if self.parts else np.float32)

    def trim(self, keep_from: int) -> None:
        """Drop the parts that end before ``keep_from``."""
        while self.parts and self.first + self.parts[0].size <= keep_from:
            self.first += self.parts.pop(0).size


@register_node_type(aliases=("SileroVAD",))
class SileroVADNode(Node):
    """Speech segments ({"start", "end", "audio", "probability"}) of mono 16/8 kHz audio by the Silero VAD model (Python, onnxruntime)."""

    PARAMS = (
        ParamSpec("threshold", "number", default=0.5, minimum=0,
                  description="Speech probability at or above which a window is speech."),
        ParamSpec("neg_threshold", "number",
                  description="Probability below which a window inside speech is silence "
                              "(default: threshold - 0.15, at least 0.01).", minimum=0),
        ParamSpec("min_speech_duration_ms", "number", default=250, minimum=0,
                  description="Shorter segments are dropped."),
        ParamSpec("min_silence_duration_ms", "number", default=100, minimum=0,
                  description="Silence that ends a segment."),
        ParamSpec("speech_pad_ms", "number", default=30, minimum=0,
                  description="Audio added before and after each segment."),
        ParamSpec("max_speech_duration_s", "number", minimum=0,
                  description="Longer segments are split (at their longest inner silence if one "
                              "exceeds 98 ms); default: no limit."),
        ParamSpec("include_audio", "bool", default=True,
                  description="Put the segment's samples under \"audio\"."),
        ParamSpec("probabilities", "bool", default=False,
                  description="Also emit {\"time\", \"probability\"} per window on the output port "
                              "\"probabilities\"."),
        ParamSpec("model", "string",
                  description="Path of a Silero VAD ONNX model (default: the one in the silero-vad package)."),
    )

    @classmethod
    def ports_for(cls, params: dict) -> tuple[str, ...]:
        return ("out", "probabilities") if params.get("probabilities") else ("out",)

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        neg, threshold = params.get("neg_threshold"), params.get("threshold", 0.5)
        if neg is not None and neg > threshold:
            return ".neg_threshold", f"neg_threshold ({neg}) must not exceed threshold ({threshold})"
        return None

    def initialize(self) -> None:
        self._session = _inference_session(self.config.get("model") or silero_model_path())
        self._rate: int | None = None  # set by the first item

    # -- per stream ---------------------------------------------------------------------------
    def _start_stream(self, audio: Audio) -> None:
        rate = audio.sample_rate
        c = self.config
        self._rate, self._dtype = rate, audio.dtype
        self._window = window_samples(rate)
        self._context_size = 64 if rate == 16000 else 32
        self._input = np.zeros((1, self._context_size + self._window), dtype=np.float32)
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._sr = np.array(rate, dtype=np.int64)
        self._tail = np.empty(0, dtype=np.float32)  # samples of the next, incomplete window
        self._samples = _SampleStore()
        self._probs: list[float] = []
        self._probs_first = 0  # window index of _probs[0]
        self._segmenter = SpeechSegmenter(
            rate,
            threshold=c.get("threshold", 0.5),
            neg_threshold=c.get("neg_threshold"),
            min_speech_duration_ms=c.get("min_speech_duration_ms", 250),
            min_silence_duration_ms=c.get("min_silence_duration_ms", 100),
            speech_pad_ms=c.get("speech_pad_ms", 30),
            max_speech_duration_s=c.get("max_speech_duration_s"),
        )

    def _check(self, item: Any) -> np.ndarray:
        audio = require_audio(self.node_type, item)
        # The stream rules of the native audio nodes, with the mono check between the rate and the
        # sample type (every item is mono, so the channel count cannot change).
        if self._rate is not None:
            check_rate(audio, self._rate)
        samples = mono_samples(self.node_type, audio, _RATES)
        if self._rate is None:
            self._start_stream(audio)
        else:
            check_sample_type(audio, self._dtype)
        return samples

    def _probability(self, window: np.ndarray) -> float:
        """Runs the model on one window (with the previous window's last samples as context)."""
        inp, c = self._input, self._context_size
        inp[0, c:] = window
        out, self._state = self._session.run(
            ["output", "stateN"], {"input": inp, "state": self._state, "sr": self._sr}
        )
        inp[0, :c] = inp[0, -c:]
        return float(out[0, 0])

    def _window_done(self, prob: float, index: int, segments: list) -> Iterator[Any]:
        """The outputs of one window: its probability (when asked for), then the segments it
        finished."""
        if self.config.get("probabilities", False):
            yield ToPort("probabilities", {"time": index * self._window / self._rate, "probability": prob})
        yield from self._segments(segments)

    def _segments(self, segments: list) -> Iterator[Any]:
        ports = self.config.get("probabilities", False)
        for seg in segments:
            # The mean over the windows the speech came from, before padding.
            first = seg.speech_start // self._window - self._probs_first
            last = -(-seg.speech_end // self._window) - self._probs_first
            window_probs = self._probs[first:last]
            out = {
                "start": seg.start / self._rate,
                "end": seg.end / self._rate,
                "probability": math.fsum(window_probs) / len(window_probs) if window_probs else 0.0,
            }
            if self.config.get("include_audio", True):
                out["audio"] = Audio(self._samples.slice(seg.start, seg.end), self._rate)
            yield ToPort("out", out) if ports else out

    def _trim(self) -> None:
        keep = self._segmenter.earliest_needed()
        self._samples.trim(keep)
        drop = keep // self._window - self._probs_first
        if drop > 0:
            del self._probs[:drop]
            self._probs_first += drop

    def process(self, item: Any) -> Iterator[Any]:
        samples = self._check(item)
        if not samples.size:
            return
        self._samples.append(samples)
        x = convert_samples(samples, "float32") if samples.dtype != np.float32 else samples
        if self._tail.size:
            x = np.concatenate((self._tail, x))
        w = self._window
        full = x.size // w
        for k in range(full):
            prob = self._probability(x[k * w:(k + 1) * w])
            self._probs.append(prob)
            index = self._segmenter.index
            yield from self._window_done(prob, index, self._segmenter.push(prob))
        self._tail = x[full * w:].copy() if x.size % w else np.empty(0, dtype=np.float32)
        self._trim()

    def flush(self) -> Iterator[Any]:
        if self._rate is None:
            return
        index = self._segmenter.index
        if self._tail.size:
            # silero pads the last, incomplete window with zeros.
            window = np.zeros(self._window, dtype=np.float32)
            window[:self._tail.size] = self._tail
            last_prob = self._probability(window)
            self._probs.append(last_prob)
            yield from self._window_done(last_prob, index, self._segmenter.finish(self._samples.length, last_prob))
        else:
            yield from self._segments(self._segmenter.finish(self._samples.length))
        self._rate = None
