"""Audio file nodes: AudioFileSourceNode reads the files its items name and emits their audio in
chunks; AudioFileSinkNode writes the audio it receives to one file. Native implementations live in
src/nodes/audio_files.cpp (the system's libsndfile); these use remotemedia.audio.files (the
soundfile package). Both follow docs/AUDIO.md ("Audio files") and raise the same errors with the
same messages."""

from __future__ import annotations

from typing import Any, Iterator

from remotemedia.audio import files as _files
from remotemedia.core.audio import LAYOUTS, SAMPLE_TYPES, Audio
from remotemedia.core.node import Node
from remotemedia.core.params import ParamSpec
from remotemedia.core.registry import register_node_type
from remotemedia.errors import NodeTypeError, NodeValueError
from remotemedia.nodes._audio_stream import StreamFormat, expect_audio, type_name

__all__ = ["AudioFileSourceNode", "AudioFileSinkNode"]


@register_node_type(aliases=("AudioFileSource",))
class AudioFileSourceNode(Node):
    """Reads the audio file each item names (WAV, FLAC, Ogg, ...) and emits its audio in chunks of chunk_ms."""

    PARAMS = (
        ParamSpec("chunk_ms", "number", default=20.0,
                  description="Milliseconds per chunk (> 0); frames = round(chunk_ms * rate / 1000), the last chunk shorter."),
        ParamSpec("dtype", "string", default="float32", choices=SAMPLE_TYPES, description="Sample type of the chunks."),
        ParamSpec("layout", "string", default="interleaved", choices=LAYOUTS,
                  description="Channel layout of the chunks (mono chunks are 1-D)."),
    )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        if not params.get("chunk_ms", 20.0) > 0:
            return ".chunk_ms", "parameter 'chunk_ms' must be greater than 0"
        return None

    def initialize(self) -> None:
        self._reader: _files._ChunkReader | None = None

    def process(self, item: Any) -> Iterator[Audio]:
        if not isinstance(item, str):
            raise NodeTypeError(f"expects a path string, got {type_name(item)}")
        config = self.config
        try:
            reader = _files._ChunkReader(item, config.get("chunk_ms", 20.0), config.get("dtype", "float32"),
                                         config.get("layout", "interleaved"))
        except _files.AudioFileError as exc:
            raise NodeValueError(exc.message) from None
        self._reader = reader
        try:
            yield from reader
        except _files.AudioFileError as exc:
            raise NodeValueError(exc.message) from None
        finally:
            reader.close()
            self._reader = None

    def cleanup(self) -> None:
        # A run that stopped inside a file (a failure downstream, a cancelled session) closes it.
        reader, self._reader = getattr(self, "_reader", None), None
        if reader is not None:
            reader.close()


@register_node_type(aliases=("AudioFileSink",))
class AudioFileSinkNode(Node):
    """Writes the audio items to one file (opened at the first item); at end of input closes it and emits a summary."""

    PARAMS = (
        ParamSpec("path", "string", required=True, description="The file to write (replaced if it exists)."),
        ParamSpec("format", "any", description="wav, flac or ogg; null: from the path's extension."),
        ParamSpec("subtype", "any",
                  description="The encoding (PCM_16, PCM_24, FLOAT, VORBIS, ...); null: PCM_16 for wav and flac, VORBIS for ogg."),
    )

    @classmethod
    def check_config(cls, params: dict) -> tuple[str, str] | None:
        try:
            _files.resolve_write_format(params["path"], params.get("format"), params.get("subtype"))
        except _files._SpecProblem as problem:
            return problem.suffix, problem.message
        return None

    def __init__(self, name: str | None = None, **config: Any) -> None:
        super().__init__(name, **config)
        self._format, self._subtype = _files.resolve_write_format(
            self.config["path"], self.config.get("format"), self.config.get("subtype"))

    def initialize(self) -> None:
        self._writer: _files._Writer | None = None
        self._stream = StreamFormat()  # the file's rate and channel count; any sample type and layout

    def process(self, item: Any) -> None:
        item = expect_audio(item)
        if self._stream.check(item):
            try:
                self._writer = _files._Writer(self.config["path"], item.sample_rate, item.channels,
                                              self._format, self._subtype)
            except _files.AudioFileError as exc:
                raise NodeValueError(exc.message) from None
        writer = self._writer
        try:
            writer.write(item)
        except _files.AudioFileError as exc:
            raise NodeValueError(exc.message) from None
        return None

    def flush(self) -> dict | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        try:
            frames = writer.close()
        except _files.AudioFileError as exc:
            raise NodeValueError(exc.message) from None
        return {"path": writer.path, "frames": frames, "sample_rate": writer.sample_rate,
                "channels": writer.channels, "duration": frames / writer.sample_rate}

    def cleanup(self) -> None:
        # After a failure or a cancel the file is closed as it is (a valid file with what was written).
        writer, self._writer = getattr(self, "_writer", None), None
        if writer is not None:
            try:
                writer.close()
            except _files.AudioFileError:
                pass
