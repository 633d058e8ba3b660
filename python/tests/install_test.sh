#!/usr/bin/env bash
# python_install: the documented install (README.md, "Installing the Python
# package") in a fresh virtual environment, then the package used from outside
# the repository.
#
#   install_test.sh <repo>
#
# The CMake build directory of the pip build is setup.py's persistent one
# ($FO_PIP_BUILD_DIR, default <repo>/build-pip), so only the first run builds
# fo_lib and _fo from scratch; later runs are incremental. Offline: --no-index.
set -euo pipefail
repo=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment may put another `fo` on the path.
unset PYTHONPATH PYTHONHOME PYTHONUSERBASE VIRTUAL_ENV
export HOME=$tmp/home PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$HOME"

/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
start=$(date +%s)
"$tmp/venv/bin/pip" install --no-build-isolation --no-index "$repo"
echo "python_install: pip install took $(( $(date +%s) - start )) s"

cd "$tmp"
export FO_DATABASE_PATH=$tmp/fo.db FIFTYONE_BRAIN_CONFIG_PATH=$tmp/brain_config.json
"$tmp/venv/bin/python" - "$tmp/venv" "$repo" <<'EOF'
import importlib.metadata
import os
import subprocess
import sys

venv, repo = (os.path.realpath(p) + os.sep for p in sys.argv[1:3])

import fo
import fo.brain as fob
import fo.zoo as foz

# Installed in the venv, not picked up from the source or build tree.
for f in (fo.__file__, fo._fo.__file__):
    assert os.path.realpath(f).startswith(venv), f
    assert not os.path.realpath(f).startswith(repo), f
assert importlib.metadata.version("fo") == fo.__version__, (importlib.metadata.version("fo"), fo.__version__)

# No run-time path into the build tree: _fo and the torch plugin find
# libfo.so beside them ($ORIGIN) and nowhere else.
package = os.path.dirname(fo._fo.__file__)
for f in (fo._fo.__file__, *(os.path.join(package, lib) for lib in ("libfo.so", "libfo_torch.so", "libfo_imgcodecs.so"))):
    dyn = subprocess.run(["readelf", "-d", f], check=True, capture_output=True, text=True).stdout
    paths = [line.split("[", 1)[1].rstrip("]") for line in dyn.splitlines() if "(RPATH)" in line or "(RUNPATH)" in line]
    assert all(p == "$ORIGIN" for p in paths), (f, paths)

def loaded(name):
    with open("/proc/self/maps") as maps:
        return name in maps.read()

# libtorch and OpenCV's codecs are loaded only when a model runs or an image is decoded.
assert not loaded("libtorch_cpu"), "import fo loaded libtorch"
assert not loaded("libopencv_imgcodecs"), "import fo loaded OpenCV's image codecs"

ds = foz.load_zoo_dataset("shapes", max_samples=20, dataset_name="install-test",
                          dataset_dir=os.path.join(os.environ["HOME"], "shapes"))
assert len(ds) == 20, len(ds)
fob.compute_similarity(ds, brain_key="img_sim")
query = ds.first().id
ids = ds.sort_by_similarity(query, k=5, brain_key="img_sim").values("id")
assert len(ids) == 5 and ids[0] == query, ids
assert fo.load_dataset("install-test").list_brain_runs() == ["img_sim"]
assert not loaded("libtorch_cpu"), "a run without a TorchScript model loaded libtorch"

# The installed torch plugin runs a TorchScript model (a tiny CLIP archive).
clip = os.path.join(repo, os.pardir, "shared", "clip")
model = fo.zoo.load_zoo_model(os.path.join(clip, "tiny_clip_vit.pt"),
                              tokenizer_path=os.path.join(clip, "bpe_simple_vocab_16e6.txt.gz"))
assert model.embed_prompts(["a red square"]).shape[0] == 1
assert loaded("libfo_torch.so") and loaded("libtorch_cpu")
print("python_install: ok,", fo.__file__)
EOF
