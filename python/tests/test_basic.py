"""Basic tests of the fo Python package (run in-tree: PYTHONPATH=<build>/python)."""

import numpy as np
import pytest


@pytest.fixture
def fo(tmp_path, monkeypatch):
    # The store is opened lazily on first use, so these take effect even if
    # another test already imported the package.
    monkeypatch.setenv("FO_DATABASE_PATH", str(tmp_path / "fo.db"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FIFTYONE_BRAIN_CONFIG_PATH", str(tmp_path / "brain_config.json"))
    import fo as fo_module
    return fo_module


_COUNTER = [0]


@pytest.fixture
def dataset(fo, tmp_path):
    from fo import _fo
    samples = _fo.generate_shapes(str(tmp_path / "images"), num_images=20, seed=7, width=96, height=64)
    _COUNTER[0] += 1
    ds = fo.Dataset("shapes-test-%d" % _COUNTER[0])
    ds.add_samples(samples)
    return ds


def brute_force(emb, ids, q):
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q)
    d = 1.0 - e @ qn
    order = np.argsort(d, kind="stable")
    return [ids[i] for i in order], d[order]


def test_dataset_basics(fo, dataset):
    assert len(dataset) == 20
    ids = dataset.values("id")
    assert len(ids) == 20 and ids[0] == dataset.first().id and ids[-1] == dataset.last().id
    assert dataset.name in fo.list_datasets()
    assert len(dataset.take(5, seed=1)) == 5
    assert dataset.limit(3).values("id") == ids[:3]
    assert dataset.skip(18).values("id") == ids[18:]
    assert dataset.select(ids[2:4]).values("id") == ids[2:4]
    assert len(dataset.exclude(ids[:5])) == 15
    assert [s.id for s in dataset.limit(4)] == ids[:4]
    assert isinstance(dataset.first()["ground_truth"], fo.Detections)
    same = fo.load_dataset(dataset.name)
    assert len(same) == 20


def test_sample_fields_and_delete(fo, dataset):
    s = fo.Sample(filepath="/tmp/x.jpg", n=3, score=0.5, ok=True, name="a", vec=np.arange(4, dtype=np.float32),
                  ground_truth=fo.Detections(detections=[fo.Detection(label="cat", bounding_box=[0.1, 0.1, 0.5, 0.5],
                                                                      confidence=0.9)]))
    ids = dataset.add_samples([s])
    assert s.id == ids[0]
    got = dataset[ids[0]]
    assert got["n"] == 3 and got["score"] == 0.5 and got["ok"] is True and got.name == "a"
    np.testing.assert_array_equal(got["vec"], np.arange(4, dtype=np.float32))
    assert got["ground_truth"].detections[0].label == "cat"
    assert got.filepath == "/tmp/x.jpg"
    dataset.delete_samples(ids)
    assert len(dataset) == 20
    with pytest.raises(KeyError):
        dataset[ids[0]]


def test_similarity_numpy_embeddings(fo, dataset):
    import fo.brain as fob
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((20, 8))  # float64, converted
    ids = dataset.values("id")
    index = fob.compute_similarity(dataset, embeddings=emb, brain_key="np_sim")
    assert index.total_index_size == 20
    assert dataset.list_brain_runs(type=fob.Similarity) == ["np_sim"]
    assert dataset.has_brain_run("np_sim")
    assert dataset.get_brain_info("np_sim").config.metric == "cosine"

    # by id
    view = dataset.sort_by_similarity(ids[3], k=5, brain_key="np_sim")
    expected, _ = brute_force(emb, ids, emb[3])
    assert view.values("id") == expected[:5]
    # by vector (1-D and 2-D, Fortran order)
    q = rng.standard_normal(8)
    expected, dists = brute_force(emb, ids, q)
    view = dataset.sort_by_similarity(q, k=6, brain_key="np_sim", dist_field="dist")
    assert view.values("id") == expected[:6]
    np.testing.assert_allclose(view.values("dist"), dists[:6], atol=1e-5)
    view2 = dataset.sort_by_similarity(np.asfortranarray(q[None, :]), k=6, brain_key="np_sim")
    assert view2.values("id") == expected[:6]
    # by several ids: their mean vector
    view = dataset.sort_by_similarity([ids[0], ids[1]], k=4, brain_key="np_sim")
    mean = emb[[0, 1]].astype(np.float32).mean(axis=0)
    expected, _ = brute_force(emb, ids, mean)
    assert view.values("id") == expected[:4]

    # get_embeddings
    e, got_ids, _ = index.get_embeddings()
    assert e.shape == (20, 8) and e.dtype == np.float32 and e.flags["OWNDATA"] is False
    assert sorted(got_ids) == sorted(ids)
    e2, ids2, _ = index.get_embeddings(sample_ids=ids[:3])
    assert e2.shape == (3, 8)
    np.testing.assert_allclose(e2[list(ids2).index(ids[0])], emb[0].astype(np.float32), rtol=1e-6)

    # remove / add
    index.remove_from_index(sample_ids=ids[:10])
    assert index.total_index_size == 10
    index.add_to_index(emb[:10].astype(np.float32), ids[:10])
    assert index.total_index_size == 20

    # errors
    with pytest.raises(ValueError, match="2-D"):
        index.add_to_index(np.zeros((2, 2, 2)), ids[:2])
    with pytest.raises(ValueError, match="dtype"):
        index.add_to_index(np.array([["a", "b"]]), ids[:1])
    with pytest.raises(ValueError):
        index.add_to_index(np.zeros((1, 3), dtype=np.float32), ids[:1])  # wrong dimension
    with pytest.raises(KeyError):
        dataset.load_brain_results("no_such_key")
    with pytest.raises(KeyError):
        dataset.get_brain_info("no_such_key")
    with pytest.raises(ValueError):
        fob.compute_similarity(dataset, embeddings=emb[:5], brain_key="bad")

    dataset.rename_brain_run("np_sim", "np_sim2")
    loaded = dataset.load_brain_results("np_sim2")
    assert loaded.total_index_size == 20
    dataset.delete_brain_run("np_sim2")
    assert dataset.list_brain_runs() == []


def test_similarity_builtin_model(fo, dataset):
    import fo.brain as fob
    index = fob.compute_similarity(dataset, brain_key="img_sim")
    assert index.total_index_size == 20
    emb, ids, _ = index.get_embeddings()
    assert emb.shape[0] == 20
    view = dataset.sort_by_similarity(ids[0], k=3)
    got = view.values("id")
    assert got[0] == ids[0]
    expected, _ = brute_force(emb.astype(np.float64), ids, emb[0].astype(np.float64))
    assert got == expected[:3]
    dataset.delete_brain_runs()
    assert not dataset.has_brain_run("img_sim")


def test_empty_index_then_add(fo, dataset):
    import fo.brain as fob
    index = fob.compute_similarity(dataset, embeddings=False, brain_key="later")
    assert index.total_index_size == 0
    ids = dataset.values("id")
    index.add_to_index(np.ones((20, 4), dtype=np.float32) + np.eye(20, 4, dtype=np.float32), ids)
    assert index.total_index_size == 20
