// quantized_search_bench: one query through fo::internal::QuantizedKnn (int8
// and float16 codes: scan, then exact re-rank of the candidates) against
// float32 ExactKnn in the same run on the same data, with the recall of the
// quantized answer against ExactKnn's. See bench/README.md.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "similarity/exact_knn.h"
#include "similarity/quantized_knn.h"

namespace {

using fo::bench::CpuModel;
using fo::bench::CpusAvailable;
using fo::bench::Fixed;
using fo::bench::LoadAverage;
using fo::bench::Ms;
using fo::bench::SplitMix;
using fo::internal::Metric;
using fo::internal::VectorStorage;
using Clock = std::chrono::steady_clock;

struct Options {
  size_t n = 1000000;
  size_t d = 512;
  size_t k = 10;
  size_t queries = 100;  // each timed once and checked for recall
  size_t probe = 1000;   // candidates scanned to find where the true top-k rank
  std::vector<std::string> data = {"uniform", "clustered"};
  std::vector<std::string> storages = {"int8", "float16"};
};

void Usage() {
  std::cerr << "usage: quantized_search_bench [--n N] [--dim D] [--k K] [--queries NQ] [--probe P]\n"
               "                              [--data uniform,clustered] [--storage int8,float16]\n";
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--n") {
      o.n = std::stoul(v);
    } else if (a == "--dim") {
      o.d = std::stoul(v);
    } else if (a == "--k") {
      o.k = std::stoul(v);
    } else if (a == "--queries") {
      o.queries = std::stoul(v);
    } else if (a == "--probe") {
      o.probe = std::stoul(v);
    } else if (a == "--data") {
      o.data = SplitCommas(v);
    } else if (a == "--storage") {
      o.storages = SplitCommas(v);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.n == 0 || o.d == 0 || o.k == 0 || o.queries == 0) throw std::invalid_argument("empty problem");
  return o;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// ---------------------------------------------------------------------------
// Data, from splitmix64 per row so that it does not depend on the thread
// count. "uniform": values in [-1, 1). "clustered": 1000 centres in [-1, 1)
// plus uniform noise of width 0.5, a stand-in for embeddings, whose
// neighbours are near-ties.

float Uniform(uint64_t& state) { return static_cast<float>(SplitMix(state) >> 40) * (2.0f / (1 << 24)) - 1.0f; }

void FillRows(float* x, size_t first, size_t rows, size_t d, uint64_t seed, bool clustered) {
  for (size_t i = first; i < first + rows; ++i) {
    uint64_t state = seed * 0x9e3779b97f4a7c15ULL + i;
    // Centres do not depend on the seed: queries share the base's centres.
    uint64_t centre_state = 0x5eed0000 + (clustered ? SplitMix(state) % 1000 : 0);
    for (size_t j = 0; j < d; ++j) {
      const float centre = clustered ? Uniform(centre_state) : 0.0f;
      x[i * d + j] = centre + (clustered ? 0.25f : 1.0f) * Uniform(state);
    }
  }
}

std::vector<float> Rows(size_t n, size_t d, uint64_t seed, bool clustered, int threads) {
  std::vector<float> x(n * d);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([&, t] { FillRows(x.data(), n * t / threads, n * (t + 1) / threads - n * t / threads, d, seed, clustered); });
  }
  FillRows(x.data(), 0, n / threads, d, seed, clustered);
  for (auto& th : pool) th.join();
  return x;
}

// ---------------------------------------------------------------------------

struct Answer {
  std::vector<int64_t> index;
  std::vector<float> dist;
};

struct QuantizedFigures {
  std::vector<double> scan_ms, rerank_ms;
  size_t identical = 0, found = 0;
  size_t worst_rank = 0;  // worst approximate rank (1-based) of a true top-k row; > probe = not found
};

