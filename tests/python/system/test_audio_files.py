"""Audio files: the remotemedia.audio helpers (soundfile) and the AudioFileSource / AudioFileSink
nodes on both executors (native: the system's libsndfile; Python: soundfile's bundled one).

WAV and FLAC decode to the same bits on both; Ogg Vorbis goes through two builds of libvorbis, so
it is compared within OGG_TOLERANCE (docs/AUDIO.md; measured: identical)."""

from __future__ import annotations

import json
import os
import zlib

import numpy as np
import pytest

pytest.importorskip("remotemedia._runtime")

from remotemedia import Audio, Pipeline, errors  # noqa: E402
from remotemedia.audio import AudioFileError, AudioFileInfo, info, read, read_chunks, write  # noqa: E402
from remotemedia.core.audio import convert_samples  # noqa: E402
from remotemedia.nodes import AudioFileSinkNode, AudioFileSourceNode, PassThroughNode  # noqa: E402

from audio_signals import DTYPES, RUNTIMES  # noqa: E402

# The largest difference allowed between the two runtimes' Ogg Vorbis decodes (docs/AUDIO.md).
OGG_TOLERANCE = 1e-5
# (file name, subtype): the files the differential tests write.
FORMATS = [("a.wav", "PCM_16"), ("b.wav", "PCM_24"), ("c.wav", "FLOAT"), ("d.wav", "PCM_32"), ("e.wav", "DOUBLE"),
           ("f.wav", "PCM_U8"), ("g.flac", "PCM_16"), ("h.flac", "PCM_24"), ("i.ogg", "VORBIS")]


