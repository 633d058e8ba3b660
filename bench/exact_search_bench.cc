// exact_search_bench: times fo::internal::ExactKnn on random float32 data
// against the cost of reading the matrix once and against faiss IndexFlatIP
// (Debian's python3-faiss, run by bench/faiss_peer.py on the same data in the
// same run). Prints the machine, the BLAS loaded and a Markdown table; see
// bench/README.md.
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "similarity/exact_knn.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FO_BENCH_X86 1
#endif

namespace {

using fo::bench::CpuModel;
using fo::bench::CpusAvailable;
using fo::bench::Fixed;
using fo::bench::LoadAverage;
using fo::bench::Ms;
using fo::bench::SplitMix;

using fo::internal::Metric;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<size_t> sizes = {100000, 1000000};
  size_t d = 512;
  size_t k = 10;
  size_t batch = 100;
  int runs_read = 10;
  int runs_one = 20;
  int runs_batch = 5;
  bool faiss = true;
  std::string python = "/usr/bin/python3";
};

void Usage() {
  std::cerr << "usage: exact_search_bench [--sizes N1,N2,...] [--dim D] [--k K] [--batch NQ]\n"
               "                          [--runs-one R] [--runs-batch R] [--no-faiss] [--python PATH]\n";
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
      return argv[++i];
    };
    if (a == "--sizes") {
      o.sizes.clear();
      std::stringstream ss(value());
      for (std::string s; std::getline(ss, s, ',');) o.sizes.push_back(std::stoul(s));
    } else if (a == "--dim") {
      o.d = std::stoul(value());
    } else if (a == "--k") {
      o.k = std::stoul(value());
    } else if (a == "--batch") {
      o.batch = std::stoul(value());
    } else if (a == "--runs-one") {
      o.runs_one = std::stoi(value());
    } else if (a == "--runs-batch") {
      o.runs_batch = std::stoi(value());
    } else if (a == "--no-faiss") {
      o.faiss = false;
    } else if (a == "--python") {
      o.python = value();
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.sizes.empty() || o.d == 0 || o.k == 0 || o.batch == 0) throw std::invalid_argument("empty problem");
  return o;
}

// ---------------------------------------------------------------------------
// Machine.

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "(unset)" : v;
}

// ---------------------------------------------------------------------------
// Data: uniform in [-1, 1), from splitmix64 seeded per 64Ki-value chunk so the
// values do not depend on how many threads fill them.

// fn(t) for t in [0, threads), the caller running t = 0.
void RunThreads(int threads, const std::function<void(int)>& fn) {
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(fn, t);
  fn(0);
  for (auto& th : pool) th.join();
}

// fn(begin, end) over `threads` contiguous parts of [0, n).
void ParallelFor(size_t n, int threads, const std::function<void(size_t, size_t)>& fn) {
  RunThreads(threads, [&](int t) { fn(n * t / threads, n * (t + 1) / threads); });
}

std::vector<float> RandomMatrix(size_t rows, size_t d, uint64_t seed, int threads) {
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> m(rows * d);
  const size_t chunks = (m.size() + kChunk - 1) / kChunk;
  ParallelFor(chunks, threads, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      uint64_t state = seed * 0x100000001b3ULL + c;
      for (size_t i = c * kChunk; i < std::min(m.size(), (c + 1) * kChunk); ++i) {
        m[i] = static_cast<float>(SplitMix(state) >> 40) * (2.0f / (1 << 24)) - 1.0f;
      }
    }
  });
  return m;
}

// ---------------------------------------------------------------------------
// The floor: one streaming pass over the matrix, as fast as we can make it.

float SumPortable(const float* p, size_t n) {
  float s[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) s[j] += p[i + j];
  }
  for (; i < n; ++i) s[0] += p[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

#ifdef FO_BENCH_X86
__attribute__((target("avx2"))) float SumAvx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0;
  for (float v : lanes) s += v;
  for (; i < n; ++i) s += p[i];
  return s;
}
#endif

float Sum(const float* p, size_t n) {
#ifdef FO_BENCH_X86
  if (__builtin_cpu_supports("avx2")) return SumAvx2(p, n);
#endif
  return SumPortable(p, n);
}

// Threads take 256 KiB chunks from a shared counter, as ExactKnn's workers
// do, so that a core slowed by other load does not hold the others back.
float ParallelSum(const float* p, size_t n, int threads) {
  constexpr size_t kChunk = 64 * 1024;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::atomic<size_t> next{0};
  std::vector<float> partial(threads);
  RunThreads(threads, [&](int t) {
    float s = 0;
    for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
      s += Sum(p + c * kChunk, std::min(kChunk, n - c * kChunk));
    }
    partial[t] = s;
  });
  float s = 0;
  for (float v : partial) s += v;
  return s;
}

