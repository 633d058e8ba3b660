#!/usr/bin/python3
"""Calling overhead of the Python bindings (fo._fo) against the same calls in C++.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py
           [--peer build/bench/python_overhead_peer] [--rounds 30] [--round-ms 100]
           [--k 10] [--big-rows 20000] [--dim 512] [--add-rows 100000]
           [--add-repeats 1] [--no-sort] [--no-add] [--no-driver] [--dir DIR]

Needs the _fo and python_overhead_peer targets of the same build (the peer is
looked up beside the fo package, <build>/bench/, unless --peer says where).
Everything is written to a temporary directory (or --dir), deleted at the end
unless --dir was given. Prints progress, then Markdown tables.

1. sort_by_similarity, Python against C++. One store ($FO_DATABASE_PATH in
   the temporary directory) holds what `fo demo` builds: the 200 shapes images
   of fo.generate_shapes (seed 51, 320x240) as dataset "shapes", with the
   similarity runs img_sim (images) and patch_sim (ground_truth patches), both
   the built-in model on the sklearn backend; plus dataset "big" with
   --big-rows samples and a run built from random --dim vectors
   (compute_similarity(embeddings=...)), so that a call also has real work.
   Three sides time the same calls on the same store and runs:
   - "C++": bench/python_overhead_peer, a child process timing
     SortBySimilarity(dataset.view(), SimilarityQuery::ById(id), opts).Ids()
     (what python/src/dataset.cc does);
   - "Python": this script with --sort-child, a fresh child process timing
     dataset.sort_by_similarity(query_id, k=K, brain_key=KEY), which
     evaluates the view at the call; the same protocol as the peer, so both
     processes have the same history (open the store, load the dataset, time);
   - "Python, in the driver process": the same calls in this process, the one
     that built the store (unless --no-driver): what a script that builds and
     then queries sees.
   They alternate: each round, each case, a block of calls on each side in
   turn, the side going first rotating every round. Round 0 is a warm-up, not
   counted; it also sets each case's block: as many calls as take --round-ms
   on the C++ side (at least 3), or --calls if given. Reported: the median call over all rounds per side, the ratio of
   those medians to C++'s, and the median (and range) of the per-round ratios
   of medians; then each side's CPU time and page faults per call, and the
   parts of a call, timed separately in each language.

2. add_to_index memory. In a fresh process each (this script with
   --add-child): a dataset of --add-rows samples, an empty sklearn index
   (compute_similarity(embeddings=False)), an --add-rows x --dim array of
   random values; the peak RSS is reset (/proc/self/clear_refs <- 5), then
   index.add_to_index(embeddings, sample_ids), then VmHWM and VmRSS are read.
   Inputs: float32 C-contiguous (viewed in place by the binding), float64
   and float32 Fortran-order (each converted once to C float32), and the C++
   peer calling SimilarityIndex::AddToIndex with a fo::Matrix.

Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import argparse
import datetime
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_machine import cpu_model, load_average

ADD_KINDS = ["float32", "float64", "float32-fortran"]


def memory_kb():
    """VmRSS, VmHWM, RssAnon, RssFile of this process, in kB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(rest.split()[0])
    return out


def fmt_ms(ns):
    ms = ns / 1e6
    if ms < 1:
        return "%.3f ms" % ms
    if ms < 10:
        return "%.2f ms" % ms
    if ms < 100:
        return "%.1f ms" % ms
    return "%.0f ms" % ms


def fmt_us(ns):
    return "%.1f us" % (ns / 1e3)


def mb(kb_or_bytes, unit="kB"):
    return "%.1f MB" % (kb_or_bytes * (1000 if unit == "kB" else 1) / 1e6)


# ------------------------------------------------------ part 1: the sort


