#!/usr/bin/python3
"""Issue #12's figures: views by value and aggregations on a 1M-sample dataset,
end to end through the Python API, against numpy over the same data held in
memory (the brute force a user could write; FiftyOne itself needs MongoDB and
PyPI, neither of which this machine has).

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/dataset_api_bench.py
           [--n 1000000] [--repeat 5] [--seed 51] [--workdir /tmp/fo-api-bench]

The dataset (built once per --n and --seed, reused from --workdir): every
sample has a float field `score` (uniform [0, 1)), a string field `category`
(one of 20), a tag `ten` on every tenth sample, and `ground_truth` detections
(0 to 4 per sample, label one of 10 classes, confidence uniform [0, 1)).
Each operation is timed warm in one process (median of --repeat after one
untimed call; the first call's time is printed too) and checked against the
numpy answer, which is timed the same way. Output: one table, with the
machine and its load.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_machine  # noqa: E402

CATEGORIES = ["cat%02d" % i for i in range(20)]
CLASSES = ["class%d" % i for i in range(10)]
DATASET = "api-bench"


def generate(n, seed):
    rng = np.random.default_rng(seed)
    data = {
        "score": rng.random(n),
        "category": rng.integers(0, len(CATEGORIES), n),
        "ndet": rng.integers(0, 5, n),
    }
    m = int(data["ndet"].sum())
    data["det_sample"] = np.repeat(np.arange(n), data["ndet"])
    data["det_label"] = rng.integers(0, len(CLASSES), m)
    data["det_conf"] = rng.random(m)
    data["det_box"] = rng.random((m, 4)) * 0.5
    return data


def build(fo, n, data):
    def samples():
        first_det = np.concatenate([[0], np.cumsum(data["ndet"])])
        for i in range(n):
            dets = [fo.Detection(label=CLASSES[data["det_label"][j]],
                                 bounding_box=[float(x) for x in data["det_box"][j]],
                                 confidence=float(data["det_conf"][j]))
                    for j in range(first_det[i], first_det[i + 1])]
            yield fo.Sample(filepath="/data/img_%07d.jpg" % i, tags=["ten"] if i % 10 == 0 else [],
                            score=float(data["score"][i]), category=CATEGORIES[data["category"][i]],
                            ground_truth=fo.Detections(detections=dets))
    ds = fo.Dataset(DATASET)
    t = time.perf_counter()
    ds.add_samples(samples())
    return time.perf_counter() - t


def timed(fn, repeat):
    t = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return result, first, statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=51)
    ap.add_argument("--workdir", default="/tmp/fo-api-bench")
    a = ap.parse_args()
    load_before = bench_machine.load_average()
    os.makedirs(a.workdir, exist_ok=True)
    os.environ["FO_DATABASE_PATH"] = os.path.join(a.workdir, "api_%d_s%d.db" % (a.n, a.seed))
    import fo
    from fo import ViewField as F

    data = generate(a.n, a.seed)
    if DATASET in fo.list_datasets():
        ds = fo.load_dataset(DATASET)
        if len(ds) != a.n:
            sys.exit("%s holds %d samples, not %d: delete it or use another --workdir"
                     % (os.environ["FO_DATABASE_PATH"], len(ds), a.n))
        ingest = None
    else:
        ingest = build(fo, a.n, data)
        ds = fo.load_dataset(DATASET)

    score, category = data["score"], data["category"]
    det_sample, det_conf = data["det_sample"], data["det_conf"]
    cat_names = np.array(CATEGORIES)

    def np_count_values():
        counts = np.bincount(category, minlength=len(CATEGORIES))
        return {CATEGORIES[i]: int(c) for i, c in enumerate(counts) if c}

    def np_filter_labels():
        keep = det_conf > 0.95
        return int(np.unique(det_sample[keep]).size), int(keep.sum())

    def fo_filter_labels():
        view = ds.filter_labels("ground_truth", F("confidence") > 0.95)
        return view.count(), view.count("ground_truth.detections")

    ids = None

    def np_sort_by():
        return np.argsort(-score, kind="stable")[:10]

    ops = [
        ("match(F(\"score\") > 0.9).count()",
         lambda: ds.match(F("score") > 0.9).count(),
         lambda: int((score > 0.9).sum()), None),
        ("match(F(\"score\") > 0.999).values(\"score\")",
         lambda: sorted(ds.match(F("score") > 0.999).values("score")),
         lambda: sorted(score[score > 0.999].tolist()), None),
        ("count_values(\"category\")",
         lambda: ds.count_values("category"),
         np_count_values, None),
        ("filter_labels(gt, F(\"confidence\") > 0.95): count(), count(dets)",
         fo_filter_labels, np_filter_labels, None),
        ("sort_by(\"score\", reverse=True).limit(10).values(\"id\")",
         lambda: ds.sort_by("score", reverse=True).limit(10).values("id"),
         np_sort_by, "ids"),
        ("sort_by(\"score\").first()",
         lambda: ds.sort_by("score").first().id,
         lambda: int(np.argmin(score)), "id"),
    ]
    print("dataset_api_bench: N = %d samples, %d detections; %s"
          % (a.n, len(det_conf), "ingested in %.1f s" % ingest if ingest else "reused"), file=sys.stderr)
    rows = []
    failures = 0
    for name, fo_fn, np_fn, kind in ops:
        got, fo_first, fo_ms = timed(fo_fn, a.repeat)
        want, _, np_ms = timed(np_fn, a.repeat)
        if kind in ("ids", "id"):
            if ids is None:
                ids = ds.values("id")
            want = [ids[i] for i in want] if kind == "ids" else ids[want]
        ok = got == want
        failures += not ok
        rows.append((name, fo_first * 1e3, fo_ms * 1e3, np_ms * 1e3, ok))
    print("| operation (1 process, warm median of %d) | fo first call | fo warm | numpy | fo / numpy | same answer |"
          % a.repeat)
    print("|---|---|---|---|---|---|")
    for name, first, warm, ref, ok in rows:
        print("| `%s` | %.1f ms | %.1f ms | %.1f ms | %.1fx | %s |" % (name, first, warm, ref, warm / ref if ref else 0,
                                                                    "yes" if ok else "NO"))
    print()
    print("Machine: %s, %d cores, %.0f GiB; load average before: %s" % (
        bench_machine.cpu_model(), os.cpu_count(), bench_machine.mem_total_gib(), load_before))
    if failures:
        sys.exit("%d operation(s) disagreed with numpy" % failures)


if __name__ == "__main__":
    main()
