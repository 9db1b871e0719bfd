#!/usr/bin/env bash
# Runs every test: set-up first (so a fresh machine needs nothing else), then the C++ suite (also
# under AddressSanitizer + UndefinedBehaviorSanitizer), then the Python suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

bash scripts/setup.sh

echo "== C++ tests"
ctest --test-dir build/tests --output-on-failure -j2

echo "== C++ tests under address and undefined-behaviour sanitizers"
cmake -S . -B build/asan -G Ninja -DREMOTEMEDIA_TESTS=ON -DREMOTEMEDIA_CLI=OFF \
      -DREMOTEMEDIA_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug > build/asan.configure.log 2>&1 \
  || { cat build/asan.configure.log; exit 1; }
ninja -C build/asan remotemedia_tests
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./build/asan/tests/cpp/remotemedia_tests --gtest_brief=1

echo "== Fuzz targets: regression inputs, then 60 s each (docs/FUZZING.md)"
bash scripts/fuzz.sh 60

echo "== Streaming sessions and the worker pool under ThreadSanitizer"
cmake -S . -B build/tsan -G Ninja -DREMOTEMEDIA_TESTS=ON -DREMOTEMEDIA_CLI=OFF \
      -DREMOTEMEDIA_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo > build/tsan.configure.log 2>&1 \
  || { cat build/tsan.configure.log; exit 1; }
ninja -C build/tsan remotemedia_tests
TSAN_OPTIONS=halt_on_error=1 ./build/tsan/tests/cpp/remotemedia_tests --gtest_brief=1 --gtest_filter='*Session*:*Executor*'

echo "== Python tests"
"$PY" -m pytest tests/python -q -p no:cacheprovider "$@"
