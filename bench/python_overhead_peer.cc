// The C++ side of bench/python_bench.py: the same library calls the Python
// bindings make, on the same store, so that the driver can time both in one
// run, interleaved. Not meant to be run by hand (see bench/README.md).
//
//   python_overhead_peer sort --store PATH
//     Serves requests on stdin, one per line, answering one line on stdout:
//       sort DATASET KEY QUERY_ID K CALLS
//         times CALLS x SortBySimilarity(dataset.view(), ById(QUERY_ID),
//         {k, brain_key}).Ids() (what python/src/dataset.cc does for
//         dataset.sort_by_similarity), answers the times in ns.
//       pieces DATASET KEY QUERY_ID K CALLS
//         times the parts of such a call separately, CALLS times each: the
//         input view's ids; Dataset::Load + LoadBrainResults (what a call
//         costs more when the run is not in the process's index cache, i.e.
//         the first call); UseView + Query on a loaded index; answers
//         {"view_ids": [ns...], "load": [...], "query": [...]}.
//       quit (or end of input)
//   python_overhead_peer add --store PATH [--rows N] [--dim D]
//     In this fresh process: a dataset of N samples, an empty sklearn index,
//     an N x D fo::Matrix of random floats; then resets the peak RSS, calls
//     SimilarityIndex::AddToIndex(matrix, ids) and prints one JSON line with
//     the process's memory before and after (kB, from /proc/self/status).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/similarity.h"

namespace fo::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

void Usage() {
  std::cerr << "usage: python_overhead_peer sort --store PATH   (requests on stdin, see the source)\n"
               "       python_overhead_peer add --store PATH [--rows N] [--dim D]\n";
}

// VmRSS, VmHWM, RssAnon, RssFile of this process, in kB.
std::map<std::string, int64_t> MemoryKb() {
  std::map<std::string, int64_t> out;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    for (const char* key : {"VmRSS", "VmHWM", "RssAnon", "RssFile"}) {
      std::string prefix = std::string(key) + ":";
      if (line.rfind(prefix, 0) == 0) out[key] = std::stoll(line.substr(prefix.size()));
    }
  }
  return out;
}

// Resets VmHWM to the current RSS (Linux >= 4.0).
void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  if (!out.flush()) throw IOError("cannot write /proc/self/clear_refs");
}

