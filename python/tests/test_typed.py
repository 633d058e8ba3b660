"""Typed objects (issue #12, item 7): run info and configs, dataset and view
summaries, and the Qdrant client's models, each compared with what FiftyOne
and qdrant-client give, built here independently (Python's json and reprlib,
the dataset's known contents, the raw REST JSON of the test server)."""

import datetime
import json
import os
import reprlib
import subprocess
import urllib.request
import uuid

import numpy as np
import pytest

# FiftyOne's printed field types (str() of its Field objects).
FOF = "fiftyone.core.fields."
BUILTIN_FIELDS = [
    ("id", FOF + "ObjectIdField"),
    ("filepath", FOF + "StringField"),
    ("tags", FOF + "ListField(%sStringField)" % FOF),
    ("metadata", FOF + "EmbeddedDocumentField(fiftyone.core.metadata.ImageMetadata)"),
]


def fiftyone_stage_repr():
    """fiftyone/core/stages.py's _repr: reprlib with its limits."""
    r = reprlib.Repr()
    r.maxlevel, r.maxdict, r.maxlist, r.maxtuple, r.maxset = 2, 3, 3, 3, 3
    r.maxstring = r.maxother = 30
    return r


def fields_block(fields):
    width = max(len(name) for name, _ in fields) + 1
    return ["    %s %s" % ((name + ":").ljust(width), type_) for name, type_ in fields]


def justified(elements):
    width = max(len(h) for h, _ in elements)
    return ["%s %s" % (h.ljust(width), v) for h, v in elements]


@pytest.fixture
def fo(store):
    import fo as fo_module
    return fo_module


@pytest.fixture
def samples(fo):
    """Known contents: 6 samples, tags, three typed fields, detections."""
    out = []
    for i in range(6):
        out.append(fo.Sample(filepath="/images/%d.jpg" % i, tags=["a"] if i % 2 == 0 else ["b"],
                             count=i, score=i / 4, name="n%d" % i,
                             gt=fo.Detections(detections=[fo.Detection(label="cat",
                                                                       bounding_box=[0.1, 0.1, 0.2, 0.2])])))
    return out


@pytest.fixture
def dataset(fo, samples):
    ds = fo.Dataset("typed")
    ds.add_samples(samples)
    return ds


CUSTOM_FIELDS = [("count", FOF + "IntField"), ("gt", FOF + "EmbeddedDocumentField(fiftyone.core.labels.Detections)"),
                 ("name", FOF + "StringField"), ("score", FOF + "FloatField")]


def expected_dataset_summary(name, count):
    lines = justified([("Name:", name), ("Media type:", "image"), ("Num samples:", count), ("Persistent:", True),
                       ("Tags:", [])])
    return "\n".join(lines + ["Sample fields:"] + fields_block(BUILTIN_FIELDS + CUSTOM_FIELDS))


def expected_view_summary(name, count, stages):
    lines = justified([("Dataset:", name), ("Media type:", "image"), ("Num samples:", count)])
    lines += ["Sample fields:"] + fields_block(BUILTIN_FIELDS + CUSTOM_FIELDS) + ["View stages:"]
    lines += ["    %d. %s" % (i, s) for i, s in enumerate(stages, 1)] if stages else ["    ---"]
    return "\n".join(lines)


# --- dataset and view summaries ---------------------------------------------

def test_dataset_prints_fiftyone_summary(dataset, samples, fo_cli):
    expected = expected_dataset_summary("typed", len(samples))
    assert str(dataset) == expected
    assert repr(dataset) == expected
    assert dataset.summary() == expected
    assert dataset.media_type == "image" and dataset.persistent is True
    # the CLI prints the same text through the same formatter
    out = subprocess.run([fo_cli, "datasets", "info", "typed"], capture_output=True, text=True, check=True).stdout
    assert out == expected + "\n"


def test_persistent_cannot_be_turned_off(dataset):
    dataset.persistent = True
    with pytest.raises(ValueError, match="always persistent"):
        dataset.persistent = False


def test_view_prints_fiftyone_summary(dataset, samples):
    r = fiftyone_stage_repr()
    tagged = [s for s in samples if "a" in s.tags]
    view = dataset.match_tags(["a"]).limit(2)
    stages = ["MatchTags(tags=%s, bool=True, all=False)" % r.repr(["a"]), "Limit(limit=2)"]
    assert str(view) == expected_view_summary("typed", min(2, len(tagged)), stages)
    assert repr(view) == view.summary() == str(view)
    assert str(dataset.view()) == expected_view_summary("typed", len(samples), [])


