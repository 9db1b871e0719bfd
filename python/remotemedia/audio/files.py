"""Audio files (WAV, FLAC, Ogg Vorbis and whatever else libsndfile reads) as ``Audio`` values.

    info(path)                                   -> AudioFileInfo
    read(path, dtype="float32", layout="interleaved") -> Audio
    read_chunks(path, chunk_ms=20.0, ...)        -> iterator of Audio chunks
    write(path, audio, format=None, subtype=None)

These use the ``soundfile`` package (its bundled libsndfile); the native runtime's file nodes use the
system's libsndfile (src/nodes/audio_files.cpp) and follow the same rules, so both decode WAV and
FLAC to the same bits (docs/AUDIO.md, "Audio files"):

- A file is read in its subtype's natural sample type (int16 for 16-bit and narrower PCM and the
  ADPCM/law codecs, int32 for 24- and 32-bit PCM, float32 for FLOAT and the lossy codecs, float64
  for DOUBLE) and converted with ``convert_samples`` (docs/AUDIO.md), never by libsndfile, whose
  own scaling differs (it multiplies floats by 0x7FFF when writing 16-bit PCM).
- A file is written from the subtype's natural type the same way; libsndfile then narrows 8- and
  24-bit PCM by dropping low bits (as it does in both runtimes).
- Reading stops when libsndfile returns no more frames (a truncated file's header may promise more).

Failures to open, read or write a file raise ``AudioFileError`` (an ``OSError`` and a
``RemoteMediaError``) whose message names the path and gives the reason: the operating system's
("No such file or directory") or libsndfile's ("Format not recognised."). Invalid arguments
(dtype, layout, chunk_ms, format, subtype, a path whose extension names no format) raise
``ValueError``. Inside a pipeline the file nodes raise ``NodeValueError`` with the same message.
"""

from __future__ import annotations

import errno as _errno
import os
import stat as _stat
from typing import Any, Iterator, NamedTuple

import numpy as np
import soundfile
# soundfile's cffi handles: SoundFile.read/write tell() and seek() around every call (which would
# make an Ogg decoder resynchronise at every chunk, unlike the native node) and cut reads at the
# header's frame count; frames are read and written with the libsndfile calls themselves.
from soundfile import _ffi, _snd

from remotemedia.core.audio import LAYOUTS, SAMPLE_TYPES, Audio, convert_samples
from remotemedia.errors import RemoteMediaError

__all__ = ["AudioFileError", "AudioFileInfo", "WRITE_FORMATS", "info", "read", "read_chunks", "write"]


class AudioFileError(RemoteMediaError, OSError):
    """An audio file could not be opened, read or written; ``path`` is the file."""

    path: str | None = None

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message, path=path)


class AudioFileInfo(NamedTuple):
    sample_rate: int
    channels: int
    frames: int
    duration: float  # seconds
    format: str  # lower case: "wav", "flac", "ogg", ...
    subtype: str  # libsndfile's name: "PCM_16", "FLOAT", "VORBIS", ...


# The formats a file may be written in: name -> (default subtype, the subtypes allowed). The
# native sink's table (writable_formats in src/nodes/audio_files.cpp) is the same.
WRITE_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wav": ("PCM_16", ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW")),
    "flac": ("PCM_16", ("PCM_S8", "PCM_16", "PCM_24")),
    "ogg": ("VORBIS", ("VORBIS", "OPUS")),
}

# The sample type each subtype's codec holds without loss (src/nodes/audio_files.cpp, subtypes());
# any other subtype is read as float32, a lossy decoder's output.
_NATURAL = {
    **dict.fromkeys(("PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM", "GSM610",
                     "VOX_ADPCM", "NMS_ADPCM_16", "NMS_ADPCM_24", "NMS_ADPCM_32", "G721_32", "G723_24",
                     "G723_40", "DWVW_12", "DWVW_16", "DPCM_8", "DPCM_16", "ALAC_16"), "int16"),
    **dict.fromkeys(("PCM_24", "PCM_32", "DWVW_24", "ALAC_20", "ALAC_24", "ALAC_32"), "int32"),
    "FLOAT": "float32",
    "DOUBLE": "float64",
}

