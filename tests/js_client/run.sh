#!/usr/bin/env bash
# Runs the Qdrant JavaScript client test against the test server.
# Usage: tests/js_client/run.sh <path to qdrant-test-server>
# Installs the locked npm packages on first use (npm ci), then runs
# `node --test`. Exits 77 (ctest's skip code, if registered with
# SKIP_RETURN_CODE 77) when node or npm is missing.
set -euo pipefail
if [ "$#" -ne 1 ]; then
  echo "usage: $0 <qdrant-test-server binary>" >&2
  exit 2
fi
server="$(realpath "$1")"
if [ ! -x "$server" ]; then
  echo "$0: $server is not an executable; build the qdrant-test-server target" >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "$0: node and npm are needed for the JavaScript client test; skipping" >&2
  exit 77
fi
cd "$(dirname "$0")"
if [ ! -d node_modules/@qdrant/js-client-rest ]; then
  npm ci --no-audit --no-fund
fi
QDRANT_TEST_SERVER="$server" exec node --test
