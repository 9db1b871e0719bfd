#!/usr/bin/env bash
# The main job: set-up, the seed's example pipeline on both executors and on the standalone
# program, then a short native-versus-Python comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

mkdir -p build
bash scripts/setup.sh > build/setup.log 2>&1 || { cat build/setup.log; exit 1; }

echo "== The seed's 'For Users' pipeline"
"$PY" examples/seed_quickstart.py

echo "== The same kind of manifest on the standalone C++ program"
echo '[1, 2, 3, 4.5]' | ./build/tests/remotemedia-runtime run examples/manifests/seed_medium.json

echo "== The seed's runtime comparison, short mode (see docs/PERFORMANCE.md for the full run)"
"$PY" -m remotemedia.benchmarks.compare_runtimes --short

echo "== Speech: a recording through native resampling and VAD, then speech to text in Python (Moonshine)"
"$PY" examples/speech/transcribe.py examples/speech/sample.wav --stt moonshine

# RUN_QUICK=1 (what CI runs on its fresh clone, to prove this script works there) shortens the
# benchmark below; the figures it prints are then not the documented ones.
MINUTES=5; REPEATS=3
[ "${RUN_QUICK:-0}" = 1 ] && { MINUTES=0.5; REPEATS=1; }
echo "== The audio front end (resample, gain, chunker, EnergyVAD) against numpy + soxr, $MINUTES minutes of audio"
"$PY" -m remotemedia.benchmarks.audio_chain --minutes "$MINUTES" --repeats "$REPEATS"
