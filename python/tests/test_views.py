"""View expressions, stages, aggregations and the serialised view from Python,
each checked against a reference computed here from the raw samples (plain
Python / numpy filtering, sorting and counting)."""

import json
import math
import random
import re

import numpy as np
import pytest

LABELS = ["cat", "dog", "bird"]
NAMES = ["alpha", "beta", "Gamma", None]


def make_raw(n=150, seed=3):
    """Plain dicts: what the test knows about each sample."""
    rng = random.Random(seed)
    raw = []
    for i in range(n):
        dets = []
        for _ in range(rng.randrange(0, 5)):
            dets.append({
                "label": rng.choice(LABELS),
                "confidence": None if rng.random() < 0.2 else round(rng.random(), 2),
                "box": [rng.random() * 0.5 for _ in range(4)],
                "iscrowd": rng.randrange(2),
            })
        raw.append({
            "filepath": "/data/%s/img%d.jpg" % ("train" if i % 2 else "val", i),
            "tags": [t for t, keep in (("a", i % 4 == 0), ("b", i % 3 == 0)) if keep],
            "score": None if i % 6 == 5 else round(rng.random(), 2),
            "count": rng.randrange(10) - 3,
            "name": rng.choice(NAMES),
            "emb": np.array([rng.random(), rng.random(), rng.random()], dtype=np.float32),
            "dets": dets,
        })
    return raw


@pytest.fixture
def data(store):
    import fo
    raw = make_raw()
    samples = []
    for r in raw:
        fields = {"count": r["count"], "emb": r["emb"]}
        if r["score"] is not None:
            fields["score"] = r["score"]
        if r["name"] is not None:
            fields["name"] = r["name"]
        if r["dets"]:
            dets = []
            for d in r["dets"]:
                kw = {"iscrowd": d["iscrowd"]}
                if d["confidence"] is not None:
                    kw["confidence"] = d["confidence"]
                dets.append(fo.Detection(label=d["label"], bounding_box=d["box"], **kw))
            fields["gt"] = fo.Detections(detections=dets)
        samples.append(fo.Sample(filepath=r["filepath"], tags=r["tags"], **fields))
    ds = fo.Dataset("views")
    ids = ds.add_samples(samples)
    for r, i in zip(raw, ids):
        r["id"] = i
    return ds, raw


def ids_where(raw, keep):
    return [r["id"] for r in raw if keep(r)]


def null_lt(a, b):
    """MongoDB's order: None before every value."""
    if a is None:
        return b is not None
    if b is None:
        return False
    return a < b


