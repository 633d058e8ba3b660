"""Zoo datasets: the quickstart download (against a local HTTP server serving
a small archive in the format of FiftyOne's quickstart.zip), its failures,
the FiftyOneDataset importer, and the zoo listing and download bindings."""

import hashlib
import http.server
import io
import json
import os
import socket
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def fo(store, tmp_path, monkeypatch):
    # `store` (conftest.py): a fresh store and brain config for this test.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FIFTYONE_DATASET_ZOO_DIR", raising=False)
    monkeypatch.delenv("FIFTYONE_DEFAULT_DATASET_DIR", raising=False)
    monkeypatch.delenv("FIFTYONE_CPP_DATASET_ZOO_URL", raising=False)
    import fo as fo_module
    return fo_module


@pytest.fixture
def foz(fo):
    import fo.zoo as foz_module
    return foz_module


# --- a quickstart-like archive ------------------------------------------------

LABELS = ["bird", "cat", "dog", "person", "car"]


def oid(i):
    return {"$oid": "%024x" % (0x5f0000000000000000000000 + i)}


def detection(i, label, box, confidence=None, **extra):
    d = {"_id": oid(1000 + i), "_cls": "Detection", "attributes": {}, "tags": [], "label": label,
         "bounding_box": box}
    if confidence is not None:
        d["confidence"] = confidence
    d.update(extra)
    return d


def make_samples(n=5):
    samples = []
    for i in range(n):
        box = [0.1 * i, 0.05, 0.2, 0.5 + 0.05 * i]
        samples.append({
            "_id": oid(i),
            "_media_type": "image",
            "_rand": 0.5,
            "_dataset_id": oid(999),
            "filepath": "data/%06d.jpg" % i,
            "tags": ["validation"],
            "metadata": None if i else {"_cls": "ImageMetadata", "width": 64, "height": 48,
                                        "size_bytes": 1234, "mime_type": "image/jpeg", "num_channels": 3},
            "created_at": {"$date": "2024-01-01T00:00:00Z"},
            "last_modified_at": {"$date": "2024-01-01T00:00:00Z"},
            "ground_truth": {"_id": oid(500 + i), "_cls": "Detections", "detections": [
                detection(10 * i, LABELS[i], box, iscrowd=0, area=1234.5 + i, mask=None, index=None),
            ]},
            "predictions": {"_id": oid(600 + i), "_cls": "Detections", "detections": [
                detection(10 * i + 1, LABELS[i], box, confidence=0.9 - 0.1 * i),
                detection(10 * i + 2, "kite", [0.0, 0.0, 1.0, 1.0], confidence=0.05),
            ]},
            "uniqueness": {"$numberDouble": "0.5"} if i == 4 else 0.1 * (i + 1),
            "weather": {"_id": oid(700 + i), "_cls": "Classification", "label": "sunny"},
        })
    return samples


def jpeg_bytes(seed):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    return buf.getvalue()


