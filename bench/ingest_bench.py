#!/usr/bin/python3
"""compute_similarity from an array: time and peak memory; then, optionally,
sort_by_similarity time and recall against numpy brute force.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/ingest_bench.py
           [--rows 1000000] [--dim 512] [--storage float32|float16|int8]
           [--queries 20] [--k 10] [--dir DIR]

A fresh store in a temporary directory (or --dir, kept): a dataset of --rows
samples, a --rows x --dim float32 array of clustered random vectors; the
peak RSS is reset (/proc/self/clear_refs <- 5) once both exist, then
compute_similarity(embeddings=array, backend="sklearn", storage=...) is
timed and VmHWM read. The array's size is printed beside it, so the peak can
be read as a multiple of it (the array itself is part of the peak). With
--queries > 0, that many sample ids are queried (k nearest, cosine) and
compared with numpy's exact top-k of the same array.
"""
import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def clustered(rows, dim, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((256, dim), dtype=np.float32)
    out = np.empty((rows, dim), dtype=np.float32)
    step = 100000
    for s in range(0, rows, step):
        n = min(step, rows - s)
        out[s:s + n] = centers[rng.integers(0, 256, n)] + 0.5 * rng.standard_normal((n, dim), dtype=np.float32)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1000000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--storage", default="float32")
    p.add_argument("--queries", type=int, default=0)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--dir")
    a = p.parse_args()
    root = a.dir or tempfile.mkdtemp(prefix="fo_ingest_")
    os.makedirs(root, exist_ok=True)
    os.environ["FO_DATABASE_PATH"] = os.path.join(root, "fo.db")
    import fo
    import fo.brain

    t = time.perf_counter()
    ds = fo.Dataset("bench")
    ids = ds.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(a.rows)])
    print("add_samples: %.1f s" % (time.perf_counter() - t), flush=True)
    emb = clustered(a.rows, a.dim)
    import gc
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rss0 = vm("VmRSS")
    t = time.perf_counter()
    index = fo.brain.compute_similarity(ds, embeddings=emb, brain_key="sim", backend="sklearn", storage=a.storage)
    took = time.perf_counter() - t
    hwm = vm("VmHWM")
    gib = 1 << 30
    print("compute_similarity %d x %d (%s): %.1f s; array %.2f GiB; RSS before %.2f GiB; peak %.2f GiB "
          "(%.2fx the array; %.2fx above the RSS before)" %
          (a.rows, a.dim, a.storage, took, emb.nbytes / gib, rss0 / gib, hwm / gib, hwm / emb.nbytes,
           (hwm - rss0) / emb.nbytes), flush=True)
    if a.queries > 0:
        rng = np.random.default_rng(1)
        norms = np.linalg.norm(emb, axis=1)
        hits, times = 0, []
        for qi in rng.integers(0, a.rows, a.queries):
            t = time.perf_counter()
            view = ds.sort_by_similarity(ids[qi], k=a.k, brain_key="sim")
            got = view.values("id")
            times.append(time.perf_counter() - t)
            q = emb[qi]
            d = 1.0 - (emb @ q) / (norms * np.linalg.norm(q))
            want = np.argpartition(d, a.k)[:a.k]
            hits += set(got) == {ids[i] for i in want}
        times.sort()
        print("sort_by_similarity k=%d (%s): median %.1f ms, slowest %.1f ms; top-k equal to numpy's in %d of %d" %
              (a.k, a.storage, 1000 * times[len(times) // 2], 1000 * times[-1], hits, a.queries), flush=True)
    if not a.dir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