class Child:
    """A child process serving sort requests on stdin, one answer line each.

    The C++ peer (python_overhead_peer sort) and this script with --sort-child
    speak the same protocol (see python_overhead_peer.cc).
    """

    def __init__(self, label, cmd):
        self.label = label
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def _ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("%s exited (request: %s)" % (self.label, line))
        return answer

    def sort(self, case, calls):
        return [int(x) for x in self._ask("sort %s %s %s %d %d" % (
            case["dataset"], case["key"], case["query"], case["k"], calls)).split()]

    def pieces(self, case, calls):
        return json.loads(self._ask("pieces %s %s %s %d %d" % (
            case["dataset"], case["key"], case["query"], case["k"], calls)))

    def usage(self):
        """(minor page faults, user CPU s, system CPU s) of the child so far (10 ms ticks)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[7]), int(fields[11]) / tick, int(fields[12]) / tick

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


class InDriver:
    """The Python calls made in this process, the one that built the store."""

    label = "Python, in the driver process"

    def __init__(self):
        self.datasets = {}

    def sort(self, case, calls):
        import fo

        ds = self.datasets.setdefault(case["dataset"], fo.load_dataset(case["dataset"]))
        return time_python_sort(ds, case, calls)

    usage = staticmethod(lambda: own_usage())

    def close(self):
        pass


def build_store(directory, big_rows, dim):
    """The demo dataset with its two runs, and the big random one. Returns the cases."""
    import numpy as np

    import fo
    import fo.brain as fob
    from fo import _fo

    start = time.time()
    samples = _fo.generate_shapes(os.path.join(directory, "media", "shapes"))  # fo demo's defaults
    shapes = fo.Dataset("shapes")
    shapes.add_samples(samples)
    fob.compute_similarity(shapes, brain_key="img_sim", backend="sklearn", progress=False)
    fob.compute_similarity(shapes, brain_key="patch_sim", patches_field="ground_truth",
                           backend="sklearn", progress=False)
    print("demo dataset: %d samples, img_sim and patch_sim (built-in model, sklearn) in %.1f s"
          % (len(shapes), time.time() - start), flush=True)

    start = time.time()
    big = fo.Dataset("big")
    ids = big.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(big_rows)])
    rng = np.random.default_rng(51)
    emb = rng.standard_normal((big_rows, dim), dtype=np.float32)
    fob.compute_similarity(big, embeddings=emb, brain_key="big_sim", backend="sklearn")
    print("big dataset: %d samples, big_sim (%d x %d random float32, sklearn) in %.1f s"
          % (len(ids), big_rows, dim, time.time() - start), flush=True)

    first = shapes.first()
    patch_id = first["ground_truth"].detections[0].id
    return [
        {"name": "demo: img_sim (200 images, built-in model)", "dataset": "shapes", "key": "img_sim",
         "query": first.id},
        {"name": "demo: patch_sim (ground_truth patches)", "dataset": "shapes", "key": "patch_sim",
         "query": patch_id},
        {"name": "big_sim (%d x %d random)" % (big_rows, dim), "dataset": "big", "key": "big_sim",
         "query": ids[0]},
    ]


def time_python_sort(ds, case, calls):
    query, k, key = case["query"], case["k"], case["key"]
    out = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        ds.sort_by_similarity(query, k=k, brain_key=key)  # evaluated at the call; view dropped here
        out.append(time.perf_counter_ns() - t0)
    return out


def own_usage():
    """(minor page faults, user CPU s, system CPU s) of this process so far."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_minflt, u.ru_utime, u.ru_stime


def measured(usage, fn):
    """fn()'s result and the change of usage() over it."""
    before = usage()
    result = fn()
    return result, [b - a for a, b in zip(before, usage())]


def time_python_pieces(ds, calls):
    """Cost of crossing into the module: a property, and a call returning a View."""
    out = {"ds.dataset_name": [], "ds.view()": []}
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        ds.dataset_name
        out["ds.dataset_name"].append(time.perf_counter_ns() - t0)
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        ds.view()
        out["ds.view()"].append(time.perf_counter_ns() - t0)
    return out