volatile float g_sink;

// ---------------------------------------------------------------------------
// Timing.

struct Stats {
  double median_ms = 0, best_ms = 0;
};

Stats Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  return {median, ms.front()};
}

Stats Time(int runs, const std::function<void(int)>& fn) {
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    auto start = Clock::now();
    fn(r);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return Summarise(ms);
}

// ---------------------------------------------------------------------------
// faiss, in a child process.

struct FaissResult {
  bool ok = false;
  std::string error;
  std::string version;
  int threads = 0;
  Stats one, batch;
  std::vector<std::vector<int64_t>> ids;
};

void WriteRaw(const std::string& path, const float* data, size_t count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// env: "NAME=value ..." put before the interpreter, or empty.
FaissResult RunFaiss(const Options& o, const std::string& env, const std::string& base_path,
                     const std::string& queries_path, size_t n, int threads) {
  FaissResult r;
  std::string cmd = (env.empty() ? "" : "env " + env + " ") + "'" + o.python + "' '" FO_BENCH_DIR "/faiss_peer.py' '" +
                    base_path + "' '" + queries_path + "' " + std::to_string(n) + " " + std::to_string(o.d) + " " +
                    std::to_string(o.batch) + " " + std::to_string(o.k) + " " + std::to_string(threads) + " " +
                    std::to_string(o.runs_one) + " " + std::to_string(o.runs_batch);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    r.error = "popen failed";
    return r;
  }
  std::string out;
  char buf[1 << 16];
  for (size_t got; (got = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, got);
  int status = pclose(pipe);
  if (status != 0) {
    r.error = "faiss_peer.py exited with status " + std::to_string(WEXITSTATUS(status));
    return r;
  }
  try {
    auto j = nlohmann::json::parse(out);
    r.version = j.at("faiss_version").get<std::string>();
    r.threads = j.at("omp_threads").get<int>();
    r.one = Summarise(j.at("one_query_ms").get<std::vector<double>>());
    r.batch = Summarise(j.at("batch_ms").get<std::vector<double>>());
    r.ids = j.at("batch_ids").get<std::vector<std::vector<int64_t>>>();
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = std::string("cannot parse faiss_peer.py output: ") + e.what();
  }
  return r;
}

int Main(const Options& o) {
  const int cpus = CpusAvailable();
  const size_t max_n = *std::max_element(o.sizes.begin(), o.sizes.end());
  std::cout << "# exact_search_bench\n\n"
            << "- CPU: " << CpuModel() << ", " << cpus << " CPUs available (nproc)\n"
            << "- load average at start: " << LoadAverage() << "\n"
            << "- BLAS: " << fo::internal::BlasDescription() << "\n"
            << "- OPENBLAS_CORETYPE=" << Env("OPENBLAS_CORETYPE")
            << ", OPENBLAS_NUM_THREADS=" << Env("OPENBLAS_NUM_THREADS")
            << ", OMP_NUM_THREADS=" << Env("OMP_NUM_THREADS") << "\n"
            << "- data: uniform [-1,1) float32, D = " << o.d << ", k = " << o.k << ", batch = " << o.batch
            << " queries; medians over " << o.runs_read << " (read), " << o.runs_one << " (1 query), " << o.runs_batch
            << " (batch) runs\n"
            << std::flush;

  auto start = Clock::now();
  std::vector<float> base = RandomMatrix(max_n, o.d, 1, cpus);
  std::vector<float> queries = RandomMatrix(o.batch, o.d, 2, 1);
  std::cout << "- generated " << max_n << " x " << o.d << " in "
            << Ms(std::chrono::duration<double, std::milli>(Clock::now() - start).count()) << "\n";

  std::string base_path, queries_path;
  if (o.faiss) {
    auto dir = std::filesystem::temp_directory_path();
    base_path = (dir / ("fo_bench_base_" + std::to_string(getpid()) + ".f32")).string();
    queries_path = (dir / ("fo_bench_queries_" + std::to_string(getpid()) + ".f32")).string();
    WriteRaw(base_path, base.data(), base.size());
    WriteRaw(queries_path, queries.data(), queries.size());
  }

  std::ostringstream table, notes;
  table << "| N | what | 1 query, median (best) | / read once | " << o.batch
        << " queries, median (best) | per query |\n"
        << "|---|---|---|---|---|---|\n";
  for (size_t n : o.sizes) {
    const size_t bytes = n * o.d * sizeof(float);
    // (a) The floor: one streaming read of the matrix on all CPUs.
    g_sink = ParallelSum(base.data(), n * o.d, cpus);  // warm-up
    Stats read = Time(o.runs_read, [&](int) { g_sink = ParallelSum(base.data(), n * o.d, cpus); });
    table << "| " << n << " | read N x D once (" << cpus << " threads, " << Fixed(bytes / read.median_ms / 1e6, 1)
          << " GB/s) | " << Ms(read.median_ms) << " (" << Ms(read.best_ms) << ") | 1.00 | | |\n";

    std::vector<float> norms(n);
    Stats norm_time = Time(3, [&](int) { fo::internal::RowNorms(base.data(), n, o.d, norms.data()); });
    notes << "- N = " << n << ": RowNorms (done once per index, not per search) " << Ms(norm_time.median_ms) << "\n";

    std::vector<int64_t> idx(o.batch * o.k);
    std::vector<float> dist(o.batch * o.k);
    std::vector<int64_t> dot_ids;
    auto measure = [&](Metric m, const std::string& label) {
      auto search = [&](const float* q, size_t nq) {
        fo::internal::ExactKnn(base.data(), norms.data(), n, o.d, q, nq, o.k, m, false, nullptr, idx.data(),
                               dist.data());
      };
      search(queries.data(), 1);  // warm-up
      // Each query run is paired with a read of the matrix just before it and
      // the ratio taken per pair, so that drift in the machine's load or
      // memory bandwidth between rows of the table does not skew the ratio.
      std::vector<double> one_ms, ratios;
      for (int r = 0; r < o.runs_one; ++r) {
        const double read_ms = Time(1, [&](int) { g_sink = ParallelSum(base.data(), n * o.d, cpus); }).best_ms;
        one_ms.push_back(Time(1, [&](int) { search(queries.data() + (r % o.batch) * o.d, 1); }).best_ms);
        ratios.push_back(one_ms.back() / read_ms);
      }
      const Stats one = Summarise(one_ms);
      search(queries.data(), o.batch);
      Stats batch = Time(o.runs_batch, [&](int) { search(queries.data(), o.batch); });
      if (m == Metric::kDotProduct) dot_ids = idx;
      table << "| " << n << " | " << label << " | " << Ms(one.median_ms) << " (" << Ms(one.best_ms) << ") | "
            << Fixed(Summarise(ratios).median_ms, 2) << " | " << Ms(batch.median_ms) << " (" << Ms(batch.best_ms)
            << ") | " << Ms(batch.median_ms / o.batch) << " |\n";
    };
    for (Metric m : {Metric::kDotProduct, Metric::kCosine, Metric::kEuclidean}) {
      measure(m, std::string("ExactKnn ") + MetricName(m));
    }

    if (o.faiss) {
      // faiss twice: as configured (OpenMP's default wait policy spins, which
      // fights OpenBLAS's own threads on 2 cores and any other load), and
      // with OMP_WAIT_POLICY=PASSIVE, the best setting we found for it.
      for (const std::string env : {"", "OMP_WAIT_POLICY=PASSIVE"}) {
        FaissResult f = RunFaiss(o, env, base_path, queries_path, n, cpus);
        const std::string what = "faiss " + f.version + " IndexFlatIP (" + std::to_string(f.threads) +
                                 " OpenMP threads" + (env.empty() ? "" : ", " + env) + ")";
        if (!f.ok) {
          table << "| " << n << " | faiss IndexFlatIP" << (env.empty() ? "" : " " + env) << " | failed: " << f.error
                << " | | | |\n";
          continue;
        }
        table << "| " << n << " | " << what << " | " << Ms(f.one.median_ms) << " (" << Ms(f.one.best_ms) << ") | "
              << Fixed(f.one.median_ms / read.median_ms, 2) << " | " << Ms(f.batch.median_ms) << " ("
              << Ms(f.batch.best_ms) << ") | " << Ms(f.batch.median_ms / o.batch) << " |\n";
        if (!env.empty()) continue;
        // faiss's inner product ranks like our dotproduct distance: the id
        // sets should agree up to float near-ties.
        size_t agree = 0;
        for (size_t q = 0; q < o.batch && q < f.ids.size(); ++q) {
          std::set<int64_t> ours(dot_ids.begin() + q * o.k, dot_ids.begin() + (q + 1) * o.k);
          for (int64_t id : f.ids[q]) agree += ours.count(id);
        }
        notes << "- N = " << n << ": faiss and ExactKnn dotproduct agree on " << agree << " of " << o.batch * o.k
              << " result ids for the batch\n";
      }
      // The machine's load may have changed while faiss ran; measuring again
      // shows how far the numbers drifted.
      measure(Metric::kDotProduct, "ExactKnn dotproduct, again after faiss");
    }
  }
  if (o.faiss) {
    std::filesystem::remove(base_path);
    std::filesystem::remove(queries_path);
  }
  std::cout << "\n" << table.str() << "\n" << notes.str() << "- load average at end: " << LoadAverage() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return fo::bench::RunMain("exact_search_bench", Usage, [&] { return Main(ParseArgs(argc, argv)); });
}
