#!/bin/bash
# Issue #11's scale benchmark in one command: builds what it needs (fo, the
# Python module _fo, scale_bench_cpp; -j2, incremental), then runs
# bench/scale_bench.py with Debian's python3. Options go to the driver:
#   bash bench/scale_bench.sh                      # 1M x 512, then the 10M int8 part
#   bash bench/scale_bench.sh --skip-10m           # 1M only
#   bash bench/scale_bench.sh --n 100000 --n10m 200000   # quick look (~3 min)
# See bench/README.md ("scale_bench") for every option and what is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FO_BUILD_DIR:-build}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" -j2 --target fo _fo scale_bench_cpp >&2
PYTHONPATH="$BUILD/python" exec /usr/bin/python3 bench/scale_bench.py --build "$BUILD" "$@"
