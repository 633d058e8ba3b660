#!/usr/bin/python3
"""faiss IndexFlatIP timed on the data exact_search_bench wrote, for comparison.

Usage: faiss_peer.py BASE.f32 QUERIES.f32 N D NQ K THREADS RUNS_1 RUNS_BATCH

BASE.f32 holds at least N x D raw little-endian float32 values (only the first
N rows are used), QUERIES.f32 NQ x D. Loading and add() are not timed. Prints
one JSON object on stdout: medians and every run in milliseconds, the thread
count faiss reports, and the ids it found for the batch (for an agreement
check on the C++ side).
"""
import json
import statistics
import sys
import time

import faiss
import numpy as np


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main():
    base_path, queries_path = sys.argv[1], sys.argv[2]
    n, d, nq, k, threads, runs_one, runs_batch = map(int, sys.argv[3:10])
    faiss.omp_set_num_threads(threads)
    base = np.fromfile(base_path, dtype=np.float32, count=n * d).reshape(n, d)
    queries = np.fromfile(queries_path, dtype=np.float32, count=nq * d).reshape(nq, d)
    index = faiss.IndexFlatIP(d)
    index.add(base)
    del base

    index.search(queries[:1], k)  # warm-up: first-touch of the index pages
    counter = [0]

    def one_query():
        # A different query each run, as on the C++ side.
        i = counter[0] % nq
        counter[0] += 1
        index.search(queries[i:i + 1], k)

    one = timed(one_query, runs_one)
    batch = timed(lambda: index.search(queries, k), runs_batch)
    _, ids = index.search(queries, k)
    print(json.dumps({
        "faiss_version": faiss.__version__,
        "omp_threads": faiss.omp_get_max_threads(),
        "one_query_ms": one,
        "one_query_median_ms": statistics.median(one),
        "batch_ms": batch,
        "batch_median_ms": statistics.median(batch),
        "batch_ids": ids.tolist(),
    }))


if __name__ == "__main__":
    main()
