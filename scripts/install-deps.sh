#!/usr/bin/env bash
# Installs every system package the build, the tests and the benchmarks need.
# Idempotent: apt-get skips what is already installed. Debian 12 (bookworm).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  cmake g++ make pkg-config ca-certificates
  libsqlite3-dev            # embedded store
  nlohmann-json3-dev        # JSON configs, records and CLI output
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev  # image I/O
  libopenblas-dev           # optimised BLAS for exact search (never the reference libblas3)
  libcli11-dev              # command-line parsing
  libcpp-httplib-dev        # HTTP server of tools/qdrant_test_server (tests only)
  nodejs                    # tests/js_client (npm comes with the machine's Node.js; Debian's npm conflicts with it)
  chromium                  # tests/app_e2e: headless browser for the App's end-to-end test (driven by playwright-core)
  libcurl4-openssl-dev      # Qdrant REST client (HTTP/HTTPS)
  libicu-dev                # Unicode properties and lower-casing (CLIP tokenizer)
  zlib1g-dev                # reading the gzipped CLIP BPE vocabulary
  libtorch-dev              # TorchScript models (CLIP) on CPU
  libssl-dev                # SHA-256 of model zoo downloads
  libgtest-dev libgmock-dev # tests
  libbenchmark-dev          # benchmarks
  python3-numpy python3-faiss  # benchmark peer (faiss IndexFlatIP) and .npy fixtures
  python3-pytest pybind11-dev python3-dev  # Python bindings (python/) and their tests
  python3-pip python3-venv python3-setuptools python3-wheel  # `pip install --no-build-isolation .` (setup.py drives CMake) and its test
  python3-torch python3-pil    # benchmark peer for models (PyTorch + PIL preprocessing) and the ViT-B/32-sized test archive
)
missing=()
for p in "${PACKAGES[@]}"; do
  case "$p" in \#*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
