// Server-side time of the App's API (src/app) on a 10,000-sample dataset: the
// first page of 100 samples, their 100 thumbnails with an empty cache and a
// filled one, and a sort by similarity (k = 100) on the sklearn backend. Each
// is timed in-process (the handler functions of src/app/api.h, no HTTP) and
// over loopback HTTP (an AppServer on a free port, a cpp-httplib client with a
// kept-alive connection). See bench/README.md.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "app/api.h"
#include "bench_util.h"
#include "fo/app.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"

namespace fo::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  size_t samples = 10000;
  int width = 640;
  int height = 480;
  size_t dim = 284;  // the built-in color-gradient-descriptor's dimension
  int runs = 11;
  int cold_runs = 5;
  bool keep = false;
  std::string dir;
};

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string MedianBest(const std::vector<double>& ms) {
  return Ms(Median(ms)) + " (" + Ms(*std::min_element(ms.begin(), ms.end())) + ")";
}

// Times `fn` `runs` times, calling `before` (untimed) ahead of each run.
std::vector<double> Time(int runs, const std::function<void()>& fn, const std::function<void()>& before = {}) {
  std::vector<double> out;
  for (int i = 0; i < runs; ++i) {
    if (before) before();
    auto start = Clock::now();
    fn();
    out.push_back(MsSince(start));
  }
  return out;
}

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "app_bench: " << what << " failed\n";
    std::exit(1);
  }
}

void EmptyDirectory(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--samples") o.samples = std::stoul(next());
    else if (a == "--size") {
      std::string s = next();
      o.width = std::stoi(s.substr(0, s.find('x')));
      o.height = std::stoi(s.substr(s.find('x') + 1));
    } else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--cold-runs") o.cold_runs = std::stoi(next());
    else if (a == "--dir") o.dir = next();
    else if (a == "--keep") o.keep = true;
    else {
      std::cerr << "usage: app_bench [--samples N] [--size WxH] [--runs R] [--cold-runs R] [--dir DIR] [--keep]\n";
      std::exit(2);
    }
  }
  return o;
}

// A store with one dataset of `samples` shapes JPEGs (reused when `dir`
// already holds one) and a sklearn similarity run on random vectors.
std::shared_ptr<Database> BuildStore(const Options& o, const std::string& dir) {
  auto db = Database::Open(dir + "/fo.db");
  if (Dataset::Exists(db, "bench")) return db;
  auto start = Clock::now();
  ShapesOptions shapes;
  shapes.num_images = o.samples;
  shapes.width = o.width;
  shapes.height = o.height;
  std::vector<Sample> samples = GenerateShapes(dir + "/media", shapes);
  std::cout << "Generated " << samples.size() << " JPEGs of " << o.width << "x" << o.height << " in "
            << Ms(MsSince(start)) << "\n";
  Dataset dataset = Dataset::Create(db, "bench");
  std::vector<std::string> ids = dataset.AddSamples(std::move(samples));
  // Random vectors instead of the built-in model: computing 10,000
  // descriptors would take minutes and changes nothing in what is timed
  // (the sort searches vectors; it never runs the model for an id query).
  Matrix embeddings(ids.size(), o.dim);
  uint64_t state = 51;
  for (size_t i = 0; i < ids.size() * o.dim; ++i)
    embeddings.data()[i] = static_cast<float>(SplitMix(state) >> 11) / 9007199254740992.0f * 2 - 1;
  ComputeSimilarityOptions options;
  options.brain_key = "sim";
  options.backend = "sklearn";
  options.embeddings = std::move(embeddings);
  options.ids = ids;
  ComputeSimilarity(dataset.view(), options);
  std::cout << "Built the store in " << Ms(MsSince(start)) << "\n";
  return db;
}

std::vector<std::string> FirstPageIds(const internal::AppApi& api) {
  internal::ApiResponse page = api.ListSamples("bench", {{"limit", "100"}});
  Check(page.status == 200, "the first page");
  nlohmann::json body = page.Json();  // kept alive: the loop reads from it
  std::vector<std::string> ids;
  for (const auto& s : body["samples"]) ids.push_back(s["id"]);
  return ids;
}

