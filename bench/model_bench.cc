// model_bench: images per second for a TorchScript image encoder (by default
// a CLIP ViT-B/32-sized one with random weights, made by
// bench/make_vit_b32.py), end to end from JPEG files on disk through
// fo::ComputeEmbeddings, against the model's own forward time in fo
// (Model::EmbedImages on prepared images) and against PyTorch running the
// same file on the same images with CLIP's reference preprocessing
// (bench/torch_peer.py in a child /usr/bin/python3). The three are
// interleaved in one run and repeated. See bench/README.md.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/image.h"
#include "fo/import.h"
#include "fo/model.h"
#include "similarity/exact_knn.h"
#include "torchscript/torch_models.h"

// OpenBLAS (linked through fo_lib): libtorch's matrix products run on it, with
// its own thread pool beside torch's OpenMP threads.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace {

namespace fs = std::filesystem;
using fo::bench::CpuModel;
using fo::bench::CpusAvailable;
using fo::bench::Fixed;
using fo::bench::LoadAverage;
using fo::bench::Ms;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string TempDir() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "(unset)" : v;
}

// One thread setting: torch's intra-op threads and OpenBLAS's (0: as the
// process started, i.e. OPENBLAS_NUM_THREADS or one per core).
struct Config {
  int torch_threads = 1;
  int blas_threads = 0;
  std::string Label() const {
    return "torch " + std::to_string(torch_threads) + ", BLAS " +
           (blas_threads == 0 ? std::string("default") : std::to_string(blas_threads));
  }
};

struct Options {
  std::string model = TempDir() + "/fo-bench/vit_b32_random.pt";
  std::string images = TempDir() + "/fo-bench/jpegs";
  size_t count = 256;
  size_t batch = 16;
  int runs = 3;
  int threads = 0;       // 0: fo's default, torch's own (one per physical core)
  int blas_threads = 0;  // 0: leave OpenBLAS as it starts
  bool sweep_threads = false;
  bool sweep_blas = false;
  std::vector<size_t> fo_workers = {0};
  std::string peer_workers = "0,1";
  std::string peer_preprocess = "auto";
  bool peer = true;
  std::string python = "/usr/bin/python3";
};

void Usage() {
  std::cerr << "usage: model_bench [--model PATH.pt] [--images DIR] [--count N] [--batch B] [--runs R]\n"
               "                   [--threads T] [--blas-threads N] [--sweep-threads] [--sweep-blas]\n"
               "                   [--fo-workers W1,W2] [--peer-workers W1,W2]\n"
               "                   [--peer-preprocess auto|torchvision|pil] [--no-peer] [--python PATH]\n";
}

