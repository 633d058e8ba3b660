// The sklearn backend's saved index at scale: build a run of n x d random
// float32 vectors, then (in a new process) open it and answer the first
// query, and time warm whole-dataset queries against one ExactKnn call on the
// same matrix in memory.
//
//   build/bench/index_open_bench build /tmp/big.db 1000000 512
//   build/bench/index_open_bench query /tmp/big.db      # a new process
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "similarity/exact_knn.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

fo::Matrix Random(size_t n, size_t d, uint64_t seed) {
  fo::Matrix m(n, d);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist;
  for (size_t i = 0; i < n * d; ++i) m.data()[i] = dist(rng);
  return m;
}

int Build(const std::string& path, size_t n, size_t d) {
  auto db = fo::Database::Open(path);
  auto t0 = Clock::now();
  fo::Dataset ds = fo::Dataset::Create(db, "big");
  std::vector<std::string> ids;
  for (size_t done = 0; done < n; done += 50000) {
    std::vector<fo::Sample> samples(std::min<size_t>(50000, n - done));
    for (size_t i = 0; i < samples.size(); ++i) samples[i].filepath = "/img/" + std::to_string(done + i) + ".jpg";
    auto got = ds.AddSamples(samples);
    ids.insert(ids.end(), got.begin(), got.end());
  }
  auto t1 = Clock::now();
  fo::ComputeSimilarityOptions o;
  o.brain_key = "sim";
  o.embeddings = Random(n, d, 7);
  o.ids = ids;
  auto t2 = Clock::now();
  fo::ComputeSimilarity(ds.view(), o);
  auto t3 = Clock::now();
  std::printf("add_samples %.0f ms; compute_similarity from the array %.0f ms\n", Ms(t0, t1), Ms(t2, t3));
  return 0;
}

int Query(const std::string& path) {
  auto t0 = Clock::now();
  auto db = fo::Database::Open(path);
  fo::Dataset ds = fo::Dataset::Load(db, "big");
  auto index = fo::LoadBrainResults(ds, "sim");
  size_t d = index->backend().Dimension();
  auto t_open = Clock::now();
  fo::Matrix q = Random(1, d, 99);
  std::vector<float> qv(q.data(), q.data() + d);
  auto hits = index->Query(fo::SimilarityQuery::ByVector(qv), 10, false);
  auto t1 = Clock::now();
  std::printf("open + first query (k=10, whole dataset): %.1f ms (open %.1f ms), %zu hits, first %s\n", Ms(t0, t1),
              Ms(t0, t_open), hits.size(), hits.empty() ? "-" : hits[0].sample_id.c_str());
  double best = 1e30;
  for (int i = 0; i < 10; ++i) {
    auto a = Clock::now();
    index->Query(fo::SimilarityQuery::ByVector(qv), 10, false);
    best = std::min(best, Ms(a, Clock::now()));
  }
  std::printf("warm whole-dataset query: best of 10 %.1f ms\n", best);
  double take = 1e30;
  index->UseView(ds.view().Take(1000));
  for (int i = 0; i < 3; ++i) {
    auto a = Clock::now();
    index->Query(fo::SimilarityQuery::ByVector(qv), 10, false);
    take = std::min(take, Ms(a, Clock::now()));
  }
  std::printf("take(1000) view query: best of 3 %.1f ms (simple ViewSampleKeys evaluates the view)\n", take);
  // The same matrix in memory, one ExactKnn call.
  size_t n = index->total_index_size();
  fo::Matrix base = Random(n, d, 7);
  std::vector<float> norms(n);
  fo::internal::RowNorms(base.data(), n, d, norms.data());
  std::vector<int64_t> idx(10);
  std::vector<float> dist(10);
  double knn = 1e30;
  for (int i = 0; i < 10; ++i) {
    auto a = Clock::now();
    fo::internal::ExactKnn(base.data(), norms.data(), n, d, qv.data(), 1, 10, fo::internal::Metric::kCosine, false, nullptr,
                           idx.data(), dist.data());
    knn = std::min(knn, Ms(a, Clock::now()));
  }
  std::printf("ExactKnn in memory: best of 10 %.1f ms; ratio %.2f\n", knn, best / knn);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "build") return Build(argv[2], std::stoul(argv[3]), std::stoul(argv[4]));
  if (argc == 3 && std::string(argv[1]) == "query") return Query(argv[2]);
  std::fprintf(stderr, "usage: index_open_bench build DB N D | query DB\n");
  return 2;
}