def test_view_stages_shortened_as_fiftyone(dataset, samples):
    r = fiftyone_stage_repr()
    ids = dataset.values("id")
    long_tag = "a-tag-" + "x" * 40 + "-end"
    quoted = "it's"
    view = (dataset.select(ids[:4]).exclude(ids[:1]).match_tags([long_tag, quoted, "a", "b"], all=True)
            .skip(1).take(2, seed=5))
    stages = ["Select(sample_ids=%s, ordered=False)" % r.repr(ids[:4]),
              "Exclude(sample_ids=%s)" % r.repr(ids[:1]),
              "MatchTags(tags=%s, bool=True, all=True)" % r.repr([long_tag, quoted, "a", "b"]),
              "Skip(skip=1)",
              "Take(size=2, seed=5)"]
    assert str(view).split("View stages:\n")[1] == "\n".join("    %d. %s" % (i, s) for i, s in enumerate(stages, 1))


def test_sort_by_similarity_stage(dataset, fo):
    import fo.brain as fob
    rng = np.random.default_rng(3)
    emb = rng.random((len(dataset), 5)).astype(np.float32)
    fob.compute_similarity(dataset, embeddings=emb, brain_key="sim")
    r = fiftyone_stage_repr()
    query = np.array([1e-05, 0.5, 3.0, 1e16, 2.5], dtype=np.float32)
    first = dataset.first().id
    by_vector = dataset.sort_by_similarity(query, k=3, brain_key="sim")
    by_id = dataset.sort_by_similarity(first, k=2, reverse=False, dist_field="d", brain_key="sim")
    assert str(by_vector).endswith("    1. SortBySimilarity(query=%s, k=3, reverse=False, dist_field=None, brain_key='sim')"
                                   % r.repr(query.tolist()))
    assert str(by_id).endswith("    1. SortBySimilarity(query=%s, k=2, reverse=False, dist_field='d', brain_key='sim')"
                               % r.repr(first))
    assert "Num samples: 3\n" in str(by_vector)


# --- run info and configs ----------------------------------------------------

SIMILARITY_FIELDS = [("embeddings_field", None), ("model", None), ("model_kwargs", None), ("patches_field", None),
                     ("roi_field", None), ("supports_prompts", None)]


def expected_config(cls, method, backend_fields):
    return dict([("cls", "fo.run_info." + cls), ("type", "similarity"), ("method", method)] + SIMILARITY_FIELDS
                + backend_fields)


def pretty(d):
    # eta's json_to_str: indent 4, ": " separators, no ASCII escaping
    return json.dumps(d, indent=4, separators=(",", ": "), ensure_ascii=False)


def test_brain_info_is_a_fiftyone_run_info(dataset, fo):
    import fo.brain as fob
    before = datetime.datetime.utcnow().replace(microsecond=0)
    emb = np.random.default_rng(1).random((len(dataset), 4)).astype(np.float32)
    index = fob.compute_similarity(dataset, embeddings=emb, brain_key="euc", metric="euclidean")
    after = datetime.datetime.utcnow()
    info = dataset.get_brain_info("euc")

    assert info.key == "euc" and info.version == fo.__version__
    assert isinstance(info.timestamp, datetime.datetime) and info.timestamp.tzinfo is None
    assert before <= info.timestamp <= after
    assert info.config.metric == "euclidean" and info.config.method == "sklearn"
    assert info.config.type == "similarity" and info.config.patches_field is None
    with pytest.raises(TypeError):
        info["key"]  # FiftyOne's RunInfo is not a mapping either

    config = expected_config("SklearnSimilarityConfig", "sklearn", [("metric", "euclidean")])
    expected = pretty({"key": "euc", "version": fo.__version__, "timestamp": info.timestamp.isoformat(),
                       "config": config})
    assert str(info) == expected and repr(info) == expected
    assert str(index.config) == pretty(config)
    assert index.config.metric == "euclidean" and index.config.cls == "fo.run_info.SklearnSimilarityConfig"


def test_cli_prints_brain_info_as_python(dataset, fo, fo_cli):
    import fo.brain as fob
    emb = np.random.default_rng(5).random((len(dataset), 3)).astype(np.float32)
    fob.compute_similarity(dataset, embeddings=emb, brain_key="shown")
    out = subprocess.run([fo_cli, "brain", "info", "typed", "shown"], capture_output=True, text=True, check=True).stdout
    assert out == str(dataset.get_brain_info("shown")) + "\n"


def test_run_config_records_patches(dataset, samples, fo):
    import fo.brain as fob
    n = sum(len(s.gt.detections) for s in samples)
    emb = np.random.default_rng(2).random((n, 3)).astype(np.float32)
    fob.compute_similarity(dataset, embeddings=emb, patches_field="gt", brain_key="patches")
    config = dataset.get_brain_info("patches").config
    assert config.patches_field == "gt" and config.embeddings_field is None
    assert config.serialize()["patches_field"] == "gt"