std::vector<size_t> SizeList(const std::string& s) {
  std::vector<size_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoul(item));
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
      return argv[++i];
    };
    if (a == "--model") o.model = value();
    else if (a == "--images") o.images = value();
    else if (a == "--count") o.count = std::stoul(value());
    else if (a == "--batch") o.batch = std::stoul(value());
    else if (a == "--runs") o.runs = std::stoi(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--blas-threads") o.blas_threads = std::stoi(value());
    else if (a == "--sweep-threads") o.sweep_threads = true;
    else if (a == "--sweep-blas") o.sweep_blas = true;
    else if (a == "--fo-workers") o.fo_workers = SizeList(value());
    else if (a == "--peer-workers") o.peer_workers = value();
    else if (a == "--peer-preprocess") o.peer_preprocess = value();
    else if (a == "--no-peer") o.peer = false;
    else if (a == "--python") o.python = value();
    else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.count == 0 || o.batch == 0 || o.runs <= 0 || o.fo_workers.empty())
    throw std::invalid_argument("empty problem");
  return o;
}

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs a shell command, returns its stdout; throws if it fails.
std::string Run(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[1 << 16];
  for (size_t got; (got = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, got);
  int status = pclose(pipe);
  if (status != 0) throw std::runtime_error("exit status " + std::to_string(WEXITSTATUS(status)) + ": " + cmd);
  return out;
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// ---------------------------------------------------------------------------
// What is measured, per repetition and configuration.

struct PeerRun {
  std::map<std::string, double> e2e_s;  // DataLoader configuration -> seconds
  double forward_s = 0;
  double decode_ms = 0, preprocess_ms = 0;
  json info;
};

PeerRun RunPeer(const Options& o, const Config& c) {
  std::string cmd = (c.blas_threads ? "env OPENBLAS_NUM_THREADS=" + std::to_string(c.blas_threads) + " " : "") +
                    Quote(o.python) + " " + Quote(std::string(FO_BENCH_DIR) + "/torch_peer.py") + " " +
                    Quote(o.model) + " " + Quote(o.images) + " --batch-size " + std::to_string(o.batch) +
                    " --threads " + std::to_string(c.torch_threads) + " --workers " + o.peer_workers +
                    " --preprocess " + o.peer_preprocess + " --runs 1 --count " + std::to_string(o.count);
  json j = json::parse(Run(cmd));
  PeerRun r;
  for (const auto& [k, v] : j.at("e2e").items()) r.e2e_s[k] = v.at("median_s").get<double>();
  r.forward_s = j.at("forward").at("median_s").get<double>();
  r.decode_ms = j.at("decode_ms_per_image").get<double>();
  r.preprocess_ms = j.at("preprocess_ms_per_image").get<double>();
  r.info = j;
  return r;
}

struct Series {
  std::vector<double> seconds;
  void Add(double s) { seconds.push_back(s); }
};

struct ConfigResults {
  std::map<size_t, Series> fo_e2e;  // by num_workers
  Series fo_forward;
  std::map<std::string, Series> peer_e2e;
  Series peer_forward;
  std::vector<double> peer_decode_ms, peer_preprocess_ms;
  json peer_info;
};

int Main(Options o) {
  const int cpus = CpusAvailable();
  if (o.threads == 0) o.threads = fo::internal::TorchDefaultThreads();
  const std::string start_load = LoadAverage();
  const int blas_at_start = openblas_get_num_threads();

  // Inputs: made on first use by the Python scripts beside this file.
  if (!fs::exists(o.model)) {
    std::cout << "- making " << o.model << " (bench/make_vit_b32.py)\n" << std::flush;
    Run(Quote(o.python) + " " + Quote(std::string(FO_BENCH_DIR) + "/make_vit_b32.py") + " " + Quote(o.model) +
        " >&2");
  }
  if (!fs::exists(o.images)) {
    std::cout << "- making " << o.count << " JPEG files in " << o.images << " (bench/make_jpegs.py)\n" << std::flush;
    Run(Quote(o.python) + " " + Quote(std::string(FO_BENCH_DIR) + "/make_jpegs.py") + " " + Quote(o.images) +
        " --count " + std::to_string(o.count) + " >&2");
  }

  std::vector<Config> configs;
  std::vector<int> torch_settings = o.sweep_threads ? std::vector<int>{1, cpus} : std::vector<int>{o.threads};
  std::vector<int> blas_settings = o.sweep_blas ? std::vector<int>{1, cpus} : std::vector<int>{o.blas_threads};
  if (o.sweep_threads && cpus == 1) torch_settings = {1};
  if (o.sweep_blas && cpus == 1) blas_settings = {1};
  for (int t : torch_settings)
    for (int b : blas_settings) configs.push_back({t, b});

  // A temporary store with the images as a dataset.
  const fs::path store_dir = fs::path(TempDir()) / ("fo_model_bench_" + std::to_string(getpid()));
  fs::create_directories(store_dir);
  auto db = fo::Database::Open((store_dir / "fo.db").string());
  std::vector<std::string> skipped;
  std::vector<fo::Sample> samples = fo::ScanImageDirectory(o.images, &skipped);
  if (samples.size() < o.count)
    throw std::runtime_error("only " + std::to_string(samples.size()) + " images in " + o.images + ", --count " +
                             std::to_string(o.count));
  samples.resize(o.count);
  std::vector<std::string> paths;
  for (const auto& s : samples) paths.push_back(s.filepath);
  fo::Dataset dataset = fo::Dataset::Create(db, "model_bench");
  dataset.AddSamples(samples);
  const fo::View view = dataset.view();

  // One model per configuration, loaded once (about 600 MB each for ViT-B/32
  // in float32), warmed up: TorchScript's profiling executor specialises the
  // graph over the first calls.
  std::vector<std::unique_ptr<fo::Model>> models;
  std::vector<double> load_s;
  for (const Config& c : configs) {
    auto start = Clock::now();
    models.push_back(fo::LoadModel(o.model, json{{"num_threads", c.torch_threads}}));
    load_s.push_back(Seconds(start));
  }

  // The images as the model sees them (decoded, resized, cropped), for the
  // forward-only runs; the serial decode and prepare costs on the side.
  std::vector<fo::Image> prepared;
  {
    for (const auto& p : paths) prepared.push_back(models[0]->PrepareImage(fo::LoadImage(p)));
  }
  std::vector<std::vector<fo::Image>> batches;
  for (size_t i = 0; i < prepared.size(); i += o.batch)
    batches.emplace_back(prepared.begin() + i, prepared.begin() + std::min(prepared.size(), i + o.batch));

  auto set_blas = [&](const Config& c) { openblas_set_num_threads(c.blas_threads ? c.blas_threads : blas_at_start); };
  for (size_t k = 0; k < configs.size(); ++k) {
    set_blas(configs[k]);
    for (int w = 0; w < 2; ++w) models[k]->EmbedImages(batches[0]);
  }

  std::cout << "# model_bench\n\n"
            << "- CPU: " << CpuModel() << ", " << cpus << " CPUs available (nproc)\n"
            << "- load average at start: " << start_load << "\n"
            << "- model: " << o.model << " (" << Fixed(fs::file_size(o.model) / 1048576.0, 1) << " MiB, "
            << models[0]->dimension() << "-d), loaded in " << Fixed(Median(load_s), 1) << " s\n"
            << "- images: " << o.count << " JPEG files from " << o.images << ", batch " << o.batch << ", "
            << o.runs << " repetitions, interleaved\n"
            << "- torch: " << fo::internal::TorchDescription() << "\n"
            << "- BLAS: " << fo::internal::BlasDescription() << "\n"
            << "- OMP_NUM_THREADS=" << Env("OMP_NUM_THREADS") << ", OPENBLAS_NUM_THREADS=" << Env("OPENBLAS_NUM_THREADS")
            << ", OMP_WAIT_POLICY=" << Env("OMP_WAIT_POLICY") << ", GOMP_SPINCOUNT=" << Env("GOMP_SPINCOUNT") << "\n"
            << "- thread settings: ";
  for (size_t k = 0; k < configs.size(); ++k) std::cout << (k ? "; " : "") << configs[k].Label();
  std::cout << "\n\n" << std::flush;

  std::vector<ConfigResults> results(configs.size());
  std::vector<double> fo_decode_ms, fo_prepare_ms;
  for (int r = 0; r < o.runs; ++r) {
    // Serial decode and decode + prepare, one thread, per image.
    {
      auto start = Clock::now();
      for (const auto& p : paths) fo::LoadImage(p);
      fo_decode_ms.push_back(Seconds(start) * 1e3 / paths.size());
      start = Clock::now();
      for (const auto& p : paths) models[0]->PrepareImage(fo::LoadImage(p));
      fo_prepare_ms.push_back(Seconds(start) * 1e3 / paths.size());
    }
    for (size_t k = 0; k < configs.size(); ++k) {
      const Config& c = configs[k];
      fo::Model& model = *models[k];
      ConfigResults& res = results[k];
      std::vector<std::function<void()>> steps;
      steps.push_back([&] {
        set_blas(c);
        for (size_t w : o.fo_workers) {
          fo::ComputeEmbeddingsOptions eo;
          eo.batch_size = o.batch;
          eo.num_workers = w;
          eo.progress = false;
          auto start = Clock::now();
          fo::EmbeddingsResult e = fo::ComputeEmbeddings(view, model, eo);
          const double s = Seconds(start);
          if (e.embeddings.rows() != o.count) throw std::runtime_error("ComputeEmbeddings returned too few rows");
          res.fo_e2e[w].Add(s);
          std::cout << "  run " << r + 1 << ", " << c.Label() << ": fo end to end (num_workers " << w << ") "
                    << Fixed(o.count / s, 2) << " images/s\n"
                    << std::flush;
        }
      });
      steps.push_back([&] {
        set_blas(c);
        auto start = Clock::now();
        for (const auto& b : batches) model.EmbedImages(b);
        const double s = Seconds(start);
        res.fo_forward.Add(s);
        std::cout << "  run " << r + 1 << ", " << c.Label() << ": fo forward only " << Fixed(o.count / s, 2)
                  << " images/s\n"
                  << std::flush;
      });
      if (o.peer) {
        steps.push_back([&] {
          try {
            PeerRun p = RunPeer(o, c);
            for (const auto& [k2, s] : p.e2e_s) res.peer_e2e[k2].Add(s);
            res.peer_forward.Add(p.forward_s);
            res.peer_decode_ms.push_back(p.decode_ms);
            res.peer_preprocess_ms.push_back(p.preprocess_ms);
            res.peer_info = p.info;
            std::cout << "  run " << r + 1 << ", " << c.Label() << ": PyTorch";
            for (const auto& [k2, s] : p.e2e_s) std::cout << " end to end (" << k2 << ") " << Fixed(o.count / s, 2) << ",";
            std::cout << " forward only " << Fixed(o.count / p.forward_s, 2) << " images/s\n" << std::flush;
          } catch (const std::exception& e) {
            std::cout << "  run " << r + 1 << ", " << c.Label() << ": PyTorch peer failed: " << e.what() << "\n";
          }
        });
      }
      // Rotate the order across repetitions so that no contender always runs
      // first (or right after the peer's process start).
      for (size_t s = 0; s < steps.size(); ++s) steps[(s + r) % steps.size()]();
    }
  }
  openblas_set_num_threads(blas_at_start);

  // ---------------------------------------------------------------------
  // Report.
  const double n = static_cast<double>(o.count);
  const size_t nbatches = batches.size();
  auto row = [&](std::ostream& out, const std::string& what, const Series& s) {
    if (s.seconds.empty()) return;
    const double med = Median(s.seconds);
    const auto [lo, hi] = std::minmax_element(s.seconds.begin(), s.seconds.end());
    out << "| " << what << " | " << Fixed(n / med, 2) << " | " << Fixed(n / *hi, 2) << " – " << Fixed(n / *lo, 2)
        << " | " << Fixed(med, 1) << " s | " << Ms(med * 1e3 / nbatches) << " |\n";
  };
  // Ratio of throughputs per repetition (a / b in images/s = b_s / a_s),
  // paired so that the machine's drift cancels; the median over runs.
  auto paired = [&](const Series& a, const Series& b) {
    std::vector<double> ratios;
    for (size_t i = 0; i < std::min(a.seconds.size(), b.seconds.size()); ++i)
      ratios.push_back(b.seconds[i] / a.seconds[i]);
    return Median(ratios);
  };

  std::ostringstream table, ratios, notes;
  table << "| thread setting: contender | images/s, median | range | " << o.count << " images, median | per batch of "
        << o.batch << " |\n|---|---|---|---|---|\n";
  ratios << "| thread setting | fo e2e / fo forward | fo e2e / best PyTorch e2e | fo forward / PyTorch forward | "
            "fo e2e / fo e2e at torch " << o.threads << " |\n|---|---|---|---|---|\n";
  for (size_t k = 0; k < configs.size(); ++k) {
    const ConfigResults& res = results[k];
    const std::string label = configs[k].Label();
    for (const auto& [w, s] : res.fo_e2e)
      row(table, label + ": fo end to end (ComputeEmbeddings, num_workers " +
                     (w == 0 ? std::to_string(cpus) + " (default)" : std::to_string(w)) + ")",
          s);
    row(table, label + ": fo forward only (EmbedImages on prepared 224x224)", res.fo_forward);
    std::string best_peer;
    for (const auto& [k2, s] : res.peer_e2e) {
      row(table, label + ": PyTorch end to end (DataLoader " + k2 + ")", s);
      if (best_peer.empty() || Median(s.seconds) < Median(res.peer_e2e.at(best_peer).seconds)) best_peer = k2;
    }
    row(table, label + ": PyTorch forward only (prepared tensors)", res.peer_forward);

    const Series& fo_e2e = res.fo_e2e.begin()->second;
    ratios << "| " << label << " | " << Fixed(paired(fo_e2e, res.fo_forward), 2) << " | "
           << (best_peer.empty() ? "n/a" : Fixed(paired(fo_e2e, res.peer_e2e.at(best_peer)), 2) + " (vs " +
                                               best_peer + ")")
           << " | " << (res.peer_forward.seconds.empty() ? "n/a" : Fixed(paired(res.fo_forward, res.peer_forward), 2))
           << " | ";
    // Against the main setting (torch threads = --threads), same BLAS.
    size_t main_k = k;
    for (size_t j = 0; j < configs.size(); ++j)
      if (configs[j].torch_threads == o.threads && configs[j].blas_threads == configs[k].blas_threads) main_k = j;
    ratios << Fixed(paired(fo_e2e, results[main_k].fo_e2e.begin()->second), 2) << " |\n";
    if (!res.peer_decode_ms.empty()) {
      const json& info = res.peer_info;
      notes << "- " << label << ": PyTorch " << info.value("torch_version", "?") << " reported "
            << info.value("threads", 0) << " intra-op / " << info.value("interop_threads", 0)
            << " inter-op threads; preprocessing with " << info.value("preprocess", "?") << "; serial decode "
            << Ms(Median(res.peer_decode_ms)) << " per image, decode + CLIP transform "
            << Ms(Median(res.peer_preprocess_ms)) << " per image\n";
    }
  }
  notes << "- fo serial (one thread) LoadImage " << Ms(Median(fo_decode_ms)) << " per image, LoadImage + PrepareImage "
        << Ms(Median(fo_prepare_ms)) << " per image\n";

  std::cout << "\n" << table.str() << "\nRatios of images/s, per repetition then the median (1.00 = as fast):\n\n"
            << ratios.str() << "\n" << notes.str() << "- load average at end: " << LoadAverage() << "\n";

  fs::remove_all(store_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return fo::bench::RunMain("model_bench", Usage, [&] { return Main(ParseArgs(argc, argv)); });
}
