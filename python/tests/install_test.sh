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

# No run-time path into the build tree (RPATH/RUNPATH).
dyn = subprocess.run(["readelf", "-d", fo._fo.__file__], check=True, capture_output=True, text=True).stdout
assert "RPATH" not in dyn and "RUNPATH" not in dyn, dyn

ds = foz.load_zoo_dataset("shapes", max_samples=20, dataset_name="install-test",
                          dataset_dir=os.path.join(os.environ["HOME"], "shapes"))
assert len(ds) == 20, len(ds)
fob.compute_similarity(ds, brain_key="img_sim")
query = ds.first().id
ids = ds.sort_by_similarity(query, k=5, brain_key="img_sim").values("id")
assert len(ids) == 5 and ids[0] == query, ids
assert fo.load_dataset("install-test").list_brain_runs() == ["img_sim"]
print("python_install: ok,", fo.__file__)
EOF
