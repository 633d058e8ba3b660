// The C++ side of bench/scale_bench.py (issue #11's targets): warm
// sort_by_similarity through the public API (include/fo/), on the store the
// driver built, in a process of its own. Not meant to be run by hand (see
// bench/README.md), though it can be:
//
//   scale_bench_cpp --store PATH --dataset NAME --brain-key KEY --queries Q.npy
//                   [--k 10] [--warmup 2] [--take 1000] [--seed 51] [--tag TAG]
//
// Q.npy holds warmup + R query vectors (float32 or float64, 2-D). The first
// `warmup` rows are queried once each and not timed (the first of them loads
// the run into the process's index cache: its time is reported as
// "first_ms"); then each of the R rows is timed on the whole dataset, on
// dataset.take(--take, --seed) and, with --tag, on match_tags([TAG]).
// One call is what python/src/dataset.cc does for sort_by_similarity:
//   SortBySimilarity(view, SimilarityQuery::ByVector(q), {k, brain_key}).Ids()
// Prints one JSON line: {"first_ms", "whole_ms": [...], "take_ms": [...],
// "tag_ms": [...], "whole_ids": [[id, ...] per timed query], "view_counts"}.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/npy.h"
#include "fo/view.h"

namespace fo::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void Usage() {
  std::cerr << "usage: scale_bench_cpp --store PATH --dataset NAME --brain-key KEY --queries Q.npy\n"
               "                       [--k 10] [--warmup 2] [--take 1000] [--seed 51] [--tag TAG]\n";
}

struct Args {
  std::string store, dataset, brain_key, queries, tag;
  size_t k = 10, warmup = 2, take = 1000;
  uint64_t seed = 51;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw InvalidArgument("missing value after " + flag);
    std::string v = argv[++i];
    if (flag == "--store") a.store = v;
    else if (flag == "--dataset") a.dataset = v;
    else if (flag == "--brain-key") a.brain_key = v;
    else if (flag == "--queries") a.queries = v;
    else if (flag == "--tag") a.tag = v;
    else if (flag == "--k") a.k = std::stoul(v);
    else if (flag == "--warmup") a.warmup = std::stoul(v);
    else if (flag == "--take") a.take = std::stoul(v);
    else if (flag == "--seed") a.seed = std::stoull(v);
    else throw InvalidArgument("unknown option " + flag);
  }
  if (a.store.empty() || a.dataset.empty() || a.brain_key.empty() || a.queries.empty())
    throw InvalidArgument("--store, --dataset, --brain-key and --queries are required");
  return a;
}

// The one call timed everywhere: a sort of `view` by vector `q`, evaluated.
std::vector<std::string> Sort(const View& view, std::span<const float> q, const SortBySimilarityOptions& o) {
  return SortBySimilarity(view, SimilarityQuery::ByVector(std::vector<float>(q.begin(), q.end())), o).Ids();
}

int Run(int argc, char** argv) {
  Args a = ParseArgs(argc, argv);
  Matrix queries = ReadNpy(a.queries);
  if (queries.rows() <= a.warmup) throw InvalidArgument("--queries has no rows beyond the warm-up ones");
  auto db = Database::Open(a.store);
  Dataset ds = Dataset::Load(db, a.dataset);
  SortBySimilarityOptions o;
  o.k = a.k;
  o.brain_key = a.brain_key;

  View whole = ds.view();
  View taken = whole.Take(a.take, a.seed);
  View tagged = whole.MatchTags({a.tag});
  nlohmann::json out;
  out["view_counts"] = {{"whole", whole.Count()}, {"take", taken.Count()},
                        {"tag", a.tag.empty() ? 0 : tagged.Count()}};

  for (size_t i = 0; i < a.warmup; ++i) {
    auto start = Clock::now();
    Sort(whole, queries.row(i), o);
    if (i == 0) out["first_ms"] = MsSince(start);
  }
  std::vector<double> whole_ms, take_ms, tag_ms;
  std::vector<std::vector<std::string>> whole_ids;
  for (size_t i = a.warmup; i < queries.rows(); ++i) {
    auto start = Clock::now();
    whole_ids.push_back(Sort(whole, queries.row(i), o));
    whole_ms.push_back(MsSince(start));
  }
  for (size_t i = 0; i < a.warmup; ++i) Sort(taken, queries.row(i), o);
  for (size_t i = a.warmup; i < queries.rows(); ++i) {
    auto start = Clock::now();
    Sort(taken, queries.row(i), o);
    take_ms.push_back(MsSince(start));
  }
  if (!a.tag.empty()) {
    for (size_t i = 0; i < a.warmup; ++i) Sort(tagged, queries.row(i), o);
    for (size_t i = a.warmup; i < queries.rows(); ++i) {
      auto start = Clock::now();
      Sort(tagged, queries.row(i), o);
      tag_ms.push_back(MsSince(start));
    }
  }
  out["whole_ms"] = whole_ms;
  out["take_ms"] = take_ms;
  out["tag_ms"] = tag_ms;
  out["whole_ids"] = whole_ids;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace fo::bench

int main(int argc, char** argv) {
  return fo::bench::RunMain("scale_bench_cpp", fo::bench::Usage, [&] { return fo::bench::Run(argc, argv); });
}