void Run(const Options& o) {
  std::string dir = o.dir.empty() ? (fs::temp_directory_path() / ("fo_app_bench_" + std::to_string(getpid()))).string()
                                  : o.dir;
  fs::create_directories(dir);
  std::cout << "# app_bench\n\nCPU: " << CpuModel() << " x " << CpusAvailable() << "; load average at start "
            << LoadAverage() << "\n";
  auto db = BuildStore(o, dir);
  std::string thumbs = dir + "/thumbnails";
  EmptyDirectory(thumbs);
  internal::AppApi api(db, "bench", thumbs);
  std::vector<std::string> ids = FirstPageIds(api);
  const std::string sort_body = "{\"brain_key\": \"sim\", \"query_ids\": [\"" + ids[0] + "\"], \"k\": 100}";

  AppOptions app;
  app.port = 0;
  app.dataset = "bench";
  app.thumbnail_dir = dir + "/thumbnails_http";
  EmptyDirectory(app.thumbnail_dir);
  AppServer server(db, app);
  server.Start();
  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as browsers do
  auto http_get = [&](const std::string& path) {
    auto res = client.Get(path.c_str());
    Check(res && res->status == 200, "GET " + path);
  };
  auto thumb_path = [](const std::string& id) { return "/api/datasets/bench/thumbnails/" + id; };

  std::ostringstream table;
  table << "\n| what (" << o.samples << " samples, " << o.width << "x" << o.height
        << " JPEGs) | in-process, median (best) | loopback HTTP, median (best) |\n|---|---|---|\n";
  auto row = [&](const std::string& what, const std::vector<double>& direct, const std::vector<double>& http) {
    table << "| " << what << " | " << MedianBest(direct) << " | " << MedianBest(http) << " |\n";
  };

  // The first page's JSON.
  row("first page, 100 samples (JSON)",
      Time(o.runs, [&] { Check(api.ListSamples("bench", {{"limit", "100"}}).status == 200, "page"); }),
      Time(o.runs, [&] { http_get("/api/datasets/bench/samples?limit=100"); }));

  // 100 thumbnails with an empty cache: decode, resize, encode, write.
  auto cold_direct = Time(
      o.cold_runs,
      [&] {
        for (const auto& id : ids) Check(api.Thumbnail("bench", id, {}).status == 200, "thumbnail");
      },
      [&] { EmptyDirectory(thumbs); });
  auto cold_http = Time(
      o.cold_runs, [&] { for (const auto& id : ids) http_get(thumb_path(id)); },
      [&] { EmptyDirectory(app.thumbnail_dir); });
  row("100 thumbnails, cold cache (sequential)", cold_direct, cold_http);

  auto warm_direct = Time(o.runs, [&] {
    for (const auto& id : ids) Check(api.Thumbnail("bench", id, {}).status == 200, "thumbnail");
  });
  auto warm_http = Time(o.runs, [&] { for (const auto& id : ids) http_get(thumb_path(id)); });
  row("100 thumbnails, warm cache (sequential)", warm_direct, warm_http);

  // What a browser does: the page, then its thumbnails on 6 connections.
  auto parallel_http = Time(o.runs, [&] {
    http_get("/api/datasets/bench/samples?limit=100");
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client c("127.0.0.1", server.port());
        c.set_tcp_nodelay(true);
        for (size_t i = t; i < ids.size(); i += 6) Check(c.Get(thumb_path(ids[i]).c_str())->status == 200, "thumb");
      });
    }
    for (auto& th : threads) th.join();
  });
  auto page_and_thumbs = Time(o.runs, [&] {
    Check(api.ListSamples("bench", {{"limit", "100"}}).status == 200, "page");
    for (const auto& id : ids) Check(api.Thumbnail("bench", id, {}).status == 200, "thumbnail");
  });
  row("first page + its 100 thumbnails, warm (HTTP: 6 connections, as a browser)", page_and_thumbs, parallel_http);

  // Sort by similarity, k = 100. The first call loads the run from the store.
  Dataset dataset = Dataset::Load(db, "bench");
  internal::AppApi fresh(db, "bench", thumbs);
  auto first_sort = Time(1, [&] { Check(fresh.SortBySimilarity("bench", sort_body).status == 200, "sort"); });
  // Untimed: load the run into the process's index cache (shared by both Apps).
  api.SortBySimilarity("bench", sort_body);
  client.Post("/api/datasets/bench/sort_by_similarity", sort_body, "application/json");
  auto sort_direct = Time(o.runs, [&] { Check(api.SortBySimilarity("bench", sort_body).status == 200, "sort"); });
  auto sort_http = Time(o.runs, [&] {
    auto res = client.Post("/api/datasets/bench/sort_by_similarity", sort_body, "application/json");
    Check(res && res->status == 200, "POST sort_by_similarity");
  });
  row("sort_by_similarity k=100, sklearn (index cached)", sort_direct, sort_http);
  table << "| sort_by_similarity k=100, first call (loads the run) | " << MedianBest(first_sort) << " | |\n";
  SortBySimilarityOptions q;
  q.brain_key = "sim";
  q.k = 100;
  auto library_sort = Time(o.runs, [&] {
    Check(SortBySimilarity(dataset.view(), SimilarityQuery::ById(ids[0]), q).Rows().size() == 100, "library sort");
  });
  table << "| for reference: View::SortBySimilarity(k=100).Rows() (the same index cache) | "
        << MedianBest(library_sort) << " | |\n";

  server.Stop();
  std::cout << table.str() << "\nRuns: " << o.runs << " (cold thumbnails: " << o.cold_runs
            << "); load average at end " << LoadAverage() << "\n";
  if (!o.keep && o.dir.empty()) fs::remove_all(dir);
}

}  // namespace
}  // namespace fo::bench

int main(int argc, char** argv) {
  fo::bench::Run(fo::bench::ParseArgs(argc, argv));
  return 0;
}
