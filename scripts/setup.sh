#!/usr/bin/env bash
# Installs everything RemoteMedia needs on a fresh Debian machine, then builds it. Idempotent, and
# quick when everything is already there: apt and pip run only for what is missing, and the builds
# are incremental (scikit-build-core keeps build/<wheel tag>, CMake keeps build/tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}

# C++ toolchain and libraries, from Debian's packages.
# libsoxr (resampling) and libsndfile (WAV, FLAC, Ogg) are the audio nodes' libraries.
# clang and libclang-rt-14-dev (libFuzzer, clang 14's sanitizer runtimes) build the fuzz targets.
APT_PACKAGES=(g++ cmake ninja-build pkg-config nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev
              libsoxr-dev libsndfile1-dev clang libclang-rt-14-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python packages, from PyPI: build requirements (we build without isolation so the build
# directory is reused) and test requirements.
# soxr and soundfile are the Python executor's audio libraries (and the baseline the benchmarks
# compare against); onnxruntime runs the Silero VAD model, pocketsphinx carries the speech-to-text
# model; tqdm draws the CLI's progress bar.
PIP_PACKAGES=("numpy>=1.26" "nanobind>=2.4" "scikit-build-core>=0.10" "pytest>=8" "pytest-asyncio>=0.23"
              "hypothesis>=6.100" "jsonschema>=4.20" "soxr>=0.5" "soundfile>=0.12" "onnxruntime>=1.16"
              "pocketsphinx>=5" "moonshine-cpp==0.1.4" "tqdm>=4.60")
# silero-vad is installed for the model files it ships; its declared dependency on torch (gigabytes)
# is not needed to run that model with onnxruntime, so it goes in without dependencies.
PIP_NODEPS=("silero-vad>=5")
if ! "$PY" - "${PIP_PACKAGES[@]}" "${PIP_NODEPS[@]}" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PYEOF
then
  echo "setup: installing Python packages"
  "$PY" -m pip install -q --upgrade "${PIP_PACKAGES[@]}" packaging
  "$PY" -m pip install -q --upgrade --no-deps "${PIP_NODEPS[@]}"
fi

# The Python package with its native module (editable: python/ is imported in place).
"$PY" -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | grep -v "Running pip as the 'root' user" || true
"$PY" -c "import remotemedia._runtime" || { echo "setup: the native module did not build" >&2; exit 1; }

# The C++ tests and benchmarks, warnings as errors.
cmake -S . -B build/tests -G Ninja -DREMOTEMEDIA_TESTS=ON -DREMOTEMEDIA_BENCHMARKS=ON \
      -DREMOTEMEDIA_WERROR=ON -DCMAKE_BUILD_TYPE=Release > build/tests.configure.log 2>&1 \
  || { cat build/tests.configure.log; exit 1; }
ninja -C build/tests
