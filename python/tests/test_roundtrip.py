"""Round trips: the CLI and Python on one store, and numpy arrays of every
supported dtype and memory order in and out (bad ones rejected clearly)."""

import json
import os
import subprocess

import numpy as np
import pytest


def run_cli(fo_cli, *args):
    out = subprocess.run([fo_cli, *args], capture_output=True, text=True, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    return out.stdout


def sorted_ids_cli(fo_cli, dataset, key, query, k):
    rows = json.loads(run_cli(fo_cli, "brain", "sort-by-similarity", dataset, "--brain-key", key, "--query", query,
                              "-k", str(k), "--json"))
    return [r["id"] for r in rows], [r["distance"] for r in rows]


def test_a_run_made_by_the_cli_is_usable_from_python(store, fo_cli):
    import fo
    from fo import _fo
    _fo.generate_shapes(str(store / "images"), num_images=12, seed=3, width=96, height=64)
    run_cli(fo_cli, "datasets", "create", "from-cli", "--images", str(store / "images"))
    run_cli(fo_cli, "brain", "compute-similarity", "from-cli", "--brain-key", "cli_run")

    dataset = fo.load_dataset("from-cli")
    assert "from-cli" in fo.list_datasets() and len(dataset) == 12
    assert dataset.list_brain_runs() == ["cli_run"]
    assert dataset.get_brain_info("cli_run").config.model == "color-gradient-descriptor"
    query = dataset.first().id
    view = dataset.sort_by_similarity(query, k=5, brain_key="cli_run", dist_field="dist")
    ids, dists = sorted_ids_cli(fo_cli, "from-cli", "cli_run", query, 5)
    assert view.values("id") == ids
    np.testing.assert_allclose(view.values("dist"), dists, atol=1e-6)

    # Changes made from Python are seen by the CLI.
    dataset.rename_brain_run("cli_run", "renamed")
    assert json.loads(run_cli(fo_cli, "brain", "list", "from-cli", "--json")) == ["renamed"]


def test_a_run_made_from_python_is_usable_from_the_cli(store, fo_cli):
    import fo
    import fo.brain as fob
    dataset = fo.Dataset("from-python")
    ids = dataset.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(30)])
    embeddings = np.random.default_rng(5).normal(size=(30, 16))
    fob.compute_similarity(dataset, embeddings=embeddings, brain_key="py_run", metric="euclidean")

    assert json.loads(run_cli(fo_cli, "brain", "list", "from-python", "--json")) == ["py_run"]
    cli_ids, cli_dists = sorted_ids_cli(fo_cli, "from-python", "py_run", ids[7], 6)
    view = dataset.sort_by_similarity(ids[7], k=6, brain_key="py_run")
    assert view.values("id") == cli_ids
    d = np.linalg.norm(embeddings - embeddings[7], axis=1)
    np.testing.assert_allclose(cli_dists, np.sort(d)[:6], atol=1e-4)

    # Deleted from the CLI: gone for Python (which reads the store on each call).
    run_cli(fo_cli, "brain", "delete", "from-python", "py_run")
    assert not dataset.has_brain_run("py_run")


@pytest.fixture
def empty_index(store):
    import fo
    import fo.brain as fob
    dataset = fo.Dataset("arrays")
    ids = dataset.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(8)])
    return dataset, ids, fob.compute_similarity(dataset, embeddings=False, brain_key="arrays", metric="euclidean")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_arrays_in_and_out(empty_index, dtype, order):
    dataset, ids, index = empty_index
    base = np.random.default_rng(1).normal(size=(8, 5))
    embeddings = np.asarray(base, dtype=dtype, order=order)
    assert embeddings.flags[order + "_CONTIGUOUS"]
    index.add_to_index(embeddings, ids)
    got, got_ids, label_ids = index.get_embeddings(sample_ids=ids)
    assert got.dtype == np.float32 and got.shape == (8, 5) and got.flags["C_CONTIGUOUS"]
    assert list(got_ids) == ids and label_ids is None
    np.testing.assert_allclose(got, base.astype(np.float32), rtol=1e-6)
    # A strided view (every other row) and a 1-D query vector of either dtype.
    index.add_to_index(embeddings[::2] * 2, ids[::2])
    np.testing.assert_allclose(index.get_embeddings(sample_ids=ids[:1])[0][0], 2 * base[0], rtol=1e-6)
    query = np.asarray(base[3], dtype=dtype)  # row 3 was not replaced
    assert dataset.sort_by_similarity(query, k=1, brain_key="arrays").first().id == ids[3]


def test_integer_arrays_are_converted(empty_index):
    dataset, ids, index = empty_index
    index.add_to_index(np.arange(16, dtype=np.int64).reshape(8, 2), ids)
    np.testing.assert_array_equal(index.get_embeddings(sample_ids=ids[1:2])[0], [[2, 3]])


@pytest.mark.parametrize("bad, message", [
    (np.zeros((8,)), "2-D array of shape \\(n, d\\)"),
    (np.zeros((8, 2, 2)), "got an array with 3 dimensions"),
    (np.zeros((8, 4), dtype=np.complex64), "float32 or float64, got dtype complex64"),
    (np.array([["a", "b"]] * 8), "float32 or float64, got dtype <U1"),
    (np.zeros((8, 4), dtype=bool), "float32 or float64, got dtype bool"),
    ("not an array", "float32 or float64"),
    (np.zeros((7, 4)), "got 7 embeddings but 8 sample ids"),
    (np.full((8, 4), np.nan), "NaN or Inf"),
])
def test_bad_arrays_are_clear_errors(empty_index, bad, message):
    dataset, ids, index = empty_index
    with pytest.raises(ValueError, match=message):
        index.add_to_index(bad, ids)
    assert index.total_index_size == 0  # nothing half-written


def test_wrong_dimension_and_query_shapes(empty_index):
    dataset, ids, index = empty_index
    index.add_to_index(np.ones((8, 4), dtype=np.float32), ids)
    with pytest.raises(ValueError, match="dimension 3 but index 'arrays' has dimension 4"):
        index.add_to_index(np.ones((1, 3)), ids[:1])
    with pytest.raises(ValueError, match="dimension"):
        dataset.sort_by_similarity(np.ones(3), k=2, brain_key="arrays")
    with pytest.raises(ValueError, match="3 dimensions"):
        dataset.sort_by_similarity(np.ones((1, 1, 4)), k=2, brain_key="arrays")


def test_compute_similarity_rejects_misaligned_embeddings(store):
    import fo
    import fo.brain as fob
    dataset = fo.Dataset("misaligned")
    dataset.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(4)])
    with pytest.raises(ValueError, match="got 3 embeddings but 4 ids"):
        fob.compute_similarity(dataset, embeddings=np.ones((3, 2)), brain_key="x")
    assert not dataset.has_brain_run("x")


def test_arrays_out_own_their_memory_safely(empty_index):
    """Arrays returned without a copy stay valid after the index is gone."""
    dataset, ids, index = empty_index
    index.add_to_index(np.eye(8, dtype=np.float32), ids)
    got = index.get_embeddings(sample_ids=ids)[0]
    assert not got.flags["OWNDATA"]  # the C++ buffer, not a copy
    del index
    import gc
    gc.collect()
    np.testing.assert_array_equal(got, np.eye(8, dtype=np.float32))
