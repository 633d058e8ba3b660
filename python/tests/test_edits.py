"""Edits that persist, with FiftyOne's names (issue #12, item 5).

Every edit is checked after reopening the store (``fo._fo._reset_store()``
then ``fo.load_dataset``), against expectations computed here in plain
Python from the samples as they were dumped before the edit.
"""

import numpy as np
import pytest


@pytest.fixture
def fo(store):
    import fo as fo_module
    return fo_module


def make_dataset(fo, name="d", n=8):
    samples = []
    for i in range(n):
        dets = [fo.Detection(label="a%d" % i, bounding_box=[0.1, 0.1, 0.2, 0.2]),
                fo.Detection(label="b%d" % i, bounding_box=[0.5, 0.5, 0.2, 0.2], confidence=0.9)]
        samples.append(fo.Sample(filepath="/img/%d.jpg" % i, tags=["odd" if i % 2 else "even"], n=i, name="s%d" % i,
                                 ground_truth=fo.Detections(detections=dets)))
    ds = fo.Dataset(name)
    ds.add_samples(samples)
    return ds


def reopened(fo, name="d"):
    """The dataset through a fresh store handle, as another process sees it."""
    fo._fo._reset_store()
    return fo.load_dataset(name)


def dump(ds):
    """Every sample as plain Python: id -> {filepath, tags, fields, labels}."""
    out = {}
    for s in ds:
        labels = [(d.id, d.label, tuple(d.bounding_box), d.confidence) for d in s["ground_truth"].detections] \
            if s.has_field("ground_truth") else None
        out[s.id] = {"filepath": s.filepath, "tags": list(s.tags), "n": s["n"] if s.has_field("n") else None,
                     "name": s["name"] if s.has_field("name") else None, "labels": labels}
    return out


# --- sample.save() ---

def test_sample_save_persists_field_and_tag_edits(fo):
    ds = make_dataset(fo)
    s = ds.first()
    s["x"] = 1.5
    s.n = 100
    s.set_field("name", "renamed")
    s.tags.append("new")
    s.tags.remove("even")
    s.tags += ["more"]
    dets = s["ground_truth"].detections
    dets[0].label = "edited"
    s["ground_truth"] = fo.Detections(detections=[dets[0], fo.Detection(label="added", bounding_box=[0, 0, 1, 1])])
    s.save()
    kept_id = dets[0].id

    got = reopened(fo)[s.id]
    assert got["x"] == 1.5 and got["n"] == 100 and got.name == "renamed"
    assert got.tags == ["new", "more"]
    assert [d.label for d in got["ground_truth"].detections] == ["edited", "added"]
    assert got["ground_truth"].detections[0].id == kept_id
    assert len(fo.load_dataset("d").match_tags("more")) == 1
    assert len(fo.load_dataset("d").match_tags("even")) == 3


def test_sample_tags_assignment_and_list_edits(fo):
    ds = make_dataset(fo)
    s = ds.last()
    s.tags = ["a", "b", "c"]
    s.tags.pop()
    s.tags[0] = "z"
    del s.tags[1]
    s.tags.extend(["y", "x"])
    s.tags.sort()
    expected = sorted(["z", "y", "x"])
    assert s.tags == expected
    s.save()
    assert reopened(fo)[s.id].tags == expected


def test_sample_save_errors(fo):
    ds = make_dataset(fo)
    loose = fo.Sample(filepath="/x.jpg")
    with pytest.raises(ValueError, match="has not been added to a dataset"):
        loose.save()
    s = ds.first()
    with pytest.raises(ValueError, match=r"sample\['brand_new'\] = value"):
        s.brand_new = 1
    s["n"] = "a string into an int field"
    s.tags.append("never-saved")
    with pytest.raises(ValueError, match="field 'n' holds int"):
        s.save()
    got = reopened(fo)[s.id]
    assert got["n"] == 0 and got.tags == ["even"]
    ds = fo.load_dataset("d")
    s = ds.first()
    ds.delete_samples([s.id])
    with pytest.raises(KeyError):
        s.save()


# --- set_values ---

def test_set_values_in_view_order(fo):
    ds = make_dataset(fo)
    view = ds.take(5, seed=3)
    ids = view.values("id")
    values = [i * 0.5 if i != 1 else None for i in range(5)]
    view.set_values("score", values)
    view.set_values("flag", [i % 2 == 0 for i in range(5)])
    emb = np.arange(10, dtype=np.float32).reshape(5, 2)
    view.set_values("emb", emb)

    again = reopened(fo)
    for i, sid in enumerate(ids):
        s = again[sid]
        assert (s["score"] if s.has_field("score") else None) == values[i]
        assert s["flag"] is (i % 2 == 0)
        np.testing.assert_array_equal(s["emb"], emb[i])
    others = set(again.values("id")) - set(ids)
    assert all(not again[sid].has_field("score") for sid in others)
    assert again.get_field_schema()["score"] == "float"