def test_match_expressions(data):
    from fo import ViewField as F
    ds, raw = data
    cases = [
        (F("score") > 0.5, lambda r: r["score"] is not None and r["score"] > 0.5),
        (F("score") < 0.5, lambda r: null_lt(r["score"], 0.5)),
        ((F("score") >= 0.2) & (F("count") != 0), lambda r: r["score"] is not None and r["score"] >= 0.2 and r["count"] != 0),
        ((F("count") == 1) | ~(F("name") != "beta"), lambda r: r["count"] == 1 or r["name"] == "beta"),
        ((F("count") * 2 - 1) % 3 == 0, lambda r: (r["count"] * 2 - 1) % 3 == 0),
        (abs(F("count")) <= 1, lambda r: abs(r["count"]) <= 1),
        (F("count") / 2 > 1.2, lambda r: r["count"] / 2 > 1.2),
        (F("name").is_in(["alpha", "Gamma"]), lambda r: r["name"] in ("alpha", "Gamma")),
        (F("name").exists(), lambda r: r["name"] is not None),
        (F("name").exists(False), lambda r: r["name"] is None),
        (F("tags").contains("a"), lambda r: "a" in r["tags"]),
        (F("tags").contains(["a", "b"], all=True), lambda r: "a" in r["tags"] and "b" in r["tags"]),
        (F("tags").length() == 0, lambda r: not r["tags"]),
        (F("filepath").starts_with("/data/train"), lambda r: r["filepath"].startswith("/data/train")),
        (F("filepath").ends_with(["1.jpg", "2.jpg"]), lambda r: r["filepath"].endswith(("1.jpg", "2.jpg"))),
        (F("name").starts_with("g", case_sensitive=False), lambda r: r["name"] is not None and r["name"].lower().startswith("g")),
        (F("filepath").re_match(r"img1\d\.jpg$"), lambda r: re.search(r"img1\d\.jpg$", r["filepath"]) is not None),
        (F("name").re_match("^A", options="i"), lambda r: r["name"] is not None and r["name"].lower().startswith("a")),
        (F("gt.detections.label").contains("cat"), lambda r: any(d["label"] == "cat" for d in r["dets"])),
        (F("gt.detections").length() > 2, lambda r: len(r["dets"]) > 2),
        (F("gt.detections").filter((F("label") == "dog") & (F("confidence") > 0.5)).length() > 0,
         lambda r: any(d["label"] == "dog" and d["confidence"] is not None and d["confidence"] > 0.5 for d in r["dets"])),
        (F("gt.detections").filter(F("bounding_box")[2] * F("bounding_box")[3] > 0.05).length() > 0,
         lambda r: any(d["box"][2] * d["box"][3] > 0.05 for d in r["dets"])),
        (F("gt.detections.confidence").max() > 0.9,
         lambda r: max([d["confidence"] for d in r["dets"] if d["confidence"] is not None], default=-1) > 0.9),
        (F("gt.detections").filter(F("iscrowd") == 1).length() == 1, lambda r: sum(d["iscrowd"] for d in r["dets"]) == 1),
    ]
    for expr, keep in cases:
        want = ids_where(raw, keep)
        assert ds.match(expr).values("id") == want, expr
        # The expression's JSON form compiles to the same view.
        back = fo_expr_from_json(expr)
        assert ds.match(back).values("id") == want, expr


def fo_expr_from_json(expr):
    import fo
    return fo.ViewExpression._from_mongo(json.loads(json.dumps(expr.to_mongo())))


def test_expression_json_is_mongo_like():
    from fo import ViewField as F
    assert (F("confidence") > 0.5).to_mongo() == {"$gt": ["$confidence", 0.5]}
    assert ((F("a") == 1) & (F("b") == 2) & (F("c") == 3)).to_mongo() == {
        "$and": [{"$eq": ["$a", 1]}, {"$eq": ["$b", 2]}, {"$eq": ["$c", 3]}]}
    assert (F("x") == "$x").to_mongo() == {"$eq": ["$x", {"$literal": "$x"}]}
    with pytest.raises(TypeError, match="no truth value"):
        bool(F("a") > 1)
    import fo
    with pytest.raises(ValueError, match="unknown view expression operator"):
        fo.ViewExpression._from_mongo({"$nope": 1})


def test_bad_input_is_one_clear_line(data):
    from fo import ViewField as F
    ds, _ = data
    with pytest.raises(ValueError, match="no field 'nope'"):
        ds.match(F("nope") > 1)
    with pytest.raises(ValueError, match="not a label field"):
        ds.filter_labels("count", F("label") == "cat")
    with pytest.raises(ValueError, match="no field 'nope'"):
        ds.select_fields("nope")
    with pytest.raises(ValueError, match="invalid regular expression"):
        ds.match(F("name").re_match("("))


