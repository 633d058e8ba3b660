#!/usr/bin/env bash
# Installs the dependencies, builds fo and runs the main job: generate the
# shapes demo dataset, index its images and object patches with the built-in
# model on the default (sklearn, in-process) backend, and query it.
# No server is needed. The store is $FO_DATABASE_PATH or ~/.fiftyone/cpp/fo.db.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2 --target fo
build/fo demo --overwrite "$@"