def test_set_values_of_label_attributes(fo):
    ds = make_dataset(fo)
    before = dump(ds)
    view = ds.skip(2).limit(3)
    ids = view.values("id")
    labels = [["x%d" % i, "y%d" % i] for i in range(3)]
    view.set_values("ground_truth.detections.label", labels)
    view.set_values("ground_truth.detections.iscrowd", [[True, False]] * 3)
    view.set_values("ground_truth.detections.confidence", [[0.25, None]] * 3)

    again = reopened(fo)
    for i, sid in enumerate(ids):
        dets = again[sid]["ground_truth"].detections
        assert [d.label for d in dets] == labels[i]
        assert [d["iscrowd"] for d in dets] == [True, False]
        assert [d.confidence for d in dets] == [0.25, None]
        assert [d.id for d in dets] == [lab[0] for lab in before[sid]["labels"]]
    assert again.values("ground_truth.detections.label")[0] == [lab[1] for lab in before[again.first().id]["labels"]]


def test_set_values_tags(fo):
    ds = make_dataset(fo)
    ids = ds.values("id")
    ds.set_values("tags", [["t%d" % (i % 3)] for i in range(len(ids))])
    again = reopened(fo)
    expected = [sid for i, sid in enumerate(ids) if i % 3 == 1]
    assert again.match_tags("t1").values("id") == expected
    assert len(again.match_tags(["even", "odd"])) == 0


def test_set_values_bad_input_writes_nothing(fo):
    ds = make_dataset(fo)
    before = dump(ds)
    with pytest.raises(ValueError, match="got 2 values for a view of 8 samples"):
        ds.set_values("score", [1, 2])
    with pytest.raises(ValueError, match=r"values\[1\] is of type string"):
        ds.set_values("score", [1, "2"] + [3] * 6)
    with pytest.raises(ValueError, match="field 'n' holds int"):
        ds.set_values("n", ["x"] * 8)
    with pytest.raises(ValueError, match="has 1 values but its sample has 2 detections"):
        ds.set_values("ground_truth.detections.label", [["only one"]] + [["a", "b"]] * 7)
    with pytest.raises(ValueError, match="built-in"):
        ds.set_values("filepath", ["/x"] * 8)
    with pytest.raises(ValueError, match="list"):
        ds.set_values("score", "not a list")
    assert dump(reopened(fo)) == before
    assert "score" not in fo.load_dataset("d").get_field_schema()


# --- tags ---

def test_tag_and_untag_samples(fo):
    ds = make_dataset(fo)
    before = dump(ds)
    view = ds.match_tags("even").limit(3)
    chosen = view.values("id")
    view.tag_samples(["sel", "z"])
    ds.limit(1).tag_samples("z")  # already there: no repeat
    expected = {sid: before[sid]["tags"] + (["sel", "z"] if sid in chosen else []) for sid in before}
    again = reopened(fo)
    assert {s.id: s.tags for s in again} == expected
    assert again.match_tags("sel").values("id") == chosen

    again.skip(2).untag_samples(["sel", "absent"])
    keep = [sid for sid in again.values("id")[:2] if sid in chosen]
    assert reopened(fo).match_tags("sel").values("id") == keep


def test_tag_and_untag_labels(fo):
    ds = make_dataset(fo)
    ds.limit(2).tag_labels("check")
    ds.limit(1).tag_labels(["check", "twice"], label_fields="ground_truth")
    again = reopened(fo)
    ids = again.values("id")
    assert [d.tags for d in again[ids[0]]["ground_truth"].detections] == [["check", "twice"]] * 2
    assert [d.tags for d in again[ids[1]]["ground_truth"].detections] == [["check"]] * 2
    assert [d.tags for d in again[ids[2]]["ground_truth"].detections] == [[], []]
    again.untag_labels("check")
    assert [d.tags for d in reopened(fo)[ids[0]]["ground_truth"].detections] == [["twice"]] * 2
    with pytest.raises(ValueError, match="not a Detections field"):
        fo.load_dataset("d").tag_labels("x", label_fields=["n"])


# --- fields ---