def qdrant_get(url, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["api-key"] = key
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["result"]


@pytest.fixture
def qdrant_index(dataset, qdrant_server):
    import fo.brain as fob
    url, key = qdrant_server
    name = "typed-" + uuid.uuid4().hex[:8]
    emb = np.random.default_rng(4).random((len(dataset), 6)).astype(np.float32)
    index = fob.compute_similarity(dataset, embeddings=emb, backend="qdrant", brain_key="qdr", url=url, api_key=key,
                                   collection_name=name, metric="dotproduct")
    yield index, name, url, key, emb
    qdrant_get(url, key, "DELETE", "/collections/" + name)


def test_qdrant_run_info(dataset, fo, qdrant_index):
    index, name, url, key, _ = qdrant_index
    info = dataset.get_brain_info("qdr")
    assert info.config.collection_name == name and info.config.metric == "dotproduct"
    assert info.config.method == "qdrant" and info.config.url is None  # connections are never stored
    config = expected_config("QdrantSimilarityConfig", "qdrant",
                             [("collection_name", name), ("metric", "dotproduct"), ("replication_factor", None),
                              ("shard_number", None), ("write_consistency_factor", None), ("hnsw_config", None),
                              ("optimizers_config", None), ("wal_config", None)])
    assert str(info.config) == pretty(config)
    assert str(index.config) == pretty(config)
    assert index.config.url == url  # held, as FiftyOne's private _url, but not printed
    if key:
        assert key not in str(info) and key not in str(index.config)


# --- the Qdrant client's models ----------------------------------------------

def assert_same(model, raw, path="result"):
    """Every key of the REST JSON is reachable on the model under the same
    name, with an equal value (str enums compare equal to their values)."""
    from fo.qdrant_models import BaseModel
    if isinstance(raw, dict) and isinstance(model, BaseModel):
        for k, v in raw.items():
            assert hasattr(model, k), "%s.%s is missing" % (path, k)
            assert_same(getattr(model, k), v, path + "." + k)
    elif isinstance(raw, list) and isinstance(model, list):
        assert len(model) == len(raw), path
        for i, (m, v) in enumerate(zip(model, raw)):
            assert_same(m, v, "%s[%d]" % (path, i))
    else:
        assert model == raw, "%s: %r != %r" % (path, model, raw)


def test_qdrant_client_collection_info(qdrant_index):
    from fo.qdrant_models import CollectionStatus, Distance
    index, name, url, key, emb = qdrant_index
    client = index.client
    info = client.get_collection(name)
    raw = qdrant_get(url, key, "GET", "/collections/" + name)
    assert_same(info, raw)
    assert info.points_count == raw["points_count"] == len(emb)
    assert isinstance(info.status, CollectionStatus) and info.status == raw["status"]
    assert info.config.params.vectors.size == raw["config"]["params"]["vectors"]["size"] == emb.shape[1]
    assert isinstance(info.config.params.vectors.distance, Distance)
    assert info.config.params.vectors.distance == raw["config"]["params"]["vectors"]["distance"] == "Dot"
    assert info.update_queue is None or "update_queue" in raw  # absent fields are None, as in pydantic
    assert client.count(name).count == qdrant_get(url, key, "POST", "/collections/%s/points/count" % name,
                                                  {"exact": True})["count"]
    assert name in [c.name for c in client.get_collections().collections]


def test_qdrant_client_records_and_scored_points(qdrant_index):
    from fo.qdrant_models import Record, ScoredPoint, QueryResponse
    index, name, url, key, emb = qdrant_index
    client = index.client
    raw_page = qdrant_get(url, key, "POST", "/collections/%s/points/scroll" % name,
                          {"limit": 3, "with_payload": True, "with_vector": True})
    records, next_offset = client.scroll(name, limit=3, with_vectors=True)
    assert all(isinstance(r, Record) for r in records)
    assert_same(records, raw_page["points"])
    assert next_offset == raw_page["next_page_offset"]

    ids = [r.id for r in records[:2]]
    raw = qdrant_get(url, key, "POST", "/collections/%s/points" % name,
                     {"ids": ids, "with_payload": True, "with_vector": True})
    got = client.retrieve(name, ids, with_vectors=True)
    assert_same(got, raw)
    assert got[0].vector == raw[0]["vector"] and isinstance(got[0].vector, list)
    assert client.retrieve(name, ids)[0].vector is None  # not asked for

    query = emb[0]
    raw = qdrant_get(url, key, "POST", "/collections/%s/points/query" % name,
                     {"query": [float(x) for x in query], "limit": 4, "with_payload": True, "with_vector": True})
    hits = client.search(name, query, limit=4, with_vectors=True)
    assert all(isinstance(h, ScoredPoint) for h in hits)
    assert_same(hits, raw["points"])
    assert [h.score for h in hits] == [p["score"] for p in raw["points"]]
    assert hits[0].version == raw["points"][0]["version"] and hits[0].vector == raw["points"][0]["vector"]
    response = client.query_points(name, query, limit=4)
    assert isinstance(response, QueryResponse)
    assert [p.id for p in response.points] == [p["id"] for p in raw["points"]]
    assert response.points[0].vector is None
    assert repr(client.count(name)) == "CountResult(count=%d)" % len(emb)