def make_archive(n=5, extra_members=()):
    """The layout of FiftyOne's quickstart.zip: one quickstart/ directory with
    metadata.json, samples.json and data/."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("quickstart/metadata.json", json.dumps({
            "name": "quickstart", "media_type": "image", "version": "0.23.0", "default_classes": LABELS}))
        zf.writestr("quickstart/samples.json", json.dumps({"samples": make_samples(n)}))
        for i in range(n):
            zf.writestr("quickstart/data/%06d.jpg" % i, jpeg_bytes(i))
        for name, data in extra_members:
            zf.writestr(name, data)
    return buf.getvalue()


# --- a local HTTP server --------------------------------------------------------

class Server:
    """Serves `files` (path -> bytes) on a free loopback port; anything else
    is a 404. Records every requested path."""

    def __init__(self, files):
        self.files = dict(files)
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(monkeypatch):
    servers = []

    def start(files, base="/mirror"):
        s = Server({base + "/" + k: v for k, v in files.items()})
        servers.append(s)
        monkeypatch.setenv("FIFTYONE_CPP_DATASET_ZOO_URL", s.url + base + "/")
        return s

    yield start
    for s in servers:
        s.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- tests ------------------------------------------------------------------------

def test_list_zoo_datasets_and_models(foz):
    assert foz.list_zoo_datasets() == ["quickstart", "shapes"]
    models = foz.list_zoo_models()
    assert "color-gradient-descriptor" in models and "clip-vit-base32-torch" in models
    assert models == sorted(models)


def test_quickstart_download_and_import(fo, foz, serve, tmp_path):
    server = serve({"quickstart.zip": make_archive()})
    with pytest.warns(UserWarning, match="weather"):
        ds = foz.load_zoo_dataset("quickstart")
    assert ds.name == "quickstart"
    assert len(ds) == 5
    assert server.requests == ["/mirror/quickstart.zip"]

    zoo_dir = tmp_path / "home" / "fiftyone" / "quickstart"  # FiftyOne's default place
    assert (zoo_dir / "samples.json").is_file() and (zoo_dir / "metadata.json").is_file()
    assert not (zoo_dir / "tmp-download").exists()
    info = json.loads((zoo_dir / "info.json").read_text())
    assert info["name"] == "quickstart" and info["num_samples"] == 5
    assert info["dataset_type"] == "fiftyone.types.dataset_types.FiftyOneDataset"
    assert info["classes"] == LABELS

    schema = ds.get_field_schema()
    assert schema["ground_truth"] == "detections" and schema["predictions"] == "detections"
    assert schema["uniqueness"] == "float"
    assert "weather" not in schema and "created_at" not in schema and "_rand" not in schema

    samples = list(ds)
    for i, s in enumerate(samples):
        assert s.filepath == str(zoo_dir / "data" / ("%06d.jpg" % i))
        assert os.path.isfile(s.filepath)
        assert s.tags == ["validation"]
        gt = s["ground_truth"].detections
        assert [d.label for d in gt] == [LABELS[i]]
        np.testing.assert_allclose(gt[0].bounding_box, [0.1 * i, 0.05, 0.2, 0.5 + 0.05 * i])
        assert gt[0].confidence is None
        assert gt[0]["iscrowd"] == 0 and gt[0]["area"] == pytest.approx(1234.5 + i)
        with pytest.raises(KeyError):
            gt[0]["mask"]  # null attributes are not stored
        preds = s["predictions"].detections
        assert [d.label for d in preds] == [LABELS[i], "kite"]
        assert preds[0].confidence == pytest.approx(0.9 - 0.1 * i)
        assert s.id != "%024x" % (0x5f0000000000000000000000 + i)  # new ids
    assert ds.values("uniqueness") == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert samples[0].metadata == fo.ImageMetadata(size_bytes=1234, mime_type="image/jpeg", width=64, height=48,
                                                   num_channels=3)
    assert samples[1].metadata is None
    assert len(ds.match_tags("validation")) == 5

    # A second call returns the existing dataset, without a request.
    again = foz.load_zoo_dataset("quickstart")
    assert len(again) == 5 and again.first().id == samples[0].id
    assert server.requests == ["/mirror/quickstart.zip"]

    # Files on disk are reused: a dropped dataset is rebuilt without a download.
    with pytest.warns(UserWarning):
        rebuilt = foz.load_zoo_dataset("quickstart", drop_existing_dataset=True)
    assert len(rebuilt) == 5 and rebuilt.first().id != samples[0].id
    with pytest.warns(UserWarning):
        subset = foz.load_zoo_dataset("quickstart", max_samples=2)
    assert subset.name == "quickstart-2" and len(subset) == 2
    assert server.requests == ["/mirror/quickstart.zip"]

    # overwrite downloads again.
    with pytest.warns(UserWarning):
        fresh = foz.load_zoo_dataset("quickstart", overwrite=True)
    assert len(fresh) == 5
    assert server.requests == ["/mirror/quickstart.zip"] * 2


def test_quickstart_honours_zoo_dir_and_dataset_name(fo, foz, serve, tmp_path, monkeypatch):
    serve({"quickstart.zip": make_archive(n=3)})
    monkeypatch.setenv("FIFTYONE_DATASET_ZOO_DIR", str(tmp_path / "zoo"))
    with pytest.warns(UserWarning):
        ds = foz.load_zoo_dataset("quickstart", dataset_name="quickstart-copy")
    assert ds.name == "quickstart-copy" and len(ds) == 3
    assert not fo.dataset_exists("quickstart")
    assert ds.first().filepath.startswith(str(tmp_path / "zoo" / "quickstart" / "data"))

    # An explicit dataset_dir wins.
    info, d = foz.download_zoo_dataset("quickstart", dataset_dir=str(tmp_path / "elsewhere"))
    assert d == str(tmp_path / "elsewhere") and info["num_samples"] == 3
    assert (tmp_path / "elsewhere" / "data" / "000002.jpg").is_file()


def assert_no_quickstart(fo):
    assert not any(n.startswith("quickstart") for n in fo.list_datasets())


def test_quickstart_http_404_is_a_clear_error(fo, foz, serve):
    server = serve({})
    with pytest.raises(ConnectionError) as e:
        foz.load_zoo_dataset("quickstart")
    msg = str(e.value)
    assert server.url + "/mirror/quickstart.zip" in msg
    assert "HTTP 404" in msg and 'load_zoo_dataset("shapes")' in msg
    assert_no_quickstart(fo)


def test_quickstart_offline_is_a_clear_error(fo, foz, monkeypatch, tmp_path):
    url = "http://127.0.0.1:%d/zoo" % free_port()  # nothing listens there
    monkeypatch.setenv("FIFTYONE_CPP_DATASET_ZOO_URL", url)
    with pytest.raises(ConnectionError) as e:
        foz.load_zoo_dataset("quickstart")
    msg = str(e.value)
    assert url + "/quickstart.zip" in msg
    assert "offline" in msg and 'load_zoo_dataset("shapes")' in msg
    assert_no_quickstart(fo)
    # Nothing was received, so nothing is left on disk either.
    assert not (tmp_path / "home" / "fiftyone" / "quickstart").exists()


def test_quickstart_truncated_archive(fo, foz, serve, tmp_path):
    good = make_archive()
    server = serve({"quickstart.zip": good[: len(good) // 2]})
    with pytest.raises(ValueError, match="not a valid zip file"):
        foz.load_zoo_dataset("quickstart")
    assert_no_quickstart(fo)
    zoo_dir = tmp_path / "home" / "fiftyone" / "quickstart"
    assert not (zoo_dir / "info.json").exists()
    assert not (zoo_dir / "tmp-download").exists()  # archive deleted: the next call downloads again

    server.files["/mirror/quickstart.zip"] = good
    with pytest.warns(UserWarning):
        ds = foz.load_zoo_dataset("quickstart")
    assert len(ds) == 5 and len(server.requests) == 2


def test_quickstart_corrupted_archive(fo, foz, serve):
    # Stored (uncompressed) images, so that flipping bytes in the middle hits
    # member data and only the CRC check can notice.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("quickstart/samples.json", json.dumps({"samples": make_samples(1)}))
        zf.writestr("quickstart/data/000000.jpg", b"\xff" * 20000)
    data = bytearray(buf.getvalue())
    for i in range(10000, 10100):
        data[i] ^= 0x55
    serve({"quickstart.zip": bytes(data)})
    with pytest.raises(ValueError, match="not a valid zip file"):
        foz.load_zoo_dataset("quickstart")
    assert_no_quickstart(fo)


def test_quickstart_html_instead_of_zip(fo, foz, serve):
    serve({"quickstart.zip": b"<!DOCTYPE html><html><body>Quota exceeded</body></html>"})
    with pytest.raises(ValueError, match="web page"):
        foz.load_zoo_dataset("quickstart")
    assert_no_quickstart(fo)


def test_quickstart_rejects_path_traversal(fo, foz, serve, tmp_path):
    serve({"quickstart.zip": make_archive(extra_members=[("quickstart/../../evil.txt", b"x")])})
    with pytest.raises(ValueError, match="unsafe path"):
        foz.load_zoo_dataset("quickstart")
    assert_no_quickstart(fo)
    assert not list(tmp_path.rglob("evil.txt"))

    from fo._import import check_zip_member
    dest = str(tmp_path / "d")
    for bad in ["/etc/passwd", "../x", "a/../../x", "..\\x", "C:/x", "a/b/../../../x"]:
        with pytest.raises(ValueError):
            check_zip_member(bad, dest)
    for ok in ["a", "a/b.jpg", "quickstart/data/000001.jpg", "a/./b"]:
        check_zip_member(ok, dest)


def test_quickstart_archive_without_export(fo, foz, serve):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("quickstart/readme.txt", "no samples here")
    serve({"quickstart.zip": buf.getvalue()})
    with pytest.raises(ValueError, match="holds no samples.json"):
        foz.load_zoo_dataset("quickstart")
    assert_no_quickstart(fo)


def test_import_reads_python_style_non_finite_floats(fo, foz, tmp_path):
    # pymongo 3's json_util (older FiftyOne exports) wrote NaN as Python's json does.
    d = tmp_path / "export"
    (d / "data").mkdir(parents=True)
    samples = make_samples(3)
    for s in samples:
        del s["weather"]
    text = json.dumps({"samples": samples})
    text = text.replace('"uniqueness": 0.1', '"uniqueness": NaN')
    text = text.replace('"uniqueness": 0.2', '"uniqueness": -Infinity')
    text = text.replace('"label": "cat"', '"label": "NaN Infinity \\"NaN\\""')
    (d / "samples.json").write_text(text)
    ds = foz.import_fiftyone_dataset(str(d), "quickstart")
    assert ds.values("uniqueness") == [None, None, pytest.approx(0.3)]
    assert ds.values("ground_truth.detections.label") == [["bird"], ['NaN Infinity "NaN"'], ["dog"]]


def test_quickstart_not_downloaded_without_download(fo, foz):
    with pytest.raises(ValueError, match="not downloaded"):
        foz.load_zoo_dataset("quickstart", download_if_necessary=False)
    with pytest.raises(ValueError, match="not found in the zoo"):
        foz.load_zoo_dataset("coco-2017")
    with pytest.raises(ValueError, match="no splits"):
        foz.load_zoo_dataset("quickstart", split="train")


def test_import_fiftyone_dataset_errors_leave_nothing(fo, foz, tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    with pytest.raises(ValueError, match="no samples.json"):
        foz.import_fiftyone_dataset(str(d), "quickstart")
    (d / "samples.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        foz.import_fiftyone_dataset(str(d), "quickstart")
    samples = make_samples(2)
    samples[1]["ground_truth"]["detections"][0]["bounding_box"] = [10, 20, 30, 40]  # pixels, not relative
    (d / "samples.json").write_text(json.dumps({"samples": samples}))
    with pytest.raises(ValueError, match="bounding_box"):
        foz.import_fiftyone_dataset(str(d), "quickstart")
    samples[1]["uniqueness"] = "high"  # conflicts with the float of sample 0
    del samples[1]["ground_truth"]
    (d / "samples.json").write_text(json.dumps({"samples": samples}))
    with pytest.raises(ValueError, match="uniqueness"):
        foz.import_fiftyone_dataset(str(d), "quickstart")
    assert_no_quickstart(fo)
    (d / "metadata.json").write_text(json.dumps({"media_type": "video"}))
    with pytest.raises(ValueError, match="only image datasets"):
        foz.import_fiftyone_dataset(str(d), "quickstart")


def test_shapes_is_still_available(fo, foz, tmp_path):
    ds = foz.load_zoo_dataset("shapes", dataset_name="shapes-zoo-test", max_samples=3, seed=3)
    try:
        assert len(ds) == 3
        assert ds.first().filepath.startswith(str(tmp_path / "home" / "fiftyone" / "shapes-3"))
        assert isinstance(ds.first()["ground_truth"], fo.Detections)
    finally:
        fo.delete_dataset("shapes-zoo-test")


def test_download_file_binding(fo, tmp_path):
    from fo import _fo
    src = tmp_path / "src.bin"
    payload = os.urandom(5000)
    src.write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    dest = tmp_path / "out" / "dest.bin"
    _fo.download_file(src.as_uri(), str(dest), sha256=sha, size=len(payload), progress=False)
    assert dest.read_bytes() == payload
    assert not (tmp_path / "out" / "dest.bin.part").exists()
    with pytest.raises(RuntimeError, match="sha256 mismatch"):
        _fo.download_file(src.as_uri(), str(tmp_path / "bad.bin"), sha256="0" * 64, max_attempts=1)
    assert not (tmp_path / "bad.bin").exists()
    with pytest.raises(ConnectionError):
        _fo.download_file((tmp_path / "missing.bin").as_uri(), str(tmp_path / "m.bin"))

    info = _fo.zoo_model_info("clip-vit-base32-torch")
    assert info["name"] == "clip-vit-base32-torch" and info["dimension"] == 512
    assert [f["filename"] for f in info["files"]] == ["ViT-B-32.pt", "bpe_simple_vocab_16e6.txt.gz"]
    assert info["downloaded"] is False
    with pytest.raises(KeyError, match="known models"):
        _fo.zoo_model_info("nope")
    assert _fo.download_zoo_model("color-gradient-descriptor") == []  # built in: nothing to download