def test_add_delete_rename_sample_fields(fo):
    ds = make_dataset(fo)
    before = dump(ds)
    ds.add_sample_field("count", fo.IntField)
    ds.add_sample_field("boxes2", fo.EmbeddedDocumentField, embedded_doc_type=fo.Detections)
    ds.add_sample_field("count", fo.IntField)  # the same again: nothing to do
    with pytest.raises(ValueError, match="already exists"):
        ds.add_sample_field("count", fo.StringField)
    with pytest.raises(ValueError, match="unsupported field type"):
        ds.add_sample_field("x", int)
    with pytest.raises(ValueError, match="count"):
        ds.set_values("count", ["many"] * 8)
    ds.rename_sample_field("name", "title")
    ds.rename_sample_field("ground_truth", "gt")
    ds.delete_sample_field("n")
    with pytest.raises(KeyError):
        ds.delete_sample_field("n")
    with pytest.raises(ValueError, match="built-in"):
        ds.rename_sample_field("filepath", "path")

    again = reopened(fo)
    schema = again.get_field_schema()
    assert schema["count"] == "int" and schema["title"] == "string" and schema["gt"] == "detections"
    assert schema["boxes2"] == "detections"
    assert "n" not in schema and "name" not in schema and "ground_truth" not in schema
    for s in again:
        assert s.title == before[s.id]["name"]
        assert not s.has_field("n")
        assert [d.id for d in s["gt"].detections] == [lab[0] for lab in before[s.id]["labels"]]


# --- clone ---

def test_clone_dataset_and_view(fo):
    ds = make_dataset(fo)
    before = dump(ds)
    view = ds.match_tags("odd").take(3, seed=5)
    order = view.values("id")
    copy = view.clone("copy")
    whole = ds.clone()
    assert whole.name != ds.name
    with pytest.raises(ValueError, match="already exists"):
        view.clone("copy")

    fo._fo._reset_store()
    copy = fo.load_dataset("copy")
    got = list(copy)
    assert len(got) == len(order)
    for s, sid in zip(got, order):
        want = before[sid]
        assert s.id != sid
        assert (s.filepath, s.tags, s["n"], s["name"]) == (want["filepath"], want["tags"], want["n"], want["name"])
        labels = [(d.label, tuple(d.bounding_box), d.confidence) for d in s["ground_truth"].detections]
        assert labels == [lab[1:] for lab in want["labels"]]
        assert all(d.id not in {lab[0] for lab in want["labels"]} for d in s["ground_truth"].detections)
    assert copy.get_field_schema() == fo.load_dataset("d").get_field_schema()
    assert len(fo.load_dataset(whole.name)) == len(before)
    copy.tag_samples("only-in-copy")
    assert len(fo.load_dataset("d").match_tags("only-in-copy")) == 0
    assert dump(fo.load_dataset("d")) == before


# --- compute_metadata ---

def clip_images():
    """The CLIP fixture images with PIL's sizes and modes (reference.json)
    and their sizes on disk."""
    import json
    import os
    from conftest import SHARED
    ref = json.loads((SHARED / "clip" / "reference.json").read_text())
    bands = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
    out = []
    for im in ref["images"]:
        path = str(SHARED / "clip" / im["file"])
        mime = "image/png" if path.endswith(".png") else "image/jpeg"
        out.append((path, dict(size_bytes=os.stat(path).st_size, mime_type=mime, width=im["width"],
                               height=im["height"], num_channels=bands[im["pil_mode"]])))
    return out


def test_compute_metadata(fo, tmp_path):
    images = clip_images()
    ds = fo.Dataset("images")
    ds.add_samples([fo.Sample(filepath=p) for p, _ in images] + [fo.Sample(filepath=str(tmp_path / "gone.png"))])
    ids = ds.values("id")
    assert ds.first().metadata is None

    with pytest.raises(ValueError, match="gone.png"):
        ds.compute_metadata(skip_failures=False)
    assert reopened(fo, "images").first().metadata is None  # nothing written

    with pytest.warns(UserWarning, match="gone.png"):
        fo.load_dataset("images").compute_metadata(num_workers=2, warn_failures=True)
    again = reopened(fo, "images")
    for sid, (path, want) in zip(ids, images):
        m = again[sid].metadata
        assert isinstance(m, fo.ImageMetadata)
        assert {k: getattr(m, k) for k in want} == want, path
    assert again[ids[-1]].metadata is None
    assert again.values("metadata.size_bytes")[:len(images)] == [w["size_bytes"] for _, w in images]

    # Complete metadata is kept unless overwrite=True.
    s = again[ids[0]]
    s.metadata = fo.ImageMetadata(size_bytes=1, mime_type="x/y", width=2, height=3, num_channels=4)
    s.save()
    again.limit(1).compute_metadata()
    assert reopened(fo, "images")[ids[0]].metadata.width == 2
    fo.load_dataset("images").limit(1).compute_metadata(overwrite=True)
    assert reopened(fo, "images")[ids[0]].metadata == fo.ImageMetadata(**images[0][1])
    with pytest.raises(ValueError, match="num_workers"):
        fo.load_dataset("images").compute_metadata(num_workers=0)
