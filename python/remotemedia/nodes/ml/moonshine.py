"""Moonshine speech recognition through the C library that the moonshine-cpp wheel ships.

The wheel (moonshine-cpp 0.1.4, MIT) carries ``libmoonshine.so``, its own ONNX Runtime
(``libonnxruntime.so.1.22.1``) and the Moonshine base-en model (``models/base-en``: encoder and
decoder as ORT-format files, the tokenizer), so nothing is downloaded. Its Python module is not
used: 0.1.4's ``transcribe()`` is broken (``ctypes.c_float_p`` does not exist) and importing it
loads the libraries as a side effect; this module finds the package's directory without importing
it and calls the library's five C functions through ctypes (``moonshine_load_model``,
``moonshine_transcribe``, ``moonshine_transcribe_wav``, ``moonshine_free_text``,
``moonshine_free_model``; the wheel has no header, the signatures are those its Python module
declares).

What the library does not guard against, and how this module keeps it safe:

- An ONNX Runtime exception inside ``moonshine_transcribe`` is not caught: it reaches
  ``std::terminate`` and aborts the process. The one input known to cause one is a clip shorter
  than the encoder's three convolutions accept (fewer than 895 samples: kernel 127 stride 64,
  kernel 7 stride 3, kernel 3 stride 2), so shorter clips are padded with silence to that length.
  Every piece is padded anyway (next point), so this is a second guard.
  Non-finite samples do not throw but make the decoder emit ``<unk>`` until its length limit:
  NaN becomes 0 and samples are clipped to [-1, 1], as docs/AUDIO.md's float -> int rule does.
- The decoder is erratic at a clip's edges: on the sample, a sentence cut close at its end (as
  EnergyVAD cuts it) came out twice ("Please call me back in the morning. Please call me back in
  the morning.") and two sentences with 0.3 s of silence before and 0.75 s after came out empty.
  So the model is shown every piece with the same margins, whatever the VAD left around the
  speech: the quiet 10 ms frames at either end (``TRIM_DB`` below the loudest frame of the piece)
  are dropped, then ``LEAD_SECONDS`` of silence go before and ``TRAIL_SECONDS`` after. Measured on
  the sample's three sentences cut six ways (EnergyVAD, SileroVAD, the exact intervals widened by
  0, 50, 100, 200 ms) and on the five pieces of the sample three times over: 24 of 25 words right
  on every cut (17 to 23 with the clips as they came) and no empty piece, for trims at 50 and
  60 dB with margins from 0.05/0.2 s to 0.2/0.4 s. A piece that is all zeros is not sent at all.
- The model is trained on short utterances: on this project's sample a clip of up to 10 s that
  begins in silence is transcribed whole, but 20 s gave an empty text and 61 s too, and 30 s took
  19 s. A longer clip is cut into pieces of at most ``MAX_PIECE_SECONDS`` at the quietest 50 ms
  of the second half of each piece, and the texts are joined with a space.
- The library keeps its models in one global ``std::vector`` that ``moonshine_load_model`` grows
  and every call indexes without a lock, so one process-wide lock serialises every call into it.
  (ctypes releases the GIL during each call: other Python threads go on meanwhile.) A call runs
  on the calling thread alone (no ONNX Runtime thread pool was seen: one core busy, no new
  threads), so the lock costs parallelism only when several Moonshine nodes transcribe at once.
- ``libmoonshine.so`` needs ``libonnxruntime.so.1`` and has no RUNPATH: the wheel's copy is loaded
  first, by its path, so that the dynamic loader binds that name to it. The onnxruntime Python
  package (SileroVADNode) links its runtime statically into its extension module and does not
  export it, so the two copies live side by side; but if a process had already loaded another
  ``libonnxruntime.so.1`` by itself (the onnxruntime package's C library, for instance), loading
  fails with an ``OSError`` about ``VERS_1.22.1``, not a crash.
"""

from __future__ import annotations

import ctypes
import importlib.util
import threading
from pathlib import Path

import numpy as np

__all__ = ["MoonshineModel", "moonshine_package_dir", "MAX_PIECE_SECONDS", "MIN_SAMPLES", "LEAD_SECONDS",
           "TRAIL_SECONDS", "TRIM_DB"]

RATE = 16000  # the model's only rate
MIN_SAMPLES = 895  # shortest clip the encoder's convolutions accept (see above)
MAX_PIECE_SECONDS = 10.0
LEAD_SECONDS = 0.1  # silence put before each piece's speech (see above)
TRAIL_SECONDS = 0.3  # and after it
TRIM_DB = 50.0  # frames this far below a piece's loudest 10 ms are trimmed from its ends
_TRIM_FRAME = 160  # 10 ms
_CUT_FRAME = 800  # 50 ms: the unit in which the quietest place to cut a long clip is sought
_MODEL_TYPE_BASE = 1  # moonshine_load_model's model type: 0 tiny, 1 base

_lock = threading.Lock()  # every call into the library (see the module docstring)
_library: ctypes.CDLL | None = None


def moonshine_package_dir() -> Path:
    """The installed moonshine_cpp package's directory, found without importing it."""
    import importlib.metadata  # here: importing the nodes must stay cheap

    spec = importlib.util.find_spec("moonshine_cpp")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "libmoonshine.so").is_file():
            return Path(location)
    try:
        for f in importlib.metadata.files("moonshine-cpp") or ():
            if f.name == "libmoonshine.so":
                return Path(f.locate()).parent
    except importlib.metadata.PackageNotFoundError:
        pass
    raise ImportError(
        "SpeechToTextNode with engine='moonshine' needs the moonshine-cpp package "
        "(pip install 'remotemedia[ml]'), which ships libmoonshine.so and the base-en model"
    )