class SortServer {
 public:
  explicit SortServer(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  void Serve() {
    for (std::string line; std::getline(std::cin, line);) {
      std::istringstream in(line);
      std::string verb, dataset, key, query;
      size_t k = 0, calls = 0;
      in >> verb;
      if (verb == "quit") return;
      if (!(in >> dataset >> key >> query >> k >> calls) || (verb != "sort" && verb != "pieces"))
        throw InvalidArgument("bad request: " + line);
      if (verb == "sort") {
        std::vector<int64_t> ns = TimeSort(dataset, key, query, k, calls);
        for (size_t i = 0; i < ns.size(); ++i) std::cout << (i ? " " : "") << ns[i];
        std::cout << std::endl;
      } else {
        std::cout << TimePieces(dataset, key, query, k, calls).dump() << std::endl;
      }
    }
  }

 private:
  Dataset& Load(const std::string& name) {
    auto it = datasets_.find(name);
    if (it == datasets_.end()) it = datasets_.emplace(name, Dataset::Load(db_, name)).first;
    return it->second;
  }

  static SortBySimilarityOptions Options(const std::string& key, size_t k) {
    SortBySimilarityOptions o;
    o.k = k;
    o.brain_key = key;
    return o;
  }

  std::vector<int64_t> TimeSort(const std::string& name, const std::string& key, const std::string& query, size_t k,
                                size_t calls) {
    Dataset& dataset = Load(name);
    std::vector<int64_t> ns;
    for (size_t i = 0; i < calls; ++i) {
      auto start = Clock::now();
      // As the binding: build the options, sort the dataset's view, evaluate.
      SortBySimilarity(dataset.view(), SimilarityQuery::ById(query), Options(key, k)).Ids();
      ns.push_back(NsSince(start));
    }
    return ns;
  }

  nlohmann::json TimePieces(const std::string& name, const std::string& key, const std::string& query, size_t k,
                            size_t calls) {
    Dataset& dataset = Load(name);
    nlohmann::json out = {{"view_ids", nlohmann::json::array()}, {"load", nlohmann::json::array()},
                          {"query", nlohmann::json::array()}};
    for (size_t i = 0; i < calls; ++i) {
      auto start = Clock::now();
      dataset.view().Ids();
      out["view_ids"].push_back(NsSince(start));
    }
    std::unique_ptr<SimilarityIndex> index;
    for (size_t i = 0; i < calls; ++i) {
      auto start = Clock::now();
      index = LoadBrainResults(Dataset::Load(db_, name), key);
      out["load"].push_back(NsSince(start));
    }
    for (size_t i = 0; i < calls; ++i) {
      auto start = Clock::now();
      index->UseView(dataset.view());
      index->Query(SimilarityQuery::ById(query), k, false);
      out["query"].push_back(NsSince(start));
    }
    return out;
  }

  std::shared_ptr<Database> db_;
  std::map<std::string, Dataset> datasets_;
};

nlohmann::json AddToIndexMemory(const std::shared_ptr<Database>& db, size_t rows, size_t dim) {
  Dataset dataset = Dataset::Create(db, "peer_add");
  std::vector<Sample> samples(rows);
  for (size_t i = 0; i < rows; ++i) samples[i].filepath = "/nonexistent/" + std::to_string(i) + ".jpg";
  std::vector<std::string> ids = dataset.AddSamples(std::move(samples));
  ComputeSimilarityOptions options;
  options.brain_key = "peer_add";
  options.backend = "sklearn";
  options.no_embeddings = true;
  std::unique_ptr<SimilarityIndex> index = ComputeSimilarity(dataset.view(), options);

  Matrix embeddings(rows, dim);
  uint64_t state = 51;
  for (size_t i = 0; i < rows * dim; ++i)
    embeddings.data()[i] = static_cast<float>(SplitMix(state) >> 11) / 9007199254740992.0f * 2 - 1;

  auto before = MemoryKb();
  ResetPeakRss();
  auto reset = MemoryKb();
  auto start = Clock::now();
  index->AddToIndex(embeddings, ids);
  double seconds = NsSince(start) / 1e9;
  auto after = MemoryKb();
  if (index->total_index_size() != rows) throw Internal("the index holds " + std::to_string(index->total_index_size()) + " rows");
  return {{"case", "C++ peer: AddToIndex(fo::Matrix)"},
          {"rows", rows},
          {"dim", dim},
          {"array_bytes", rows * dim * sizeof(float)},
          {"seconds", seconds},
          {"before", before},
          {"after_reset", reset},
          {"after", after}};
}

int Main(int argc, char** argv) {
  if (argc < 2) throw InvalidArgument("give a mode: sort or add");
  std::string mode = argv[1];
  std::string store;
  size_t rows = 100000, dim = 512;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) throw InvalidArgument(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--store") store = v;
    else if (a == "--rows") rows = std::stoul(v);
    else if (a == "--dim") dim = std::stoul(v);
    else throw InvalidArgument("unknown option " + a);
  }
  if (store.empty()) throw InvalidArgument("--store is required");
  auto db = Database::Open(store);
  if (mode == "sort") {
    SortServer(db).Serve();
  } else if (mode == "add") {
    std::cout << AddToIndexMemory(db, rows, dim).dump() << std::endl;
  } else {
    throw InvalidArgument("unknown mode " + mode);
  }
  return 0;
}

}  // namespace
}  // namespace fo::bench

int main(int argc, char** argv) {
  return fo::bench::RunMain("python_overhead_peer", fo::bench::Usage, [&] { return fo::bench::Main(argc, argv); });
}
