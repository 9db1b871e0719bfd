#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, fuzz/corpus/<target>/, from the repository's own
examples: the example and test manifests, the expression vectors (tests/data/expressions.json) and
the typed expressions of tests/cpp/expression_test.cpp, JSON values, and audio node inputs.

The seeds are committed; run this again (python3 fuzz/make_corpus.py) when the sources change. It
replaces every file of fuzz/corpus/. The item encoding mirrors decode_value in fuzz/fuzz_input.h
and the audio input layout mirrors fuzz/audio_nodes_fuzzer.cpp.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import shutil
import struct
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "fuzz" / "corpus"
MAX_EXPRESSION_SEEDS = 300


def write(target: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


# ------------------------------------------------------------------ the item encoding (fuzz_input.h)


def encode(v, depth: int = 0) -> bytes:
    if v is None:
        return b"\x00"
    if v is True:
        return b"\x02"
    if v is False:
        return b"\x01"
    if isinstance(v, int):
        if -(2**63) <= v < 2**63:
            return b"\x03" + struct.pack("<q", v)
        digits = min(max(len(str(abs(v))), 19), 60)
        return b"\x0f" + bytes([digits - 19]) + bytes(int(c) for c in str(abs(v))[:digits].ljust(digits, "0"))
    if isinstance(v, float):
        return b"\x05" + struct.pack("<d", v)
    if isinstance(v, str):
        raw = v.encode("utf-8")[:63]
        return b"\x07" + bytes([len(raw)]) + raw
    if isinstance(v, list):
        items = v[:8] if depth < 6 else []
        return b"\x09" + bytes([len(items)]) + b"".join(encode(x, depth + 1) for x in items)
    if isinstance(v, dict):
        entries = list(v.items())[:8] if depth < 6 else []
        out = b"\x0a" + bytes([len(entries)])
        for k, x in entries:
            raw = k.encode("utf-8")[:63]
            out += bytes([len(raw)]) + raw + encode(x, depth + 1)
        return out
    raise TypeError(type(v))


def npint(i: int) -> bytes:
    return b"\x0b" + struct.pack("<q", i)


def npfloat(d: float) -> bytes:
    return b"\x0c" + struct.pack("<d", d)


def repeat(n: int) -> bytes:
    return b"\xff" + bytes([n])


INT_EDGES = [0, 1, -1, 2, 3, -3, 7, 10, 12, 2**63 - 1, -(2**63), 2**53 + 1, 3037000500, 4294967311]
FLOAT_EDGES = [0.0, -0.0, 0.5, -2.5, 1e300, 1e-310, math.inf, -math.inf, math.nan, 9.2233720368547758e18, 3.0]

# --------------------------------------------------------------------------------------- manifests


def manifest_seeds() -> None:
    paths = sorted((REPO / "examples").rglob("*.json"))
    for sub in ("valid", "invalid"):
        paths += sorted(p for p in (REPO / "tests/data/manifests" / sub).glob("*.json") if p.name != "expected.json")
    for p in paths:
        text = p.read_bytes()
        if len(text) <= 16384:
            write("manifest_fuzzer", text)
    # Node types the examples do not use, each once with typical parameters.
    for node_type, params in [
        ("BufferNode", {"buffer_size": 3}),
        ("FilterNode", {"condition": "item > 2"}),
        ("MapNode", {"expression": "item * 2"}),
        ("RouterNode", {"routes": [{"when": "item > 0", "to": "pos"}]}),
        ("AudioGainNode", {"db": -6}),
        ("AudioChunkerNode", {"frames": 4, "pad": True}),
        ("AudioResampleNode", {"sample_rate": 8000}),
        ("AudioFormatNode", {"dtype": "int16", "channels": 2}),
        ("AudioNormalizeNode", {"mode": "rms"}),
        ("AudioLevelNode", {}),
        ("EnergyVADNode", {"frame_ms": 10}),
    ]:
        doc = {"version": "v1", "nodes": [{"id": "a", "node_type": node_type, "params": params},
                                          {"id": "b", "node_type": "PassThroughNode"}]}
        write("manifest_fuzzer", json.dumps(doc).encode())


# ------------------------------------------------------------------------------------- expressions


def typed_expressions() -> list[str]:
    src = (REPO / "tests/cpp/expression_test.cpp").read_text(encoding="utf-8")
    block = src[src.index("kTypedExpressions[] = {"):]
    block = block[: block.index("};")]
    return re.findall(r'"((?:[^"\\]|\\.)*)"', block)


def expression_seeds() -> list[dict]:
    cases = json.loads((REPO / "tests/data/expressions.json").read_text(encoding="utf-8"))["cases"]
    step = max(1, len(cases) // (MAX_EXPRESSION_SEEDS - 80))
    for case in cases[::step]:
        item = case.get("item")
        try:
            items = encode(item)
        except TypeError:
            continue
        write("expression_fuzzer", case["expr"].encode("utf-8") + b"\x00" + items)
    numbers = b"".join(encode(i) for i in INT_EDGES) + b"".join(encode(f) for f in FLOAT_EDGES)
    numbers += encode(True) + npint(5) + npfloat(2.5) + encode("s")
    for i, text in enumerate(typed_expressions()):
        # Every fourth seed is long enough to cross the typed path's 256-item chunks.
        tail = encode(7) + repeat(255) + encode(-3) + repeat(40) if i % 4 == 0 else b""
        write("expression_fuzzer", text.encode() + b"\x00" + numbers + tail)
    return cases


# ------------------------------------------------------------------------------------- JSON values


def json_seeds(cases: list[dict]) -> None:
    texts = [
        "null", "true", "0", "-0", "-0.0", "1e308", "5e-324", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "123456789012345678901234567890", "1.5e3", '"\\u00e9\\ud83d\\ude00"',
        '""', "[]", "{}", '{"a": [1, 2.5, "x", null, true], "b": {"c": {}}}', '[[[[[[1]]]]]]',
        '{"a": 1, "a": 2}', "\ufeff{}", "[1,]", '{"k":', "1e999", '"\\ud800"',
    ]
    for t in texts:
        write("value_json_fuzzer", t.encode("utf-8"))
    seen = set()
    for case in cases:
        if "item" in case and len(seen) < 60:
            text = json.dumps(case["item"])
            if text not in seen:
                seen.add(text)
                write("value_json_fuzzer", text.encode())
    # Values the JSON parser cannot make (leading 0x01: the item encoding).
    for blob in [npint(3), npfloat(math.nan), b"\x0e\x0b\x02\x02\x03" + bytes(48), b"\x0e\x09\x01\x02" + bytes(4),
                 b"\x08\x03abc", b"\x10\x00\x01\x04" + bytes(4) + bytes(8), encode([1, 2.5, {"x": [None]}]),
                 b"\x05" + struct.pack("<d", math.inf)]:
        write("value_json_fuzzer", b"\x01" + blob)


# -------------------------------------------------------------------------------------- audio nodes

# The audio types sorted by name, as audio_types() in the harness.
AUDIO_TYPES = ["AudioChunkerNode", "AudioFileSinkNode", "AudioFileSourceNode", "AudioFormatNode",
               "AudioGainNode", "AudioLevelNode", "AudioNormalizeNode", "AudioResampleNode", "EnergyVADNode"]
ABSENT = b"\x00"
DTYPES = {"int16": (0, "<h", 16000), "int32": (1, "<i", 1 << 28), "float32": (2, "<f", 0.5), "float64": (3, "<d", 0.5)}
RATES = [8000, 16000, 22050, 44100, 48000, 96000, 1, 2, 3, 7, 1000, 11025, 192000]


def int_param(v: int) -> bytes:  # how 1, "raw int64"
    return b"\x01\x02" + struct.pack("<q", v)


def number_param(v: float) -> bytes:  # how 1, "raw float64"
    return b"\x01\x03" + struct.pack("<d", v)


def choice_param(i: int) -> bytes:
    return b"\x01" + bytes([i])


def bool_param(b: bool) -> bytes:
    return b"\x01" + bytes([int(b)])


def list_param(values: list[int]) -> bytes:
    return b"\x01" + bytes([len(values)]) + bytes(v & 0xFF for v in values)


def audio_items(dtype: str, channels: int, rate: int, frame_counts: list[int], planar: bool = False) -> bytes:
    code, fmt, scale = DTYPES[dtype]
    shape = channels | (0x20 if planar else 0)
    out = bytes([len(frame_counts) - 1, 0, code, shape, RATES.index(rate)])
    t = 0
    for frames in frame_counts:
        out += b"\x00" + bytes([frames >> 8, frames & 0xFF])
        for _ in range(frames * channels):
            x = 0.6 * math.sin(0.07 * t)
            t += 1
            out += struct.pack(fmt, int(x * scale) if "int" in dtype else x * scale * 2)
    return out


def small_file(fmt: str, subtype: str) -> bytes:
    import numpy as np
    import soundfile

    buf = io.BytesIO()
    tone = (0.5 * np.sin(np.arange(240) * 0.1)).astype("float32").reshape(-1, 2)
    soundfile.write(buf, tone, 8000, format=fmt, subtype=subtype)
    return buf.getvalue()


def audio_seeds() -> None:
    t = {name: bytes([i]) for i, name in enumerate(AUDIO_TYPES)}
    items = audio_items("float32", 1, 16000, [100, 37, 160])
    stereo = audio_items("int16", 2, 48000, [64, 64, 3])
    planar = audio_items("float64", 2, 8000, [50, 11], planar=True)
    seeds = [
        t["AudioChunkerNode"] + int_param(64) + ABSENT + bool_param(True) + items,
        t["AudioChunkerNode"] + ABSENT + number_param(2.5) + bool_param(False) + planar,
        t["AudioFormatNode"] + choice_param(0) + int_param(2) + ABSENT + ABSENT + items,
        t["AudioFormatNode"] + ABSENT + ABSENT + list_param([1, 0]) + choice_param(1) + stereo,
        t["AudioGainNode"] + number_param(-6.0) + stereo,
        t["AudioGainNode"] + number_param(12.0) + planar,
        t["AudioLevelNode"] + items,
        t["AudioNormalizeNode"] + choice_param(1) + number_param(-20.0) + stereo,
        t["AudioNormalizeNode"] + ABSENT + ABSENT + items,
        t["AudioResampleNode"] + int_param(8000) + choice_param(0) + items,
        t["AudioResampleNode"] + int_param(44100) + ABSENT + stereo,
        t["AudioResampleNode"] + int_param(16000) + choice_param(4) + planar,
        t["EnergyVADNode"] + number_param(-30.0) + number_param(10.0) + number_param(20.0) + ABSENT + ABSENT
        + bool_param(True) + items,
        t["EnergyVADNode"] + ABSENT * 6 + stereo,
        t["AudioFileSinkNode"] + ABSENT + b"\x00" + ABSENT + ABSENT + stereo,
        t["AudioFileSinkNode"] + ABSENT + b"\x01" + ABSENT + choice_param(5) + items,
    ]
    for fmt, subtype in [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_16"), ("OGG", "VORBIS")]:
        try:
            data = small_file(fmt, subtype)
        except Exception as e:  # noqa: BLE001 - a missing codec only loses a seed
            print(f"make_corpus: no {fmt}/{subtype} seed: {e}")
            continue
        seeds.append(t["AudioFileSourceNode"] + number_param(10.0) + ABSENT + ABSENT + b"\x02\x00\x00\x00\x00\x00"
                     + data)
    for s in seeds:
        write("audio_nodes_fuzzer", s)


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    manifest_seeds()
    cases = expression_seeds()
    json_seeds(cases)
    audio_seeds()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