def signal(frames: int, channels: int, seed: int, rate: int = 16000) -> np.ndarray:
    """A float32 test signal: a tone plus noise, with full-scale peaks (and beyond, to clip)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / rate
    x = 0.4 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t)[:, None] + 0.2 * rng.standard_normal((frames, channels))
    if frames > 2:
        x[0, 0], x[1, 0] = 1.0, -1.2
    x = x.astype(np.float32)
    return x[:, 0].copy() if channels == 1 else x


def snr_db(decoded: np.ndarray, original: np.ndarray) -> float:
    err = decoded.astype(np.float64) - original
    return 10 * np.log10(np.sum(original.astype(np.float64) ** 2) / np.sum(err**2))


def run_both(pipeline: Pipeline, items: list):
    """(python outcome, native outcome); an outcome is ("ok", outputs) or ("error", exception)."""
    results = []
    for runtime in RUNTIMES:
        try:
            results.append(("ok", pipeline.run_sync(items, runtime=runtime)))
        except Exception as exc:  # noqa: BLE001 - compared by the callers
            results.append(("error", exc))
    return results


def same_error(pipeline: Pipeline, items: list, cls: type) -> errors.NodeError:
    (pk, pv), (nk, nv) = run_both(pipeline, items)
    assert pk == nk == "error", (pv, nv)
    assert type(pv) is type(nv) is cls, (pv, nv)
    assert (pv.node_id, pv.node_type, pv.item_index) == (nv.node_id, nv.node_type, nv.item_index)
    assert str(pv) == str(nv)
    return pv


def source(**params) -> Pipeline:
    return Pipeline([AudioFileSourceNode("src", **params)])


def joined(chunks: list[Audio]) -> np.ndarray:
    return np.concatenate([c.interleaved() for c in chunks]) if chunks else np.zeros((0,))


# ------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize("name,subtype", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_write_then_read_round_trips_and_info_describes_the_file(tmp_path, name, subtype, channels):
    path = str(tmp_path / name)
    x = signal(3001, channels, seed=1)
    write(path, Audio(x, 16000), subtype=subtype)
    i = info(path)
    assert isinstance(i, AudioFileInfo)
    assert (i.sample_rate, i.channels, i.frames, i.format, i.subtype) == (
        16000, channels, 3001, name.rsplit(".", 1)[1], subtype)
    assert i.duration == 3001 / 16000
    back = read(path, dtype="float32")
    assert back.samples.shape == x.shape and back.sample_rate == 16000
    if subtype == "VORBIS":
        assert snr_db(back.samples, x) > 6  # lossy, at 16 kHz on a noisy signal
    elif subtype in ("FLOAT", "DOUBLE"):
        assert np.array_equal(back.samples, x)  # floats are stored as they are, beyond full scale too
    else:
        # Integer subtypes hold the shared rounding of the float samples (docs/AUDIO.md) to int16 or
        # int32; libsndfile narrows those to 8 or 24 bits by dropping low bits (rounding down).
        natural, dropped = {"PCM_16": ("int16", 0), "PCM_U8": ("int16", 8),
                            "PCM_24": ("int32", 8), "PCM_32": ("int32", 0)}[subtype]
        expected = (convert_samples(x, natural) >> dropped) << dropped
        assert np.array_equal(read(path, dtype=natural).samples, expected)


def test_read_converts_by_the_shared_rules(tmp_path):
    path = str(tmp_path / "x.wav")
    x = np.random.default_rng(2).integers(-32768, 32768, (500, 2)).astype(np.int16)
    write(path, Audio(x, 8000))
    for dtype in DTYPES:
        got = read(path, dtype=dtype)
        assert got.dtype == dtype and np.array_equal(got.samples, convert_samples(x, dtype))
    planar = read(path, dtype="int16", layout="planar")
    assert planar.layout == "planar" and np.array_equal(planar.samples, x.T)
    assert planar.samples.flags.c_contiguous


def test_float_samples_written_to_pcm16_round_half_to_even_and_clip(tmp_path):
    # libsndfile alone multiplies by 32767 and would give other integers.
    k = 1 / 32768
    x = np.array([0.5 * k, 1.5 * k, 2.5 * k, -1.5 * k, 1.5, -2.0, np.nan, 0.25, 32767 * k], np.float64)
    for name in ("x.wav", "x.flac"):
        write(str(tmp_path / name), Audio(x, 8000))
        assert read(str(tmp_path / name), dtype="int16").samples.tolist() == [0, 2, 2, -2, 32767, -32768, 0, 8192, 32767]


@pytest.mark.parametrize("chunk_ms,rate,sizes", [
    (20.0, 8000, [160] * 6 + [40]),
    (2.5, 1000, [2] * 500),        # 2.5 frames rounds half to even: 2
    (3.5, 1000, [4] * 250),        # 3.5 -> 4
    (0.01, 1000, [1] * 1000),      # never fewer than one frame
    (1e9, 1000, [1000]),           # longer than the file
])
def test_read_chunks_sizes(tmp_path, chunk_ms, rate, sizes):
    path = str(tmp_path / "x.wav")
    frames = sum(sizes)
    write(path, Audio(signal(frames, 1, seed=3, rate=rate), rate))
    chunks = list(read_chunks(path, chunk_ms=chunk_ms, dtype="int16"))
    assert [c.frames for c in chunks] == sizes
    assert np.array_equal(joined(chunks)[:, 0], read(path, dtype="int16").samples)


def test_read_chunks_opens_at_the_call_and_closes_when_closed(tmp_path):
    path = str(tmp_path / "x.wav")
    write(path, Audio(signal(1000, 2, seed=4), 8000))
    with pytest.raises(AudioFileError):
        read_chunks(str(tmp_path / "missing.wav"))  # raises at the call, not at the first next()
    it = read_chunks(path, 10.0)
    next(it)
    assert open_fds_to(path) == 1
    it.close()
    assert open_fds_to(path) == 0


def open_fds_to(path: str) -> int:
    real = os.path.realpath(path)
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}") == real
        except OSError:
            pass
    return n


def corrupt_files(tmp_path) -> dict[str, str | None]:
    """Paths of unreadable files -> the reason both runtimes give (None: libsndfile's own words)."""
    good = tmp_path / "good.wav"
    write(str(good), Audio(signal(100, 1, seed=5), 8000))
    (tmp_path / "header.wav").write_bytes(good.read_bytes()[:30])
    (tmp_path / "noise.wav").write_bytes(np.random.default_rng(6).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "empty.flac").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio\n")
    return {
        str(tmp_path / "missing.wav"): "No such file or directory",
        str(tmp_path / "noise.wav"): "Format not recognised.",
        str(tmp_path / "notes.txt"): "Format not recognised.",
        str(tmp_path / "header.wav"): "Error in WAV file. No 'data' chunk marker.",
        str(tmp_path / "empty.flac"): None,
        str(tmp_path): "Is a directory",
    }


def test_helper_errors_name_the_path_and_the_reason(tmp_path):
    for path, reason in corrupt_files(tmp_path).items():
        for call in (read, info, read_chunks):
            with pytest.raises(AudioFileError) as exc_info:
                call(path)
            exc = exc_info.value
            assert isinstance(exc, OSError) and isinstance(exc, errors.RemoteMediaError)
            assert exc.path == path
            assert str(exc).startswith(f"cannot read audio file '{path}': ")
            if reason is not None:
                assert str(exc) == f"cannot read audio file '{path}': {reason}"
    with pytest.raises(AudioFileError, match="cannot write audio file '.*/no/dir/x.wav': No such file or directory"):
        write(str(tmp_path / "no" / "dir" / "x.wav"), Audio(np.zeros(4, np.int16), 8000))


def test_helper_argument_errors_are_value_errors(tmp_path):
    a = Audio(np.zeros(4, np.int16), 8000)
    with pytest.raises(ValueError, match=r"cannot tell the file format from the path '.*x.txt' \(extension .txt\)"):
        write(str(tmp_path / "x.txt"), a)
    assert not (tmp_path / "x.txt").exists()
    with pytest.raises(ValueError, match="'subtype' must be null or one of VORBIS, OPUS for ogg; got 'PCM_16'"):
        write(str(tmp_path / "x.ogg"), a, subtype="PCM_16")
    with pytest.raises(ValueError, match="'format' must be null or one of wav, flac, ogg; got 'mp3'"):
        write(str(tmp_path / "x.wav"), a, format="mp3")
    write(str(tmp_path / "x.bin"), a, format="FLAC", subtype="pcm_24")  # case-insensitive names
    assert info(str(tmp_path / "x.bin"))[4:] == ("flac", "PCM_24")
    with pytest.raises(TypeError):
        write(str(tmp_path / "x.wav"), np.zeros(4))
    path = str(tmp_path / "y.wav")
    write(path, a)
    with pytest.raises(ValueError):
        read(path, dtype="int8")
    with pytest.raises(ValueError):
        read(path, layout="weird")
    for bad in (0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError):
            read_chunks(path, chunk_ms=bad)


# ------------------------------------------------------------------------------ source node, differential


@pytest.mark.parametrize("name,subtype", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_source_node_decodes_alike_on_both_runtimes(tmp_path, name, subtype, channels):
    path = str(tmp_path / name)
    write(path, Audio(signal(4000, channels, seed=7), 16000), subtype=subtype)
    rng = np.random.default_rng(zlib.crc32(f"{name}{channels}".encode()))
    for dtype in DTYPES:
        layout = ("interleaved", "planar")[int(rng.integers(2))]
        chunk_ms = float(rng.choice([2.5, 10.0, 20.0, 33.3, 1000.0]))
        pipeline = source(chunk_ms=chunk_ms, dtype=dtype, layout=layout)
        (pk, python), (nk, native) = run_both(pipeline, [path])
        assert pk == nk == "ok", (python, native)
        assert [c.frames for c in python] == [c.frames for c in native]
        frames = round(chunk_ms * 16000 / 1000)
        assert all(c.frames == frames for c in native[:-1]) and 0 < native[-1].frames <= frames
        assert sum(c.frames for c in native) == 4000
        for p, n in zip(python, native):
            assert (p.dtype, p.layout, p.samples.shape, p.sample_rate) == (n.dtype, n.layout, n.samples.shape, 16000)
            assert p.dtype == dtype and p.samples.ndim == (1 if channels == 1 else 2)
            if subtype == "VORBIS":
                # Within the tolerance, plus one step of an integer type (a difference may round apart).
                step = {"int16": 2.0**-15, "int32": 2.0**-31}.get(dtype, 0.0)
                diff = convert_samples(p.samples, "float64") - convert_samples(n.samples, "float64")
                assert np.max(np.abs(diff)) <= OGG_TOLERANCE + step
            else:
                assert p == n, (dtype, layout, chunk_ms)
        # The helper's chunks are the Python node's.
        assert list(read_chunks(path, chunk_ms, dtype, layout)) == python or subtype == "VORBIS"


def test_ogg_vorbis_decodes_within_the_documented_tolerance(tmp_path):
    """Ogg Vorbis written by each runtime and decoded by each: the largest difference between the
    native (Debian libsndfile 1.2.0, libvorbis 1.3.7) and the Python (soundfile's bundled
    libsndfile) decoders of the same file; measured 0 on every signal tried."""
    worst = 0.0
    for seed, (rate, channels) in enumerate([(8000, 1), (22050, 2), (44100, 1), (48000, 2)]):
        t = np.arange(rate + 123 * seed) / rate
        tones = [0.5 * np.sin(2 * np.pi * f * t) for f in (440.0, 1234.5)[:channels]]
        x = (tones[0] if channels == 1 else np.stack(tones, 1)).astype(np.float32)
        for writer in RUNTIMES:
            path = str(tmp_path / f"{writer}{seed}.ogg")
            Pipeline([AudioFileSinkNode("k", path=path)]).run_sync([Audio(x, rate)], runtime=writer)
            decoded = {rt: joined(source().run_sync([path], runtime=rt)) for rt in RUNTIMES}
            assert decoded["python"].shape == decoded["native"].shape == (len(x), channels)
            worst = max(worst, float(np.max(np.abs(decoded["python"].astype(np.float64) - decoded["native"]))))
            assert snr_db(decoded["native"], x.reshape(len(x), channels)) > 15  # lossy but faithful
    assert worst <= OGG_TOLERANCE


def test_several_paths_stream_file_after_file(tmp_path):
    paths = []
    for i, frames in enumerate([250, 0, 100]):
        paths.append(str(tmp_path / f"{i}.wav"))
        write(paths[-1], Audio(np.arange(frames, dtype=np.int16), 8000))
    (pk, python), (nk, native) = run_both(source(dtype="int16"), paths)
    assert pk == nk == "ok" and python == native
    assert [c.frames for c in native] == [160, 90, 100]  # chunks never span files; an empty file adds none


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_truncated_data_reads_what_is_there(tmp_path, runtime):
    path = tmp_path / "t.wav"
    x = np.arange(1000, dtype=np.int16)
    write(str(path), Audio(x, 8000))
    path.write_bytes(path.read_bytes()[:44 + 2 * 600])  # the header still says 1000 frames
    chunks = source(dtype="int16").run_sync([str(path)], runtime=runtime)
    assert np.array_equal(joined(chunks)[:, 0], x[:600])


def test_source_errors_match_on_both_runtimes(tmp_path):
    good = str(tmp_path / "ok.wav")
    write(good, Audio(np.zeros(100, np.int16), 8000))
    for path, reason in corrupt_files(tmp_path).items():
        exc = same_error(source(), [good, path], errors.NodeValueError)
        assert exc.item_index == 1 and exc.node_id == "src" and exc.node_type == "AudioFileSourceNode"
        assert f"cannot read audio file '{path}': " in str(exc)
        if reason is not None:
            assert exc.message == f"cannot read audio file '{path}': {reason}"
    for item, name in [(3, "int"), (None, "NoneType"), (b"x.wav", "bytes"), (Audio(np.zeros(3, np.int16), 8000), "audio"),
                       ([good], "list"), (np.zeros(2), "ndarray[float64]")]:
        exc = same_error(source(), [good, item], errors.NodeTypeError)
        assert exc.message == f"expects a path string, got {name}" and exc.item_index == 1


def test_source_params_are_checked_by_both_parsers():
    from remotemedia import _runtime

    for bad in (0, -2.5):
        with pytest.raises(errors.InvalidParameterError, match="'chunk_ms' must be greater than 0"):
            AudioFileSourceNode("s", chunk_ms=bad)
        manifest = json.dumps({"version": "v1", "nodes": [
            {"id": "s", "node_type": "AudioFileSource", "params": {"chunk_ms": bad}}]})
        for parse in (Pipeline.from_manifest, _runtime.validate):
            with pytest.raises(errors.InvalidParameterError) as exc_info:
                parse(manifest)
            assert exc_info.value.path == "$.nodes[0].params.chunk_ms"
    with pytest.raises(errors.InvalidParameterError, match="must be one of int16"):
        AudioFileSourceNode("s", dtype="int8")


# ------------------------------------------------------------------------------ sink node


def chunks_of(x: np.ndarray, rate: int, sizes: list[int], dtype: str, layout: str) -> list[Audio]:
    out, start = [], 0
    for n in sizes:
        part = Audio(np.ascontiguousarray(convert_samples(x[start:start + n], dtype)), rate).to_layout(layout)
        out.append(part)
        start += n
    return out


@pytest.mark.parametrize("name,subtype", FORMATS)
def test_files_written_by_either_runtime_read_back_alike_with_either(tmp_path, name, subtype):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = signal(2345, 2, seed=20)
    dtype = DTYPES[int(rng.integers(4))]
    layout = ("interleaved", "planar")[int(rng.integers(2))]
    items = chunks_of(x, 16000, [1000, 0, 345, 1000], dtype, layout)
    decoded = {}
    for writer in RUNTIMES:
        path = str(tmp_path / f"{writer}-{name}")
        out = Pipeline([AudioFileSinkNode("k", path=path, subtype=subtype)]).run_sync(items, runtime=writer)
        assert out == [{"path": path, "frames": 2345, "sample_rate": 16000, "channels": 2, "duration": 2345 / 16000}]
        assert info(path).subtype == subtype
        for reader in RUNTIMES:
            decoded[writer, reader] = joined(source(dtype="float64").run_sync([path], runtime=reader))
    reference = decoded["native", "native"]
    for key, samples in decoded.items():
        if subtype == "VORBIS":
            assert np.max(np.abs(samples - reference)) <= OGG_TOLERANCE, key
        else:
            assert np.array_equal(samples, reference), key
    if subtype in ("PCM_16", "FLOAT", "DOUBLE"):
        # What was written is the shared conversion of what was sent.
        natural = {"PCM_16": "int16", "FLOAT": "float32", "DOUBLE": "float64"}[subtype]
        sent = convert_samples(np.concatenate([convert_samples(a.interleaved(), natural) for a in items]), "float64")
        assert np.array_equal(reference, sent)


def test_sink_summary_and_no_items_no_file(tmp_path):
    path = str(tmp_path / "none.wav")
    (pk, python), (nk, native) = run_both(Pipeline([AudioFileSinkNode("k", path=path)]), [])
    assert python == native == [] and not os.path.exists(path)
    # An empty first item still opens the file (its rate and channels are known).
    empty = Audio(np.zeros((0, 2), np.float32), 8000)
    for runtime in RUNTIMES:
        out = Pipeline([AudioFileSinkNode("k", path=path)]).run_sync([empty], runtime=runtime)
        assert out == [{"path": path, "frames": 0, "sample_rate": 8000, "channels": 2, "duration": 0.0}]
        assert info(path).frames == 0


def test_sink_errors_match_on_both_runtimes(tmp_path):
    path = str(tmp_path / "x.wav")
    sink = Pipeline([AudioFileSinkNode("k", path=path)])
    mono = Audio(np.zeros(100, np.int16), 8000)
    exc = same_error(sink, [mono, mono, Audio(np.zeros(10, np.int16), 16000)], errors.NodeValueError)
    assert exc.message == "sample rate changed from 8000 to 16000 Hz" and exc.item_index == 2
    assert info(path).frames == 200  # closed after the failure, with a header for what was written
    exc = same_error(sink, [mono, Audio(np.zeros((10, 2), np.float32), 8000)], errors.NodeValueError)
    assert exc.message == "channel count changed from 1 to 2"
    for item, name in [("a.wav", "str"), (1.5, "float"), (np.zeros(3, np.int16), "ndarray[int16]")]:
        exc = same_error(sink, [item], errors.NodeTypeError)
        assert exc.message == f"expects audio, got {name}"
    bad = str(tmp_path / "no" / "x.wav")
    exc = same_error(Pipeline([AudioFileSinkNode("k", path=bad)]), [mono], errors.NodeValueError)
    assert exc.message == f"cannot write audio file '{bad}': No such file or directory" and exc.item_index == 0
    exc = same_error(Pipeline([AudioFileSinkNode("k", path=str(tmp_path), format="wav")]), [mono], errors.NodeValueError)
    assert exc.message.endswith(": Is a directory")
    exc = same_error(Pipeline([AudioFileSinkNode("k", path=str(tmp_path / "o.ogg"), subtype="OPUS")]),
                     [Audio(np.zeros(10, np.float32), 44100)], errors.NodeValueError)
    assert "Opus" in exc.message  # libsndfile's own words, the same in both builds


@pytest.mark.parametrize("params,suffix,message", [
    ({"path": "x.txt"}, "path", "cannot tell the file format from the path 'x.txt' (extension .txt)"),
    ({"path": "x"}, "path", "cannot tell the file format from the path 'x' (no extension)"),
    ({"path": "x.wav", "format": "mp3"}, "format", "parameter 'format' must be null or one of wav, flac, ogg; got 'mp3'"),
    ({"path": "x.wav", "format": 3}, "format", "parameter 'format' must be null or one of wav, flac, ogg; got int"),
    ({"path": "x.flac", "subtype": "FLOAT"}, "subtype",
     "parameter 'subtype' must be null or one of PCM_S8, PCM_16, PCM_24 for flac; got 'FLOAT'"),
    ({"path": "x.ogg", "subtype": ["VORBIS"]}, "subtype",
     "parameter 'subtype' must be null or one of VORBIS, OPUS for ogg; got list"),
])
def test_sink_params_are_checked_alike_by_both_parsers(params, suffix, message):
    from remotemedia import _runtime

    with pytest.raises(errors.InvalidParameterError) as exc_info:
        AudioFileSinkNode("k", **params)
    assert message in str(exc_info.value)
    manifest = json.dumps({"version": "v1", "nodes": [{"id": "k", "node_type": "AudioFileSink", "params": params}]})
    messages = []
    for parse in (Pipeline.from_manifest, _runtime.validate):
        with pytest.raises(errors.InvalidParameterError) as exc_info:
            parse(manifest)
        assert exc_info.value.path == f"$.nodes[0].params.{suffix}"
        messages.append(exc_info.value.message)
    assert messages[0] == messages[1] and message in messages[0]


def test_sink_accepts_null_format_and_subtype_explicitly(tmp_path):
    path = str(tmp_path / "x.flac")
    manifest = json.dumps({"version": "v1", "nodes": [
        {"id": "k", "node_type": "AudioFileSink", "params": {"path": path, "format": None, "subtype": None}}]})
    for runtime in RUNTIMES:
        out = Pipeline.from_manifest(manifest).run_sync([Audio(np.zeros(10, np.int16), 8000)], runtime=runtime)
        assert out[0]["frames"] == 10 and info(path)[4:] == ("flac", "PCM_16")


# ------------------------------------------------------------------------------ streaming


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_source_to_sink_streams_a_file_copy(tmp_path, runtime):
    src, dst = str(tmp_path / "in.flac"), str(tmp_path / "out.wav")
    x = signal(16000, 2, seed=30)
    write(src, Audio(x, 16000), subtype="PCM_24")
    pipeline = Pipeline([AudioFileSourceNode("s", chunk_ms=10, dtype="int32"), PassThroughNode("p"),
                         AudioFileSinkNode("k", path=dst, subtype="PCM_24")])
    out = list(pipeline.stream_sync([src], runtime=runtime))
    assert out == pipeline.run_sync([src], runtime=runtime)
    assert out[0]["frames"] == 16000
    assert read(dst, dtype="int32") == read(src, dtype="int32")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_cancelled_session_closes_the_sink_file(tmp_path, runtime):
    path = str(tmp_path / "x.wav")
    pipeline = Pipeline([AudioFileSinkNode("k", path=path)])
    session = pipeline.sync_session(runtime=runtime)
    with session:
        for _ in range(3):
            session.send(Audio(np.ones(100, np.int16), 8000))
        # The file is open while the session runs; the WAV header is written when it closes.
        assert open_fds_to(path) == 1
        session.cancel()
    assert open_fds_to(path) == 0
    assert info(path).frames == 300


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("streaming", [False, True])
def test_a_failure_downstream_closes_every_file(tmp_path, runtime, streaming):
    mono, stereo, out = str(tmp_path / "m.wav"), str(tmp_path / "s.wav"), str(tmp_path / "out.wav")
    write(mono, Audio(np.zeros(800, np.int16), 8000))
    write(stereo, Audio(np.zeros((8000, 2), np.int16), 8000))
    pipeline = Pipeline([AudioFileSourceNode("s"), AudioFileSinkNode("k", path=out)])
    with pytest.raises(errors.NodeValueError, match="channel count changed from 1 to 2") as exc_info:
        if streaming:  # the sink fails while the source is in the middle of the stereo file
            list(pipeline.stream_sync([mono, stereo], runtime=runtime))
        else:
            pipeline.run_sync([mono, stereo], runtime=runtime)
    assert exc_info.value.node_id == "k" and exc_info.value.item_index == 5
    assert [open_fds_to(p) for p in (mono, stereo, out)] == [0, 0, 0]
    assert info(out).frames == 800


def test_a_huge_item_writes_to_ogg_in_blocks(tmp_path):
    # libsndfile's Vorbis encoder crashes on one write of a few million frames (1.2.0 and 1.2.2);
    # both sinks and write() hand it blocks. In a subprocess, so that a regression fails one test.
    import subprocess
    import sys

    code = f"""
import numpy as np
from remotemedia import Audio, Pipeline
from remotemedia.audio import write, info
from remotemedia.nodes import AudioFileSinkNode
x = Audio(np.zeros(3_000_000, np.float32), 48000)
for runtime in ("python", "native"):
    path = {str(tmp_path)!r} + "/" + runtime + ".ogg"
    Pipeline([AudioFileSinkNode("k", path=path)]).run_sync([x], runtime=runtime)
    assert info(path).frames == 3_000_000
write({str(tmp_path)!r} + "/w.ogg", x)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