int Main(const Options& o) {
  const int cpus = CpusAvailable();
  std::cout << "# quantized_search_bench\n\n"
            << "- CPU: " << CpuModel() << ", " << cpus << " CPUs available (nproc)\n"
            << "- load average at start: " << LoadAverage() << "\n"
            << "- scan kernel: " << fo::internal::ScanKernelName() << "; BLAS: " << fo::internal::BlasDescription()
            << "\n"
            << "- N = " << o.n << ", D = " << o.d << ", k = " << o.k << ", " << o.queries
            << " queries (fresh rows of the same distribution), candidates re-ranked: " << fo::internal::CandidateCount(o.k)
            << "\n\n"
            << "| data | metric | search | ms / query, median | scan | re-rank | scan GB/s | top-k = exact | "
               "recall | worst rank of a true top-k row |\n"
            << "|---|---|---|---|---|---|---|---|---|---|\n"
            << std::flush;
  for (const std::string& kind : o.data) {
    if (kind != "uniform" && kind != "clustered") throw std::invalid_argument("unknown data " + kind);
    const std::vector<float> base = Rows(o.n, o.d, 1, kind == "clustered", cpus);
    // Queries: rows of the same distribution (not in the base).
    const std::vector<float> queries = Rows(o.queries, o.d, 2, kind == "clustered", 1);
    std::vector<float> norms(o.n);
    fo::internal::RowNorms(base.data(), o.n, o.d, norms.data());
    for (Metric metric : {Metric::kCosine, Metric::kDotProduct, Metric::kEuclidean}) {
      std::vector<Answer> exact(o.queries, {std::vector<int64_t>(o.k), std::vector<float>(o.k)});
      std::vector<double> exact_ms;
      for (size_t q = 0; q < o.queries; ++q) {
        const auto start = Clock::now();
        fo::internal::ExactKnn(base.data(), norms.data(), o.n, o.d, queries.data() + q * o.d, 1, o.k, metric, false,
                               nullptr, exact[q].index.data(), exact[q].dist.data());
        exact_ms.push_back(MsSince(start));
      }
      std::cout << "| " << kind << " | " << MetricName(metric) << " | ExactKnn float32 | " << Ms(Median(exact_ms))
                << " | | | " << Fixed(o.n * o.d * 4.0 / Median(exact_ms) / 1e6, 1) << " | | | |\n"
                << std::flush;
      for (const std::string& name : o.storages) {
        const VectorStorage storage = fo::internal::ParseVectorStorage(name);
        std::vector<uint8_t> codes(o.n * fo::internal::CodeBytesPerRow(storage, o.d));
        auto start = Clock::now();
        const auto quantizer = fo::internal::ScalarQuantizer::Train(base.data(), o.n, o.d, metric);
        fo::internal::EncodeRows(storage, &quantizer, metric, base.data(), o.n, o.d, codes.data());
        const double encode_ms = MsSince(start);
        const fo::internal::CodeMatrix view{storage, codes.data(), o.n, o.d, &quantizer, {}};
        const auto fetch = [&](int64_t row) { return base.data() + row * o.d; };
        QuantizedFigures f;
        Answer got{std::vector<int64_t>(o.k), std::vector<float>(o.k)};
        for (size_t q = 0; q < o.queries; ++q) {
          const float* query = queries.data() + q * o.d;
          start = Clock::now();
          const auto candidates = fo::internal::CandidateSearch(view, query, metric, false, nullptr,
                                                                fo::internal::CandidateCount(o.k));
          f.scan_ms.push_back(MsSince(start));
          start = Clock::now();
          fo::internal::ReRank(candidates, o.d, fetch, query, metric, false, o.k, got.index.data(), got.dist.data());
          f.rerank_ms.push_back(MsSince(start));
          f.identical += got.index == exact[q].index && got.dist == exact[q].dist;
          for (int64_t i : exact[q].index) f.found += std::count(got.index.begin(), got.index.end(), i);
          // Untimed: where the true rows sit in the approximate order.
          const auto wide = fo::internal::CandidateSearch(view, query, metric, false, nullptr, o.probe);
          for (int64_t i : exact[q].index) {
            const size_t rank = static_cast<size_t>(std::find(wide.begin(), wide.end(), i) - wide.begin()) + 1;
            f.worst_rank = std::max(f.worst_rank, rank);
          }
        }
        std::vector<double> total(o.queries);
        for (size_t q = 0; q < o.queries; ++q) total[q] = f.scan_ms[q] + f.rerank_ms[q];
        std::cout << "| " << kind << " | " << MetricName(metric) << " | " << name << " (encode " << Ms(encode_ms)
                  << ") | " << Ms(Median(total)) << " | " << Ms(Median(f.scan_ms)) << " | "
                  << Ms(Median(f.rerank_ms)) << " | " << Fixed(codes.size() / Median(f.scan_ms) / 1e6, 1) << " | "
                  << f.identical << " / " << o.queries << " | " << Fixed(100.0 * f.found / (o.queries * o.k), 2)
                  << "% | " << (f.worst_rank > o.probe ? "> " + std::to_string(o.probe) : std::to_string(f.worst_rank))
                  << " |\n"
                  << std::flush;
      }
    }
  }
  std::cout << "\n- load average at end: " << LoadAverage() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return fo::bench::RunMain("quantized_search_bench", Usage, [&] { return Main(ParseArgs(argc, argv)); });
}
