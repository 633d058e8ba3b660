"""Fixtures shared by the Python tests.

Paths of built tools come from ctest's environment (python/CMakeLists.txt):
FO_CLI (the `fo` binary) and FO_QDRANT_TEST_SERVER. Fixtures read by tests
come from ../shared beside the repository root. Set QDRANT_URL (and
QDRANT_API_KEY) to run the Qdrant tests against a real server instead of
the project's test server.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# The API key the integration page's examples spell out.
PAGE_API_KEY = "XXXXXXXX"


def _tool(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip("%s is not set (run the tests through ctest)" % var)
    return path


@pytest.fixture(scope="session")
def fo_cli():
    return _tool("FO_CLI")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh store, brain config and home for one test."""
    import fo
    monkeypatch.setenv("FO_DATABASE_PATH", str(tmp_path / "fo.db"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FIFTYONE_BRAIN_CONFIG_PATH", str(tmp_path / "brain_config.json"))
    for var in list(os.environ):
        if var.startswith("FIFTYONE_BRAIN_") and var != "FIFTYONE_BRAIN_CONFIG_PATH":
            monkeypatch.delenv(var)
    fo._fo._reset_store()
    yield tmp_path
    fo._fo._reset_store()


@pytest.fixture(scope="session")
def qdrant_server():
    """(url, api_key) of a Qdrant server: $QDRANT_URL, else the project's
    test server requiring the page's example key."""
    url = os.environ.get("QDRANT_URL")
    if url:
        yield url, os.environ.get("QDRANT_API_KEY", "")
        return
    binary = _tool("FO_QDRANT_TEST_SERVER")
    proc = subprocess.Popen([binary, "--port", "0", "--host", "127.0.0.1", "--api-key", PAGE_API_KEY],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()  # printed once it listens
        if not line.startswith("http"):
            raise RuntimeError("qdrant-test-server did not start: %r" % line)
        yield line, PAGE_API_KEY
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def test_clip_zoo(tmp_path_factory, fo_cli):
    """A zoo manifest in which clip-vit-base32-torch is the shipped entry
    with its weights replaced by make_test_clip.py's model (same interface
    and sizes) behind a file:// URL, and its vocabulary taken from
    ../shared/clip. Returns the environment that selects it."""
    root = tmp_path_factory.mktemp("zoo")
    weights = root / "test-clip.pt"
    subprocess.run([sys.executable, str(Path(__file__).with_name("make_test_clip.py")), str(weights)], check=True)
    entry = json.loads(subprocess.run([fo_cli, "zoo", "models", "info", "clip-vit-base32-torch", "--json"],
                                      check=True, capture_output=True, text=True,
                                      env=dict(os.environ, HOME=str(root))).stdout)
    entry["files"][0].update(url=weights.as_uri(), sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
                             size=weights.stat().st_size)
    entry["files"][1]["url"] = (SHARED / "clip" / "bpe_simple_vocab_16e6.txt.gz").as_uri()
    for f in entry["files"]:
        f.pop("path", None)
        f.pop("present", None)
    for k in ("builtin", "downloaded", "size"):
        entry.pop(k, None)
    manifest = root / "manifest.json"
    manifest.write_text(json.dumps([entry]))
    return {"FIFTYONE_CPP_MODEL_ZOO_MANIFEST": str(manifest), "FIFTYONE_CPP_MODEL_ZOO_DIR": str(root / "cache")}


@pytest.fixture
def clip_zoo(test_clip_zoo, monkeypatch):
    for k, v in test_clip_zoo.items():
        monkeypatch.setenv(k, v)
    return test_clip_zoo
