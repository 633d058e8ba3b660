#!/usr/bin/env bash
# End-to-end test of the App's page: `fo app launch` on the demo dataset,
# driven in headless Chromium (Debian's chromium package) by playwright-core
# from npm. Compares the order the page shows after "Sort by similarity" with
# the library's (`fo brain sort-by-similarity --json`), for images and patches.
# Usage: tests/app_e2e/run.sh <path to fo> <output directory for screenshots>
# Installs the locked npm package on first use (npm ci), then runs e2e.mjs.
# Exits 77 (ctest's skip code, registered with SKIP_RETURN_CODE 77) when node,
# npm or chromium is missing. CHROMIUM=<path> overrides /usr/bin/chromium.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 <fo binary> <screenshot output directory>" >&2
  exit 2
fi
fo="$(realpath "$1")"
if [ ! -x "$fo" ]; then
  echo "$0: $fo is not an executable; build the fo target" >&2
  exit 1
fi
mkdir -p "$2"
out="$(realpath "$2")"
# In CI (CI set, as .ci/run is run) scripts/install-deps.sh has installed
# everything, so a missing tool is a failure there, not a skip.
skip=77
if [ -n "${CI:-}" ]; then skip=1; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "$0: node and npm are needed for the App's end-to-end test; skipping" >&2
  exit "$skip"
fi
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "$0: $chromium not found (apt-get install chromium); skipping" >&2
  exit "$skip"
fi
cd "$(dirname "$0")"
if [ ! -f node_modules/playwright-core/package.json ]; then
  npm ci --no-audit --no-fund
fi
CHROMIUM="$chromium" exec node e2e.mjs "$fo" "$out"