def sort_child():
    """--sort-child: the peer's protocol, answered with the Python API in this fresh process."""
    import fo

    datasets = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            return
        verb, name, key, query, k, calls = words[0], words[1], words[2], words[3], int(words[4]), int(words[5])
        if name not in datasets:
            datasets[name] = fo.load_dataset(name)
        if verb == "sort":
            ns = time_python_sort(datasets[name], {"query": query, "k": k, "key": key}, calls)
            print(" ".join(map(str, ns)), flush=True)
        elif verb == "pieces":
            print(json.dumps(time_python_pieces(datasets[name], max(calls, 1000))), flush=True)
        else:
            raise SystemExit("bad request: " + line)


def run_sort(args, directory):
    cases = build_store(directory, args.big_rows, args.dim)
    for c in cases:
        c["k"] = args.k
    store = os.environ["FO_DATABASE_PATH"]
    sides = [Child("C++", [args.peer, "sort", "--store", store]),
             Child("Python", [sys.executable, os.path.abspath(__file__), "--sort-child"])]
    if not args.no_driver:
        sides.append(InDriver())
    times = {(c["name"], s.label): [] for c in cases for s in sides}
    ratios = {(c["name"], s.label): [] for c in cases for s in sides}  # per round, against C++
    # minor faults, user s, system s, calls (counted rounds)
    usage = {(c["name"], s.label): [0, 0.0, 0.0, 0] for c in cases for s in sides}
    try:
        for r in range(args.rounds + 1):
            order = sides[r % len(sides):] + sides[:r % len(sides)]  # who goes first rotates
            for c in cases:
                calls = c.get("calls", args.calls or 3)
                got = {s.label: measured(s.usage, lambda s=s: s.sort(c, calls)) for s in order}
                if r == 0:  # warm-up
                    c["calls"] = args.calls or max(3, round(args.round_ms * 1e6 / statistics.median(got["C++"][0])))
                    continue
                cpp = statistics.median(got["C++"][0])
                for s in sides:
                    ns, u = got[s.label]
                    times[(c["name"], s.label)] += ns
                    ratios[(c["name"], s.label)].append(statistics.median(ns) / cpp)
                    acc = usage[(c["name"], s.label)]
                    for i in range(3):
                        acc[i] += u[i]
                    acc[3] += calls
            if r > 0:
                print("round %d/%d, Python / C++: %s" % (r, args.rounds, ", ".join(
                    "%.3f" % ratios[(c["name"], "Python")][-1] for c in cases)), flush=True)
        pieces = {c["name"]: sides[0].pieces(c, max(c["calls"], 20)) for c in cases}
        py_pieces = sides[1].pieces(cases[0], 1000)
    finally:
        for s in sides:
            s.close()
    return cases, [s.label for s in sides], times, ratios, usage, pieces, py_pieces