def test_exists_sort_by_shuffle_and_slices(data):
    from fo import ViewField as F
    ds, raw = data
    assert ds.exists("score").values("id") == ids_where(raw, lambda r: r["score"] is not None)
    assert ds.exists("gt", False).values("id") == ids_where(raw, lambda r: not r["dets"])

    def sorted_ids(rows, key, reverse=False):
        # A stable sort with None first (last when reversed), as MongoDB sorts.
        present = [r for r in rows if key(r) is not None]
        missing = [r for r in rows if key(r) is None]
        present = sorted(present, key=key, reverse=reverse)
        if reverse:  # ties keep their order in a stable descending sort too
            present = sorted(present, key=lambda r: -key(r))
        out = missing + present if not reverse else present + missing
        return [r["id"] for r in out]

    assert ds.sort_by("score").values("id") == sorted_ids(raw, lambda r: r["score"])
    assert ds.sort_by("score", reverse=True).values("id") == sorted_ids(raw, lambda r: r["score"], True)
    by_len = sorted_ids(raw, lambda r: len(r["dets"]), True)
    assert ds.sort_by(F("gt.detections").length(), reverse=True).values("id") == by_len
    tagged = [r for r in raw if r["tags"]]
    want = sorted_ids(tagged, lambda r: r["score"])
    view = ds.match(F("tags").length() > 0).sort_by("score")
    assert view[5:15].values("id") == want[5:15]
    assert view[-3:].values("id") == want[-3:]
    assert view[:4].values("id") == want[:4]
    assert ds[10:20].values("id") == [r["id"] for r in raw[10:20]]
    with pytest.raises(ValueError):
        ds[1:10:2]
    a, b = ds.shuffle(seed=5).values("id"), ds.shuffle(seed=5).values("id")
    assert a == b and sorted(a) == sorted(r["id"] for r in raw) and a != [r["id"] for r in raw]


def test_fields_and_label_stages_shape_the_samples(data):
    from fo import ViewField as F
    ds, raw = data
    by_id = {r["id"]: r for r in raw}
    for s in ds.select_fields("score"):
        assert s.has_field("score") == (by_id[s.id]["score"] is not None)
        assert not s.has_field("count") and not s.has_field("gt")
        assert s.filepath == by_id[s.id]["filepath"]
    for s in ds.exclude_fields(["gt", "emb"]):
        assert not s.has_field("gt") and not s.has_field("emb") and s.has_field("count")

    view = ds.filter_labels("gt", F("confidence") > 0.6)
    want = {r["id"]: [d["label"] for d in r["dets"] if d["confidence"] is not None and d["confidence"] > 0.6] for r in raw}
    assert view.values("id") == [i for i, labels in want.items() if labels]
    for s in view:
        assert [d.label for d in s["gt"].detections] == want[s.id]
    assert view.count("gt.detections") == sum(len(v) for v in want.values())
    assert view.values("gt.detections.label") == [want[i] for i in view.values("id")]
    kept = ds.filter_labels("gt", F("label") == "cat", only_matches=False)
    assert len(kept) == len(raw)
    assert kept.count_values("gt.detections.label") == (
        {"cat": sum(d["label"] == "cat" for r in raw for d in r["dets"])})

    limited = ds.filter_labels("gt", F("label") != "bird").limit_labels("gt", 1)
    for s in limited:
        first = [d["label"] for d in by_id[s.id]["dets"] if d["label"] != "bird"][:1]
        assert [d.label for d in s["gt"].detections] == first

    dogs = ds.match_labels(filter=F("label") == "dog")
    assert dogs.values("id") == ids_where(raw, lambda r: any(d["label"] == "dog" for d in r["dets"]))
    not_dogs = ds.match_labels(filter=F("label") == "dog", bool=False)
    assert len(not_dogs) == len(raw) - len(dogs)
    some = ds.first()["gt"].detections[0].id if ds.first().has_field("gt") else None
    if some:
        assert ds.match_labels(ids=[some]).values("id") == [ds.first().id]