_CTYPE = {"int16": "short", "int32": "int", "float32": "float", "float64": "double"}
_READF = {"int16": _snd.sf_readf_short, "int32": _snd.sf_readf_int,
          "float32": _snd.sf_readf_float, "float64": _snd.sf_readf_double}
_WRITEF = {"int16": _snd.sf_writef_short, "int32": _snd.sf_writef_int,
           "float32": _snd.sf_writef_float, "float64": _snd.sf_writef_double}
# Frames per libsndfile call: reads of a larger chunk go in blocks (a huge chunk_ms does not allocate
# a huge buffer for a short file), and so do writes (see _Writer.write); the native nodes use the
# same blocks (kBlockFrames).
_BLOCK_FRAMES = 1 << 16


# ---------------------------------------------------------------------------------- messages


def _read_error(path: str, why: str) -> str:
    return f"cannot read audio file '{path}': {why}"


def _write_error(path: str, why: str) -> str:
    return f"cannot write audio file '{path}': {why}"


def _sf_message(code: int) -> str:
    return _ffi.string(_snd.sf_error_number(code)).decode("utf-8", "replace")


def _file_message(handle: Any) -> str:
    """libsndfile's message for the last error on an open file, or "" when there is none."""
    if _snd.sf_error(handle) == 0:
        return ""
    return _ffi.string(_snd.sf_strerror(handle)).decode("utf-8", "replace")


def _read_failure(path: str, code: int) -> str:
    # The operating system's reason when there is one (libsndfile only says "System error."); the
    # native node asks the same questions in the same order (read_failure).
    try:
        st = os.stat(path)
    except OSError as exc:
        return os.strerror(exc.errno)
    if _stat.S_ISDIR(st.st_mode):
        return os.strerror(_errno.EISDIR)
    if not os.access(path, os.R_OK):
        return os.strerror(_errno.EACCES)
    return _sf_message(code)


def _write_failure(path: str, code: int) -> str:
    if os.path.isdir(path):
        return os.strerror(_errno.EISDIR)
    slash = path.rfind("/")
    directory = "." if slash < 0 else "/" if slash == 0 else path[:slash]
    try:
        st = os.stat(directory)
    except OSError as exc:
        return os.strerror(exc.errno)
    if not _stat.S_ISDIR(st.st_mode):
        return os.strerror(_errno.ENOTDIR)
    if not os.access(directory, os.W_OK):
        return os.strerror(_errno.EACCES)
    return _sf_message(code)


def _path(path: Any) -> str:
    p = os.fspath(path)
    if not isinstance(p, str):
        raise TypeError(f"an audio file path must be a str or os.PathLike, not {type(path).__name__}")
    return p


def _check_dtype_layout(dtype: Any, layout: str) -> str:
    name = np.dtype(dtype).name
    if name not in SAMPLE_TYPES:
        raise ValueError(f"dtype must be one of {', '.join(SAMPLE_TYPES)}, not {name}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'interleaved' or 'planar', not {layout!r}")
    return name


def chunk_frames(chunk_ms: float, sample_rate: int) -> int:
    """Frames per chunk: round(chunk_ms * sample_rate / 1000) (half to even), at least 1."""
    frames = round(float(chunk_ms) * float(sample_rate) / 1000.0)
    return max(1, min(frames, 9 * 10**15))


# ---------------------------------------------------------------------------------- reading


def _open_read(path: str) -> soundfile.SoundFile:
    try:
        return soundfile.SoundFile(path)
    except soundfile.LibsndfileError as exc:
        raise AudioFileError(_read_error(path, _read_failure(path, exc.code)), path=path) from None


def info(path: str | os.PathLike) -> AudioFileInfo:
    """Sample rate, channels, frames (as the header says), duration, format and subtype of a file."""
    p = _path(path)
    with _open_read(p) as f:
        return AudioFileInfo(f.samplerate, f.channels, f.frames, f.frames / f.samplerate,
                             f.format.lower(), f.subtype)