def print_sort(args, cases, labels, times, ratios, usage, pieces, py_pieces):
    med = statistics.median
    print("\n### sort_by_similarity: Python against C++ (k = %d; %d rounds)\n" % (args.k, args.rounds))
    print("| case (calls per side and round) | side | median call | - C++ | / C++ (medians) "
          "| per-round ratio, median (range) |")
    print("|---|---|---|---|---|---|")
    for c in cases:
        n = c["name"]
        cpp = med(times[(n, "C++")])
        for label in labels:
            t = med(times[(n, label)])
            if label == "C++":
                print("| %s (%d) | %s | %s | | | |" % (n, c["calls"], label, fmt_ms(t)))
                continue
            rs = ratios[(n, label)]
            print("| | %s | %s | %s | %.3f | %.3f (%.3f - %.3f) |" % (
                label, fmt_ms(t), fmt_us(t - cpp), t / cpp, med(rs), min(rs), max(rs)))

    print("\nPer call, over the counted rounds: the process's CPU time on all its threads "
          "(children: 10 ms ticks) and its minor page faults.\n")
    print("| case | side | user CPU | system CPU | page faults |")
    print("|---|---|---|---|---|")
    for c in cases:
        for i, label in enumerate(labels):
            faults, user, system, calls = usage[(c["name"], label)]
            print("| %s | %s | %s | %s | %.0f |" % (c["name"] if i == 0 else "", label, fmt_ms(user / calls * 1e9),
                                                  fmt_ms(system / calls * 1e9), faults / calls))

    print("\n### Where a call's time goes (medians)\n")
    print("C++, the parts of a call timed separately after the rounds (python_overhead_peer `pieces`):\n")
    print("| case | whole call (above) | view().Ids() | UseView + Query on a loaded index "
          "| Dataset::Load + LoadBrainResults (a cache miss: the first call only) |")
    print("|---|---|---|---|---|")
    for c in cases:
        n, pc = c["name"], pieces[c["name"]]
        print("| %s | %s | %s | %s | %s |" % (n, fmt_ms(med(times[(n, "C++")])), fmt_ms(med(pc["view_ids"])),
                                             fmt_ms(med(pc["query"])), fmt_ms(med(pc["load"]))))
    print("\nPython (the fresh process), crossing into the module (1000 calls each):\n")
    print("| call | median |")
    print("|---|---|")
    for name, ns in py_pieces.items():
        print("| `%s` | %s |" % (name, fmt_us(med(ns))))


# ---------------------------------------------------- part 2: add_to_index


def add_child(kind, rows, dim):
    """In this fresh process: add_to_index of a rows x dim array; prints one JSON line."""
    import numpy as np

    import fo
    import fo.brain as fob

    ds = fo.Dataset("add")
    ids = ds.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(rows)])
    index = fob.compute_similarity(ds, embeddings=False, brain_key="add", backend="sklearn")
    rng = np.random.default_rng(51)
    if kind == "float64":
        emb = rng.random((rows, dim))
    else:
        emb = rng.random((rows, dim), dtype=np.float32)
        if kind == "float32-fortran":
            emb = np.asfortranarray(emb)
    emb *= 2
    emb -= 1
    gc.collect()
    layout = "C" if emb.flags.c_contiguous else "F" if emb.flags.f_contiguous else "strided"

    before = memory_kb()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    after_reset = memory_kb()
    t0 = time.perf_counter()
    index.add_to_index(emb, ids)
    seconds = time.perf_counter() - t0
    after = memory_kb()
    if index.total_index_size != rows:
        raise RuntimeError("the index holds %d rows" % index.total_index_size)
    print(json.dumps({"case": "Python: add_to_index(%s %s-order %s)" % (emb.dtype, layout, "x".join(map(str, emb.shape))),
                      "rows": rows, "dim": dim, "array_bytes": emb.nbytes, "seconds": seconds,
                      "before": before, "after_reset": after_reset, "after": after}))


def run_add(args, directory):
    results = []
    for rep in range(args.add_repeats):
        for kind in ADD_KINDS + ["peer"]:
            store = os.path.join(directory, "add_%s_%d.db" % (kind, rep))
            env = dict(os.environ, FO_DATABASE_PATH=store)
            if kind == "peer":
                cmd = [args.peer, "add", "--store", store, "--rows", str(args.add_rows), "--dim", str(args.dim)]
            else:
                cmd = [sys.executable, os.path.abspath(__file__), "--add-child", kind,
                       "--add-rows", str(args.add_rows), "--dim", str(args.dim)]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            results.append(res)
            print("%s: peak +%s, retained +%s, %.2f s" % (
                res["case"], mb(res["after"]["VmHWM"] - res["before"]["VmRSS"]),
                mb(res["after"]["VmRSS"] - res["before"]["VmRSS"]), res["seconds"]), flush=True)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(store + suffix):
                    os.remove(store + suffix)
    return results