def _load_library() -> ctypes.CDLL:
    global _library
    with _lock:
        if _library is not None:
            return _library
        root = moonshine_package_dir()
        runtimes = sorted(root.glob("libonnxruntime.so.*"))
        if not runtimes:
            raise ImportError(f"moonshine-cpp at {root} has no libonnxruntime.so.*")
        ctypes.CDLL(str(runtimes[-1]))  # binds libmoonshine's NEEDED libonnxruntime.so.1 to this copy
        lib = ctypes.CDLL(str(root / "libmoonshine.so"))
        lib.moonshine_load_model.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int32)
        lib.moonshine_load_model.restype = ctypes.c_int
        lib.moonshine_transcribe.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_void_p))
        lib.moonshine_transcribe.restype = ctypes.c_int
        lib.moonshine_free_text.argtypes = (ctypes.c_void_p,)
        lib.moonshine_free_text.restype = None
        lib.moonshine_free_model.argtypes = (ctypes.c_int,)
        lib.moonshine_free_model.restype = None
        _library = lib
        return lib


def _cut_points(samples: np.ndarray, max_samples: int) -> list[int]:
    """Where to cut a clip longer than ``max_samples``: each cut at the start of the quietest 50 ms
    frame in the second half of the piece it ends (the first such frame on a tie)."""
    cuts, start = [], 0
    while samples.size - start > max_samples:
        lo, hi = start + max_samples // 2, start + max_samples
        frames = (hi - lo) // _CUT_FRAME
        window = samples[lo:lo + frames * _CUT_FRAME].astype(np.float64).reshape(frames, _CUT_FRAME)
        start = lo + int(np.argmin(np.einsum("ij,ij->i", window, window))) * _CUT_FRAME
        cuts.append(start)
    return cuts


class MoonshineModel:
    """One loaded Moonshine base-en model (the wheel's, or ``model_dir`` holding
    encoder_model.ort, decoder_model_merged.ort and tokenizer.bin). Not shared between nodes: each
    SpeechToTextNode builds its own. ``transcribe`` may be called from any thread."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        self._lib = _load_library()
        root = Path(model_dir) if model_dir else moonshine_package_dir() / "models" / "base-en"
        files = [root / "encoder_model.ort", root / "decoder_model_merged.ort", root / "tokenizer.bin"]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"Moonshine model files not found: {', '.join(missing)}")
        with _lock:
            handle = self._lib.moonshine_load_model(*(str(f).encode() for f in files), _MODEL_TYPE_BASE)
        if handle < 0:
            raise RuntimeError(f"moonshine could not load the model in {root}")
        self._handle: int | None = handle

    def transcribe(self, samples: np.ndarray) -> str:
        """The text of mono 16 kHz float samples (any float or int dtype is converted as
        docs/AUDIO.md says; int16 by 1/32768)."""
        if self._handle is None:
            raise RuntimeError("the Moonshine model was closed")
        return " ".join(t for t in (self._transcribe_piece(p) for p in self._pieces(_as_float32(samples))) if t)

    def _pieces(self, x: np.ndarray) -> list[np.ndarray]:
        return np.split(x, _cut_points(x, int(MAX_PIECE_SECONDS * RATE)))

    def _transcribe_piece(self, x: np.ndarray) -> str:
        x = _trim(x)
        if not x.any():
            return ""
        lead, trail = int(LEAD_SECONDS * RATE), int(TRAIL_SECONDS * RATE)
        trail = max(trail, MIN_SAMPLES - lead - x.size)
        x = np.concatenate([np.zeros(lead, np.float32), x, np.zeros(trail, np.float32)])
        text = ctypes.c_void_p()
        with _lock:
            if self._handle is None:
                raise RuntimeError("the Moonshine model was closed")
            status = self._lib.moonshine_transcribe(
                self._handle, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), x.size, ctypes.byref(text))
            try:
                value = ctypes.string_at(text.value) if text.value else b""
            finally:
                if text.value:
                    self._lib.moonshine_free_text(text)
        if status != 0:
            raise RuntimeError(f"moonshine_transcribe failed with status {status}")
        return value.decode("utf-8", errors="replace").strip()

    def close(self) -> None:
        """Free the model (idempotent)."""
        with _lock:
            if self._handle is not None:
                self._lib.moonshine_free_model(self._handle)
                self._handle = None

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            self.close()


def _trim(x: np.ndarray) -> np.ndarray:
    """``x`` without the 10 ms frames at its ends that are ``TRIM_DB`` quieter than its loudest
    (a partial last frame counts as a frame)."""
    n = -(-x.size // _TRIM_FRAME)
    if n == 0:
        return x
    frames = np.zeros(n * _TRIM_FRAME, np.float64)
    frames[:x.size] = x
    energy = np.einsum("ij,ij->i", frames.reshape(n, _TRIM_FRAME), frames.reshape(n, _TRIM_FRAME))
    loud = np.flatnonzero(energy >= energy.max() * 10.0 ** (-TRIM_DB / 10))  # energy: 10, not 20
    return x[loud[0] * _TRIM_FRAME:(loud[-1] + 1) * _TRIM_FRAME]


def _as_float32(samples: np.ndarray) -> np.ndarray:
    """Samples as float32 in [-1, 1]: integers scaled by 1 / FULL_SCALE (docs/AUDIO.md), floats
    with NaN as 0 and clipped."""
    from remotemedia.core.audio import convert_samples

    x = np.asarray(samples).reshape(-1)
    if x.dtype != np.float32:
        x = convert_samples(x, "float32")
    if not np.isfinite(x).all() or np.abs(x).max(initial=0.0) > 1.0:
        x = np.clip(np.nan_to_num(x, nan=0.0), -1.0, 1.0)
    return x