class _ChunkReader:
    """An open file yielding chunks of ``frames_per_chunk`` (the last one shorter); closed at the
    end, on an error, or by ``close()`` (a cancelled run)."""

    def __init__(self, path: str, chunk_ms: float | None, dtype: str, layout: str) -> None:
        self.path = path
        self.dtype = dtype
        self.layout = layout
        self._file: soundfile.SoundFile | None = _open_read(path)
        self.sample_rate = self._file.samplerate
        self.channels = self._file.channels
        self.natural = _NATURAL.get(self._file.subtype, "float32")
        self.frames_per_chunk = None if chunk_ms is None else chunk_frames(chunk_ms, self.sample_rate)

    def close(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.close()

    def __enter__(self) -> "_ChunkReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _read_block(self, frames: int) -> np.ndarray:
        f = self._file
        shape = (frames,) if self.channels == 1 else (frames, self.channels)
        buf = np.empty(shape, self.natural)
        ptr = _ffi.cast(_CTYPE[self.natural] + "*", buf.ctypes.data)
        got = _READF[self.natural](f._file, ptr, frames)
        problem = _file_message(f._file)
        if problem:
            raise AudioFileError(_read_error(self.path, problem), path=self.path)
        return buf if got == frames else buf[:got]

    def _chunk(self, frames: int | None) -> tuple[np.ndarray, bool]:
        """Up to ``frames`` frames (all the rest when None) and whether the file ended."""
        blocks = []
        have = 0
        at_end = False
        while frames is None or have < frames:
            want = _BLOCK_FRAMES if frames is None else min(frames - have, _BLOCK_FRAMES)
            block = self._read_block(want)
            blocks.append(block)
            have += len(block)
            if len(block) < want:
                at_end = True
                break
        samples = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        return samples, at_end

    def _audio(self, samples: np.ndarray) -> Audio:
        samples = convert_samples(samples, self.dtype)
        if self.layout == "planar" and samples.ndim == 2:
            samples = np.ascontiguousarray(samples.T)
        return Audio._from_native(samples, self.sample_rate, self.layout if samples.ndim == 2 else "interleaved")

    def __iter__(self) -> Iterator[Audio]:
        try:
            at_end = False
            while not at_end:
                samples, at_end = self._chunk(self.frames_per_chunk)
                if len(samples) == 0:
                    break
                yield self._audio(samples)
        finally:
            self.close()

    def read_all(self) -> Audio:
        try:
            samples, _ = self._chunk(None)
            return self._audio(samples)
        finally:
            self.close()


def read(path: str | os.PathLike, dtype: Any = "float32", layout: str = "interleaved") -> Audio:
    """The whole file as one ``Audio`` (mono files give 1-D samples)."""
    name = _check_dtype_layout(dtype, layout)
    return _ChunkReader(_path(path), None, name, layout).read_all()


def read_chunks(path: str | os.PathLike, chunk_ms: float = 20.0, dtype: Any = "float32",
                layout: str = "interleaved") -> Iterator[Audio]:
    """The file as ``Audio`` chunks of round(chunk_ms * rate / 1000) frames, the last one shorter.
    The file is opened (and a bad file raises) at the call; it closes when the iterator ends or is
    closed."""
    name = _check_dtype_layout(dtype, layout)
    if (isinstance(chunk_ms, bool) or not isinstance(chunk_ms, (int, float, np.integer, np.floating))
            or not 0 < chunk_ms < float("inf")):
        raise ValueError(f"chunk_ms must be a finite number greater than 0, not {chunk_ms!r}")
    return iter(_ChunkReader(_path(path), chunk_ms, name, layout))


# ---------------------------------------------------------------------------------- writing


class _SpecProblem(Exception):
    def __init__(self, suffix: str, message: str) -> None:
        super().__init__(message)
        self.suffix = suffix
        self.message = message


def _extension(path: str) -> str:
    slash, dot = path.rfind("/"), path.rfind(".")
    return "" if dot < 0 or dot < slash else path[dot + 1:].lower()


def _describe(value: Any) -> str:
    return f"'{value}'" if type(value) is str else type(value).__name__


def resolve_write_format(path: str, format: Any = None, subtype: Any = None) -> tuple[str, str]:
    """(format, subtype) a file at ``path`` is written in: ``format`` (case-insensitive) or the
    path's extension, and ``subtype`` or the format's default. Raises ``_SpecProblem`` (the sink's
    parameter errors, worded as the native node's write_spec)."""
    names = list(WRITE_FORMATS)
    if format is not None:
        fmt = format.lower() if type(format) is str else None
        if fmt not in WRITE_FORMATS:
            raise _SpecProblem(".format", f"parameter 'format' must be null or one of {', '.join(names)}; "
                                          f"got {_describe(format)}")
    else:
        fmt = _extension(path)
        if fmt not in WRITE_FORMATS:
            where = " (no extension)" if not fmt else f" (extension .{fmt})"
            raise _SpecProblem(".path", f"cannot tell the file format from the path '{path}'{where}; use a "
                                        f".{', .'.join(names[:-1])} or .{names[-1]} path or give format: "
                                        f"{', '.join(names[:-1])} or {names[-1]}")
    default, valid = WRITE_FORMATS[fmt]
    if subtype is None:
        return fmt, default
    sub = subtype.upper() if type(subtype) is str else None
    if sub not in valid:
        raise _SpecProblem(".subtype", f"parameter 'subtype' must be null or one of {', '.join(valid)} for {fmt}; "
                                       f"got {_describe(subtype)}")
    return fmt, sub


class _Writer:
    """An open file being written: rate and channels fixed at open; ``write`` takes any sample type
    and layout; ``close`` finishes the header and returns the frames written."""

    def __init__(self, path: str, sample_rate: int, channels: int, format: str, subtype: str) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.natural = _NATURAL.get(subtype, "float32")
        self.frames = 0
        try:
            self._file: soundfile.SoundFile | None = soundfile.SoundFile(
                path, "w", samplerate=sample_rate, channels=channels, format=format.upper(), subtype=subtype)
        except soundfile.LibsndfileError as exc:
            raise AudioFileError(_write_error(path, _write_failure(path, exc.code)), path=path) from None

    def write(self, audio: Audio) -> None:
        if audio.frames == 0:
            return
        samples = np.ascontiguousarray(convert_samples(audio.interleaved(), self.natural))
        f = self._file
        if f is None:
            raise AudioFileError(_write_error(self.path, "the file is closed"), path=self.path)
        # In blocks: libsndfile's Vorbis encoder crashes on one very large write (a few million
        # frames); the native sink writes the same blocks.
        write_frames = _WRITEF[self.natural]
        frame_bytes = samples.itemsize * self.channels
        base = samples.ctypes.data
        for start in range(0, audio.frames, _BLOCK_FRAMES):
            count = min(_BLOCK_FRAMES, audio.frames - start)
            ptr = _ffi.cast(_CTYPE[self.natural] + "*", base + start * frame_bytes)
            if write_frames(f._file, ptr, count) != count:
                problem = _file_message(f._file)
                raise AudioFileError(_write_error(self.path, problem or "short write"), path=self.path)
            self.frames += count

    def close(self) -> int:
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except soundfile.LibsndfileError as exc:
                raise AudioFileError(_write_error(self.path, _sf_message(exc.code)), path=self.path) from None
        return self.frames


def write(path: str | os.PathLike, audio: Audio, format: str | None = None, subtype: str | None = None) -> None:
    """Writes ``audio`` to a file (replacing it): ``format`` wav, flac or ogg (None: from the
    extension), ``subtype`` e.g. PCM_16, PCM_24, FLOAT, VORBIS (None: PCM_16 for wav and flac,
    VORBIS for ogg). Any sample type and layout; samples are converted to the subtype's natural type
    by the rules of docs/AUDIO.md."""
    if not isinstance(audio, Audio):
        raise TypeError(f"write expects an Audio, got {type(audio).__name__}")
    p = _path(path)
    try:
        fmt, sub = resolve_write_format(p, format, subtype)
    except _SpecProblem as problem:
        raise ValueError(problem.message.replace("parameter ", "", 1)) from None
    writer = _Writer(p, audio.sample_rate, audio.channels, fmt, sub)
    try:
        writer.write(audio)
    finally:
        writer.close()