def print_add(args, results):
    rows, dim = args.add_rows, args.dim
    array = rows * dim * 4
    held = rows * dim * 4 + rows * 4  # the sklearn backend's vectors and norms
    print("\n### add_to_index of a %d x %d array (one fresh process each)\n" % (rows, dim))
    print("The float32 C-order array is %s. The sklearn backend keeps its own float32 copy of "
          "the vectors plus one norm per row (%s), besides writing them to SQLite.\n" % (mb(array, "B"), mb(held, "B")))
    print("| input | time | RSS before | peak increase (VmHWM - RSS before) | peak / float32 array "
          "| retained increase (RSS after - before) | transient (peak - retained) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        before = r["before"]["VmRSS"] * 1000
        peak = r["after"]["VmHWM"] * 1000 - before
        kept = r["after"]["VmRSS"] * 1000 - before
        print("| %s | %.2f s | %s | %s | %.2f | %s | %s |" % (
            r["case"], r["seconds"], mb(before, "B"), mb(peak, "B"), peak / array,
            mb(kept, "B"), mb(peak - kept, "B")))
    print("\n(MB = 10^6 bytes. The peak is reset just before the call, so it is the call's own high-water mark.)")


# -------------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description="Calling overhead of fo's Python bindings (see bench/README.md)")
    p.add_argument("--peer", help="python_overhead_peer (default: <build>/bench/ beside the fo package)")
    p.add_argument("--rounds", type=int, default=30, help="counted rounds, after one warm-up round")
    p.add_argument("--round-ms", type=float, default=100, help="time of a block of calls per side, case and round")
    p.add_argument("--calls", type=int, help="calls per block instead (fixed)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--big-rows", type=int, default=20000, help="samples of the random-vector case")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--add-rows", type=int, default=100000)
    p.add_argument("--add-repeats", type=int, default=1)
    p.add_argument("--no-sort", action="store_true")
    p.add_argument("--no-add", action="store_true")
    p.add_argument("--dir", help="work directory, new or empty (kept); default a temporary one, deleted")
    p.add_argument("--no-driver", action="store_true",
                   help="do not also time the Python calls in this process (the one that built the store)")
    p.add_argument("--add-child", choices=ADD_KINDS, help=argparse.SUPPRESS)
    p.add_argument("--sort-child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def main():
    args = parse_args()
    if args.add_child:
        add_child(args.add_child, args.add_rows, args.dim)
        return
    if args.sort_child:
        sort_child()
        return
    import numpy as np

    import fo

    if not args.peer:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(fo.__file__))))
        args.peer = os.path.join(build, "bench", "python_overhead_peer")
    if not os.access(args.peer, os.X_OK):
        sys.exit("python_bench: no peer at %s; build the python_overhead_peer target or pass --peer" % args.peer)
    directory = args.dir or tempfile.mkdtemp(prefix="fo_python_bench_")
    os.makedirs(directory, exist_ok=True)
    os.environ["FO_DATABASE_PATH"] = os.path.join(directory, "fo.db")  # read by fo on first use
    if os.path.exists(os.environ["FO_DATABASE_PATH"]) and not args.no_sort:
        sys.exit("python_bench: %s already holds a store; give a new --dir" % directory)

    print("# python_bench\n")
    print("Date: %s UTC" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"))
    print("CPU: %s x %d; load average at start %s" % (cpu_model(), len(os.sched_getaffinity(0)), load_average()))
    print("Python %s (%s), numpy %s, fo %s from %s" % (platform.python_version(), sys.executable, np.__version__,
                                                       fo.__version__, os.path.dirname(fo.__file__)))
    print("Peer: %s; work directory %s\n" % (args.peer, directory), flush=True)
    try:
        sort = None if args.no_sort else run_sort(args, directory)
        add = None if args.no_add else run_add(args, directory)
        print("\nLoad average at end: %s" % load_average())
        if sort:
            print_sort(args, *sort)
        if add:
            print_add(args, add)
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