def test_aggregations(data):
    from fo import ViewField as F
    ds, raw = data
    rows = [r for r in raw if r["count"] >= 0]
    view = ds.match(F("count") >= 0)
    scores = np.array([r["score"] for r in rows if r["score"] is not None])
    det_conf = [d["confidence"] for r in rows for d in r["dets"] if d["confidence"] is not None]
    labels = [d["label"] for r in rows for d in r["dets"]]

    assert view.count() == len(rows)
    assert view.count("score") == len(scores)
    assert view.count("gt.detections") == len(labels)
    counts = view.count_values("gt.detections.label")
    assert counts == {l: labels.count(l) for l in set(labels)}
    names = view.count_values("name")
    assert names == {n: sum(r["name"] == n for r in rows) for n in set(r["name"] for r in rows)}
    tags = view.count_values("tags")
    assert tags == {t: sum(t in r["tags"] for r in rows) for t in ("a", "b") if any(t in r["tags"] for r in rows)}
    assert view.distinct("gt.detections.label") == sorted(set(labels))
    assert view.distinct("tags") == sorted({t for r in rows for t in r["tags"]})
    assert view.bounds("gt.detections.confidence") == (min(det_conf), max(det_conf))
    assert view.bounds("count") == (min(r["count"] for r in rows), max(r["count"] for r in rows))
    assert math.isclose(view.mean("score"), scores.mean(), rel_tol=1e-12)
    assert view.sum("count") == sum(r["count"] for r in rows) and isinstance(view.sum("count"), int)
    assert math.isclose(view.std("score"), scores.std(), rel_tol=1e-9)
    assert math.isclose(view.std("score", sample=True), scores.std(ddof=1), rel_tol=1e-9)
    assert math.isclose(view.sum(F("score") * 10), float(scores.sum() * 10), rel_tol=1e-9)
    assert view.values("score") == [r["score"] for r in rows]
    assert view.values(F("count") + 1) == [r["count"] + 1 for r in rows]
    assert view.values("gt.detections.label") == [[d["label"] for d in r["dets"]] if r["dets"] else None for r in rows]
    empty = ds.match(F("count") > 100)
    assert empty.bounds("score") == (None, None) and empty.mean("score") == 0 and empty.count("score") == 0
    emb = ds.values("emb")  # vectors still come from the samples
    assert np.allclose(np.array(emb[0]), raw[0]["emb"])


def test_serialised_views_round_trip(data):
    import fo
    from fo import ViewField as F
    ds, raw = data
    label_id = next(s["gt"].detections[0].id for s in ds if s.has_field("gt"))
    views = [
        ds.match((F("score") > 0.3) & F("name").is_in(["alpha", "beta"])),
        ds.exists("gt").sort_by("score", reverse=True)[3:30],
        ds.sort_by(F("gt.detections").length()).select_fields(["score", "gt"]),
        ds.exclude_fields("emb").shuffle(seed=2).take(7, seed=1),
        ds.filter_labels("gt", F("confidence") > 0.5, only_matches=False).limit_labels("gt", 2),
        ds.match_labels(filter=F("label") == "cat", fields="gt", bool=False),
        ds.match_labels(ids=[label_id]),
        ds.match_tags("a").select([r["id"] for r in raw[:20]]).exclude(raw[4]["id"]),
    ]
    for view in views:
        stages = json.loads(json.dumps(view._serialize()))
        assert all(s["_cls"].startswith("fiftyone.core.stages.") for s in stages)
        for loaded in (fo.DatasetView._build(ds, stages), fo.DatasetView._build(ds, view.to_json())):
            assert loaded._serialize() == stages
            assert loaded.values("id") == view.values("id")
            assert loaded.count("gt.detections") == view.count("gt.detections")
    with pytest.raises(ValueError, match="unknown view stage"):
        fo.DatasetView._build(ds, [{"_cls": "fiftyone.core.stages.Nope", "kwargs": []}])


def test_similarity_on_a_view_matches_brute_force(data):
    import fo.brain as fob
    from fo import ViewField as F
    ds, raw = data
    fob.compute_similarity(ds, embeddings="emb", brain_key="sim", backend="sklearn", metric="euclidean")
    view = ds.filter_labels("gt", F("label") == "cat").match(F("count") >= 0).sort_by("score")
    q = np.array([0.3, 0.8, 0.1], dtype=np.float32)
    got = view.sort_by_similarity(q, k=10, brain_key="sim").values("id")
    by_id = {r["id"]: r for r in raw}
    members = view.values("id")
    want_rows = [by_id[i] for i in ids_where(raw, lambda r: r["count"] >= 0 and any(d["label"] == "cat" for d in r["dets"]))]
    assert sorted(members) == sorted(r["id"] for r in want_rows)
    dist = [float(np.linalg.norm(by_id[i]["emb"] - q)) for i in members]
    want = [members[j] for j in np.argsort(dist, kind="stable")[:10]]
    assert got == want
