#!/usr/bin/env bash
# Installs the dependencies, builds everything and runs every test.
# Ends with ctest's summary. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
cd build
ctest --output-on-failure --timeout 900
