"""Speech to text on the native runtime, with Python inference inside the native pipeline.

    python examples/speech/transcribe.py [WAV] [--vad energy|silero] [--stt pocketsphinx|moonshine]
                                         [--runtime native|python]

The pipeline (also examples/speech/pipeline.json, for `remotemedia run`):

    AudioResample(16000) -> AudioFormat(int16, mono) -> VAD -> SpeechToText
         native                  native              native (EnergyVAD)   Python
                                                     or Python (SileroVAD)

The file is streamed through a session in 20 ms chunks, as a microphone would deliver it, and each
segment is printed as soon as the pipeline has transcribed it: "[0.29 - 3.49] the quick brown ...".
--stt moonshine recognises with Moonshine base-en (the moonshine-cpp package) instead of PocketSphinx.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from remotemedia import Pipeline
from remotemedia.audio import AudioFileError, info, read_chunks
from remotemedia.nodes import (
    AudioFormatNode,
    AudioResampleNode,
    EnergyVADNode,
    SileroVADNode,
    SpeechToTextNode,
)

HERE = pathlib.Path(__file__).resolve().parent
CHUNK_MS = 20


def build_pipeline(vad: str = "energy", stt: str = "pocketsphinx") -> Pipeline:
    """The speech pipeline; ``vad`` is "energy" (native EnergyVAD) or "silero" (SileroVAD, Python),
    ``stt`` the SpeechToText engine, "pocketsphinx" or "moonshine"."""
    if vad == "energy":
        # -40 dBFS suits a clean recording; the 300 ms hangover keeps short pauses inside a segment
        # and leaves the recogniser some silence at the end.
        detector = EnergyVADNode(name="vad", threshold_db=-40.0, hangover_ms=300.0, min_speech_ms=100.0)
    elif vad == "silero":
        # 100 ms of padding: PocketSphinx recognises better with some silence around the speech.
        detector = SileroVADNode(name="vad", speech_pad_ms=100)
    else:
        raise ValueError(f"vad must be 'energy' or 'silero', not {vad!r}")
    if stt not in ("pocketsphinx", "moonshine"):
        raise ValueError(f"stt must be 'pocketsphinx' or 'moonshine', not {stt!r}")
    engine = {} if stt == "pocketsphinx" else {"engine": stt}  # the default engine stays unwritten
    return Pipeline(
        [
            AudioResampleNode(name="resample", sample_rate=16000),
            AudioFormatNode(name="format", dtype="int16", channels=1),
            detector,
            SpeechToTextNode(name="stt", words=False, **engine),
        ],
        name=f"speech-{vad}" if stt == "pocketsphinx" else f"speech-{vad}-{stt}",
    )


def transcribe(path: str | pathlib.Path, vad: str = "energy", runtime: str = "native", stt: str = "pocketsphinx"):
    """Yields {"start", "end", "text"} per speech segment of the file, as the stream goes."""
    pipeline = build_pipeline(vad, stt)
    yield from pipeline.stream_sync(read_chunks(path, CHUNK_MS, dtype="int16"), runtime=runtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", default=str(HERE / "sample.wav"), help="audio file (default: the sample)")
    parser.add_argument("--vad", choices=("energy", "silero"), default="energy")
    parser.add_argument("--stt", choices=("pocketsphinx", "moonshine"), default="pocketsphinx")
    parser.add_argument("--runtime", choices=("native", "python"), default="native")
    args = parser.parse_args(argv)

    try:
        duration = info(args.wav).duration
    except AudioFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.runtime == "native":
        for placement in build_pipeline(args.vad, args.stt).explain():
            print(f"# {placement}", file=sys.stderr)
    else:
        print("# Python executor: every node runs its Python code", file=sys.stderr)
    began = time.perf_counter()
    for segment in transcribe(args.wav, args.vad, args.runtime, args.stt):
        print(f"[{segment['start']:.2f} - {segment['end']:.2f}] {segment['text']}", flush=True)
    took = time.perf_counter() - began
    print(f"# {duration:.2f} s of audio in {took:.2f} s ({duration / took:.1f}x real time)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
