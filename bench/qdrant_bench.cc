// qdrant_bench: times fo::QdrantClient against the project's Qdrant test
// server on loopback (started here), or against a real Qdrant at $QDRANT_URL:
// what serialising an upsert batch costs next to its round trip (and next to
// a nlohmann::json tree), upload throughput, query latency (single and
// batched) and Retrieve with vectors. Prints the machine and a Markdown
// table; see bench/README.md.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "fo/error.h"
#include "fo/matrix.h"
#include "fo/object_id.h"
#include "fo/qdrant_client.h"
#include "qdrant/json_writer.h"
#include "qdrant/request_bodies.h"
#include "qdrant/response_parser.h"

extern char** environ;

namespace {

using fo::bench::CpuModel;
using fo::bench::CpusAvailable;
using fo::bench::Fixed;
using fo::bench::LoadAverage;
using fo::bench::Ms;
using fo::bench::SplitMix;

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;  // empty: start the test server
  std::string server = FO_QDRANT_TEST_SERVER;
  size_t points = 100000;
  size_t dim = 512;
  size_t batch = 1000;
  int serial_runs = 21;   // part 1: runs of each serialisation and of the round trip
  int upload_runs = 3;    // part 2: full uploads, collection recreated each time
  int queries = 200;      // part 3: single queries (and minimal requests)
  std::vector<size_t> query_batches = {10, 100};
  size_t batched_queries = 300;   // part 3: query vectors sent per batch size (at least 3 requests)
  int retrieve_runs = 10;         // part 4
};

void Usage() {
  std::cerr << "usage: qdrant_bench [--url URL] [--server PATH] [--points N] [--dim D] [--batch B]\n"
               "                    [--serial-runs R] [--upload-runs R] [--queries Q]\n"
               "                    [--query-batches B1,B2,...] [--batched-queries Q] [--retrieve-runs R]\n"
               "  --url defaults to $QDRANT_URL (with $QDRANT_API_KEY); without either the test server\n"
               "  is started on a free loopback port.\n";
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (const char* url = std::getenv("QDRANT_URL"); url != nullptr && *url != '\0') o.url = url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
      return argv[++i];
    };
    if (a == "--url") {
      o.url = value();
    } else if (a == "--server") {
      o.server = value();
    } else if (a == "--points") {
      o.points = std::stoul(value());
    } else if (a == "--dim") {
      o.dim = std::stoul(value());
    } else if (a == "--batch") {
      o.batch = std::stoul(value());
    } else if (a == "--serial-runs") {
      o.serial_runs = std::stoi(value());
    } else if (a == "--upload-runs") {
      o.upload_runs = std::stoi(value());
    } else if (a == "--queries") {
      o.queries = std::stoi(value());
    } else if (a == "--query-batches") {
      o.query_batches.clear();
      std::stringstream ss(value());
      for (std::string s; std::getline(ss, s, ',');) o.query_batches.push_back(std::stoul(s));
    } else if (a == "--batched-queries") {
      o.batched_queries = std::stoul(value());
    } else if (a == "--retrieve-runs") {
      o.retrieve_runs = std::stoi(value());
    } else if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.points == 0 || o.dim == 0 || o.batch == 0 || o.batch > o.points) {
    throw std::invalid_argument("need 0 < batch <= points and dim > 0");
  }
  if (o.serial_runs < 1 || o.upload_runs < 1 || o.queries < 1 || o.retrieve_runs < 1) {
    throw std::invalid_argument("run counts must be at least 1");
  }
  for (size_t b : o.query_batches) {
    if (b == 0) throw std::invalid_argument("a query batch size is 0");
  }
  return o;
}

// ---------------------------------------------------------------------------
// The test server, as a child process on a free port.

class TestServer {
 public:
  explicit TestServer(const std::string& binary) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> args = {binary, "--port", "0"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));
    }
    stdout_fd_ = fds[0];
    // The first line is the url.
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (url_.empty() || url_.back() != '\n') {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd p = {stdout_fd_, POLLIN, 0};
      char c;
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0 || read(stdout_fd_, &c, 1) != 1) {
        Stop();
        throw std::runtime_error(binary + " did not print its url");
      }
      url_ += c;
    }
    url_.pop_back();
  }
  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  const std::string& url() const { return url_; }

 private:
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string url_;
};

// ---------------------------------------------------------------------------
// Data: rows uniform in [-1, 1) then normalised to unit length, like the
// embeddings FiftyOne indexes with the cosine metric (their values, around
// 1/sqrt(D), take ~10-11 characters each as shortest float text).

fo::Matrix RandomUnitRows(size_t rows, size_t dim, uint64_t seed) {
  fo::Matrix m(rows, dim);
  uint64_t state = seed;
  for (size_t r = 0; r < rows; ++r) {
    std::span<float> row = m.row(r);
    double squared = 0;
    for (float& x : row) {
      x = static_cast<float>(SplitMix(state) >> 40) * (2.0f / (1 << 24)) - 1.0f;
      squared += static_cast<double>(x) * x;
    }
    const float inv = static_cast<float>(1 / std::sqrt(squared));
    for (float& x : row) x *= inv;
  }
  return m;
}

// What the qdrant backend sends: ObjectId-based UUIDs and {"sample_id": id}.
struct Batch {
  fo::Matrix vectors;
  std::vector<std::string> ids;
  std::vector<json> payloads;
};

Batch MakeBatch(size_t rows, size_t dim, uint64_t seed) {
  Batch b;
  b.vectors = RandomUnitRows(rows, dim, seed);
  for (size_t i = 0; i < rows; ++i) {
    const std::string oid = fo::NewObjectId();
    b.ids.push_back(fo::ObjectIdToPointId(oid));
    b.payloads.push_back({{"sample_id", oid}});
  }
  return b;
}

// ---------------------------------------------------------------------------
// Timing.

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Milliseconds per call of fn(r), r = 0..runs-1, in call order.
std::vector<double> Time(int runs, const std::function<void(int)>& fn) {
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    fn(r);
    ms.push_back(MsSince(start));
  }
  return ms;
}

// Nearest-rank percentile, q in (0, 1]; the median is the usual one.
double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

std::string MedianBest(const std::vector<double>& ms) { return Ms(Median(ms)) + " (" + Ms(Best(ms)) + ")"; }

std::string Percent(double part, double whole) {
  const double pct = 100 * part / whole;
  return Fixed(pct, pct < 1 ? 2 : 1) + " %";
}

std::string Mb(size_t bytes) { return Fixed(bytes / 1e6, 2) + " MB"; }

volatile size_t g_sink;

// ---------------------------------------------------------------------------
// References for what the fast paths replace.

// The upsert body as a generic JSON tree: nlohmann stores each float as a
// double and dumps it in the shortest form that reads back as that double
// (so ~17 significant digits for most float values).
std::string NlohmannUpsertBody(const Batch& b) {
  json vectors = json::array();
  for (size_t r = 0; r < b.vectors.rows(); ++r) {
    std::span<const float> row = b.vectors.row(r);
    vectors.push_back(json(std::vector<float>(row.begin(), row.end())));
  }
  json body = {{"batch", {{"ids", b.ids}, {"vectors", std::move(vectors)}, {"payloads", b.payloads}}}};
  return body.dump();
}

// A retrieve response read entirely by nlohmann, then each vector copied
// out into floats (what the client did before its response parser).
size_t NlohmannReadRecords(const std::string& text) {
  json doc = json::parse(text);
  size_t values = 0;
  for (json& record : doc.at("result")) {
    std::vector<float> v;
    const json& vector = record.at("vector");
    v.reserve(vector.size());
    for (const json& x : vector) v.push_back(static_cast<float>(x.get<double>()));
    values += v.size();
  }
  return values;
}

size_t FastReadRecords(const std::string& text) {
  fo::internal::ParsedResponse parsed = fo::internal::ParseResponseWithVectors(text);
  size_t values = 0;
  for (const auto& v : parsed.vectors) values += v.size();
  return values;
}

// The query/batch body, written as QdrantClient::QueryBatch writes it.
std::string QueryBatchBody(const fo::Matrix& queries, size_t limit) {
  fo::internal::JsonWriter w(queries.rows() * (queries.cols() * 12 + 64) + 32);
  w.Raw(R"({"searches":[)");
  for (size_t i = 0; i < queries.rows(); ++i) {
    if (i > 0) w.Char(',');
    w.Raw(R"({"query":)");
    w.FloatArray(queries.row(i));
    w.Raw(R"(,"limit":)");
    w.Unsigned(limit);
    w.Raw(R"(,"with_payload":true})");
  }
  w.Raw("]}");
  return w.Take();
}

// The envelope around `result` as the server sends it (the numbers in
// `result` came as shortest float text, and dump as the same text).
std::string Envelope(json result) {
  return json{{"result", std::move(result)}, {"status", "ok"}, {"time", 0.001}}.dump();
}

// ---------------------------------------------------------------------------

// Deletes the bench's collection however Main leaves (a real Qdrant keeps it).
class CollectionGuard {
 public:
  CollectionGuard(fo::QdrantClient& client, std::string name) : client_(client), name_(std::move(name)) {}
  ~CollectionGuard() {
    try {
      client_.DeleteCollection(name_);
    } catch (const std::exception&) {
    }
  }
  CollectionGuard(const CollectionGuard&) = delete;
  CollectionGuard& operator=(const CollectionGuard&) = delete;

 private:
  fo::QdrantClient& client_;
  std::string name_;
};

std::string MakeCollection(fo::QdrantClient& client, const std::string& name, size_t dim) {
  if (client.CollectionExists(name)) client.DeleteCollection(name);
  client.CreateCollection(name, {{"vectors", {{"size", dim}, {"distance", "Cosine"}}}});
  return name;
}

// A real Qdrant indexes in the background after wait=true upserts; queries
// are timed once the collection is green again.
void WaitGreen(fo::QdrantClient& client, const std::string& name) {
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (client.GetCollection(name).value("status", "green") != "green" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int Main(const Options& o) {
  const auto bench_start = Clock::now();
  const bool real = !o.url.empty();
  std::unique_ptr<TestServer> server;
  fo::QdrantClientOptions client_options;
  if (real) {
    client_options.url = o.url;
    if (const char* key = std::getenv("QDRANT_API_KEY")) client_options.api_key = key;
  } else {
    server = std::make_unique<TestServer>(o.server);
    client_options.url = server->url();
  }
  fo::QdrantClient client(client_options);
  json version = client.Request("GET", "/");

  std::cout << "# qdrant_bench\n\n"
            << "- CPU: " << CpuModel() << ", " << CpusAvailable() << " CPUs available (nproc); client and server "
            << (real ? "as deployed" : "share them") << "\n"
            << "- load average at start: " << LoadAverage() << "\n"
            << "- server: " << (real ? "the one at $QDRANT_URL / --url" : "qdrant-test-server (started by the bench)")
            << ", " << client.url() << ", version " << version.value("version", "?");
  // Qdrant's GET / names its commit; the test server's does not.
  if (real) std::cout << (version.contains("commit") ? ", commit " + version["commit"].dump() : ", no commit (not Qdrant?)");
  std::cout << "\n";
  if (!real) {
    std::cout << "- NOTE: the test server is an exact, brute-force, in-memory server (nlohmann::json request "
                 "parsing, a scalar scan and a full sort per query). Upload figures measure our client plus that "
                 "server's JSON parsing; query latency measures our client plus a brute-force scan of every "
                 "point, not Qdrant's HNSW. Set QDRANT_URL to measure a real Qdrant.\n";
  }
  std::cout << "- data: D = " << o.dim << ", unit-length random float32 rows, Cosine, ObjectId-UUID ids, "
            << "{\"sample_id\"} payloads (what the qdrant backend sends); " << o.points << " points in batches of "
            << o.batch << "\n"
            << std::flush;

  const std::string name = "fo_qdrant_bench_" + std::to_string(getpid());
  CollectionGuard guard(client, name);
  std::vector<Batch> batches;
  for (size_t first = 0; first < o.points; first += o.batch) {
    batches.push_back(MakeBatch(std::min(o.batch, o.points - first), o.dim, 1000 + first));
  }
  const Batch& one = batches.front();
  std::ostringstream table, notes, query_rows;

  // Times call(client, r) for r = 0..requests-1 on the client's kept-alive
  // connection and on a fresh one (a new client), alternately, so that both
  // see the same load.
  struct Latencies {
    std::vector<double> kept, fresh;
  };
  auto interleaved = [&](int requests, const std::function<void(fo::QdrantClient&, int)>& call) {
    Latencies l;
    for (int r = 0; r < requests; ++r) {
      auto start = Clock::now();
      call(client, r);
      l.kept.push_back(MsSince(start));
      start = Clock::now();
      fo::QdrantClient fresh(client_options);
      call(fresh, r);
      l.fresh.push_back(MsSince(start));
    }
    return l;
  };
  // A row of part 3's table; returns the p50.
  auto query_row = [&](const std::string& what, const char* connection, size_t per_request,
                       const std::vector<double>& ms) {
    const double p50 = Percentile(ms, 0.5);
    query_rows << "| " << what << " | " << connection << " | " << ms.size() << " | " << Ms(p50) << " | "
               << Ms(Percentile(ms, 0.99)) << " | " << (per_request == 0 ? "" : Ms(p50 / per_request)) << " |\n";
    return p50;
  };

  // The floor: a request with (almost) nothing to do. Its kept-alive excess
  // over a fresh connection is the delayed-ACK stall every kept-alive
  // response pays on the test server (cpp-httplib writes headers and body in
  // two sends without TCP_NODELAY: Nagle holds the body until the client's
  // delayed ACK of the headers, ~40 ms on Linux).
  MakeCollection(client, name, o.dim);
  const Latencies floor = interleaved(o.queries, [&](fo::QdrantClient& c, int) { g_sink = c.CollectionExists(name); });
  const double floor_kept = query_row("floor: minimal request (CollectionExists)", "kept alive", 0, floor.kept);
  const double floor_fresh = query_row("floor: minimal request (CollectionExists)", "fresh", 0, floor.fresh);
  const double stall_ms = floor_kept - floor_fresh;
  if (stall_ms > 5) {
    notes << "- a quick answer on a kept-alive connection stalls ~" << Ms(stall_ms) << " here (minimal request p50 "
          << Ms(floor_kept) << " kept alive vs " << Ms(floor_fresh)
          << " on a fresh connection): the response waits for the client's delayed ACK (Nagle; "
          << (real ? "the server" : "cpp-httplib in the test server") << " does not set TCP_NODELAY). Not the client's "
          << "work. Compare the kept-alive and fresh rows below to see whether a figure includes it\n";
  }

  // (1) Serialising one batch, next to its round trip.
  double serialise_ms = 0;
  {
    std::string body = fo::internal::UpsertBatchBody(one.vectors, 0, one.vectors.rows(), one.ids, one.payloads);
    const size_t body_bytes = body.size();
    const size_t tree_bytes = NlohmannUpsertBody(one).size();
    client.Upsert(name, one.vectors, one.ids, one.payloads, true);  // warm-up (first insert)
    // Everything is timed once per run, in turn, so that a change of load
    // on this shared machine hits all of them alike.
    std::vector<double> fast, sized, tree, transfer, parse, share_kept, share_fresh;
    Latencies trip;
    auto timed = [](std::vector<double>& out, const std::function<void()>& fn) {
      const auto start = Clock::now();
      fn();
      out.push_back(MsSince(start));
    };
    for (int r = 0; r < o.serial_runs; ++r) {
      timed(fast, [&] {
        g_sink = fo::internal::UpsertBatchBody(one.vectors, 0, one.vectors.rows(), one.ids, one.payloads).size();
      });
      timed(sized, [&] {
        g_sink = fo::QdrantClient::UpsertBodySize(one.vectors, 0, one.vectors.rows(), one.ids, one.payloads);
      });
      timed(trip.kept, [&] { client.Upsert(name, one.vectors, one.ids, one.payloads, true); });
      timed(trip.fresh, [&] {
        fo::QdrantClient fresh(client_options);
        fresh.Upsert(name, one.vectors, one.ids, one.payloads, true);
      });
      share_kept.push_back(fast.back() / trip.kept.back());
      share_fresh.push_back(fast.back() / trip.fresh.back());
      // The same bytes to a path the test server does not route: cpp-httplib
      // reads the whole body before routing, so this is the transfer alone
      // (curl sending, the server receiving, an empty 404 back).
      if (!real) {
        timed(transfer, [&] {
          try {
            client.Request("PUT", "/__qdrant_bench_unrouted", body);
          } catch (const fo::Error& e) {
            if (e.code() != fo::ErrorCode::kNotFound) throw;
          }
        });
      }
      if (r % 3 == 0) {  // the slow references, every third run
        timed(tree, [&] { g_sink = NlohmannUpsertBody(one).size(); });
        timed(parse, [&] { g_sink = json::parse(body).size(); });
      }
    }
    const double trip_ms = Median(trip.kept);
    const double fresh_ms = Median(trip.fresh);
    serialise_ms = Median(fast);

    table << "\n## 1. One upsert batch: " << one.vectors.rows() << " x " << o.dim << " with ids and payloads\n\n"
          << "| what | median (best) | body | / Upsert round trip (kept alive) | / Upsert round trip (fresh) |\n"
          << "|---|---|---|---|---|\n"
          << "| fast writer (`internal::UpsertBatchBody`, what Upsert sends) | " << MedianBest(fast) << " | "
          << Mb(body_bytes) << " | **" << Percent(serialise_ms, trip_ms) << "** | **"
          << Percent(serialise_ms, fresh_ms) << "** |\n"
          << "| `QdrantClient::UpsertBodySize` (same code, counting only) | " << MedianBest(sized) << " | | "
          << Percent(Median(sized), trip_ms) << " | " << Percent(Median(sized), fresh_ms) << " |\n"
          << "| nlohmann::json tree, build + dump() | " << MedianBest(tree) << " | " << Mb(tree_bytes) << " | "
          << Percent(Median(tree), trip_ms) << " | " << Percent(Median(tree), fresh_ms) << " |\n"
          << "| `QdrantClient::Upsert` wait=true, kept-alive connection (round trip, serialisation included) | "
          << MedianBest(trip.kept) << " | | 100 % | |\n"
          << "| `QdrantClient::Upsert` wait=true, fresh connection (a new client per call) | "
          << MedianBest(trip.fresh) << " | | | 100 % |\n";
    if (!real) {
      table << "| part of it: the same body to an unrouted path (transfer only) | " << MedianBest(transfer) << " | | "
            << Percent(Median(transfer), trip_ms) << " | " << Percent(Median(transfer), fresh_ms) << " |\n";
    }
    table << "| reference: nlohmann::json::parse of the body ("
          << (real ? "not what Qdrant runs" : "the test server's first step") << ") | " << MedianBest(parse) << " | | "
          << Percent(Median(parse), trip_ms) << " | " << Percent(Median(parse), fresh_ms) << " |\n";
    const double worst = std::max(serialise_ms / trip_ms, serialise_ms / fresh_ms);
    notes << "- serialisation: the fast writer is " << Fixed(Median(tree) / serialise_ms, 1)
          << "x faster than the nlohmann tree and its body " << Fixed(static_cast<double>(tree_bytes) / body_bytes, 2)
          << "x smaller. Target (serialising < 10 % of the round trip): " << (worst < 0.1 ? "met" : "NOT met")
          << " (" << Percent(serialise_ms, trip_ms) << " kept alive, " << Percent(serialise_ms, fresh_ms)
          << " fresh, as ratios of medians; the median of the per-run ratios is " << Fixed(100 * Median(share_kept), 1)
          << " % kept alive, " << Fixed(100 * Median(share_fresh), 1) << " % fresh)\n";
    if (!real) {
      notes << "- Upsert round trip, kept alive " << Ms(trip_ms) << " = serialise " << Ms(serialise_ms)
            << " + transfer " << Ms(Median(transfer)) << " + the server and the response "
            << Ms(trip_ms - serialise_ms - Median(transfer)) << " (json::parse of the body alone takes "
            << Ms(Median(parse)) << "; then validation, storing 1000 points, and the response)\n";
    }
    client.DeleteCollection(name);
  }

  // (2) Upload throughput.
  double upload_ms = 0;
  {
    std::vector<double> runs;
    for (int r = 0; r < o.upload_runs; ++r) {
      MakeCollection(client, name, o.dim);
      const auto start = Clock::now();
      for (const Batch& b : batches) client.Upsert(name, b.vectors, b.ids, b.payloads, true);
      runs.push_back(MsSince(start));
      const size_t count = client.Count(name);
      if (count != o.points) {
        throw std::runtime_error("uploaded " + std::to_string(o.points) + " points, the server counts " +
                                 std::to_string(count));
      }
    }
    upload_ms = Median(runs);
    table << "\n## 2. Upload: " << o.points << " points, batches of " << o.batch << ", wait=true\n\n"
          << "| runs | median (best) | points/s (median) | per batch |\n|---|---|---|---|\n"
          << "| " << o.upload_runs << " | " << MedianBest(runs) << " | " << Fixed(o.points / (upload_ms / 1000), 0)
          << " | " << Ms(upload_ms / batches.size()) << " |\n";
    notes << "- upload: serialising the " << batches.size() << " bodies (part 1's median, times the batch count) is ~"
          << Percent(serialise_ms * batches.size(), upload_ms) << " of the upload time\n";
  }
  if (real) WaitGreen(client, name);

  // (3) Query latency on the uploaded collection, k = 10 with payloads (as
  // the qdrant backend asks).
  {
    constexpr size_t kK = 10;
    size_t max_batch = 1;
    for (size_t b : o.query_batches) max_batch = std::max(max_batch, b);
    const size_t pool = std::max<size_t>({static_cast<size_t>(o.queries), o.batched_queries, max_batch});
    const fo::Matrix queries = RandomUnitRows(pool, o.dim, 7);
    auto slice = [&](size_t first, size_t rows) {
      first %= pool - rows + 1;
      return fo::Matrix(rows, o.dim,
                        std::vector<float>(queries.data() + first * o.dim, queries.data() + (first + rows) * o.dim));
    };
    for (int i = 0; i < 3; ++i) client.QueryBatch(name, slice(i, 1), kK, nullptr, true);  // warm-up
    const Latencies single = interleaved(o.queries, [&](fo::QdrantClient& c, int r) {
      auto hits = c.QueryBatch(name, slice(r, 1), kK, nullptr, true);
      if (hits.size() != 1 || hits[0].size() != kK) throw std::runtime_error("a query returned too few hits");
    });
    query_row("1 query (QueryBatch of 1)", "kept alive", 1, single.kept);
    query_row("1 query (QueryBatch of 1)", "fresh", 1, single.fresh);
    // Batches only on the kept-alive connection: the stall is small next to
    // their scans, and they take most of the time.
    for (size_t b : o.query_batches) {
      const int requests = static_cast<int>(std::max<size_t>(3, o.batched_queries / b));
      const auto batched = Time(requests, [&](int r) {
        auto hits = client.QueryBatch(name, slice(r * b, b), kK, nullptr, true);
        if (hits.size() != b) throw std::runtime_error("a batch returned too few results");
      });
      const double p50 = query_row("QueryBatch of " + std::to_string(b), "kept alive", b, batched);
      // The client's own share: writing the body and parsing a response of
      // this size, timed here on their own.
      const fo::Matrix q = slice(0, b);
      const std::string response = Envelope(
          client.Request("POST", "/collections/" + name + "/points/query/batch", QueryBatchBody(q, kK)));
      const auto write = Time(20, [&](int) { g_sink = QueryBatchBody(q, kK).size(); });
      const auto read = Time(20, [&](int) { g_sink = json::parse(response).size(); });
      const double client_ms = Median(write) + Median(read);
      notes << "- QueryBatch of " << b << ": the client's own work (write the "
            << Fixed(QueryBatchBody(q, kK).size() / 1e3, 0) << " kB body " << Ms(Median(write)) << ", parse the "
            << Fixed(response.size() / 1e3, 0) << " kB response " << Ms(Median(read)) << ") is "
            << Percent(client_ms, p50) << " of the p50\n";
    }
    table << "\n## 3. Queries on the " << o.points << "-point collection, k = " << kK << ", with_payload\n\n"
          << "| request | connection | requests | p50 | p99 | per query (p50 / batch) |\n|---|---|---|---|---|---|\n"
          << query_rows.str();
    if (o.queries >= 2) {
      notes << "- p99 is the nearest-rank percentile: with fewer than 100 requests it is the slowest one\n";
    }
  }

  // (4) Retrieve with vectors: the round trip, and the parse on its own.
  {
    const Batch& b = batches[batches.size() / 2];
    const size_t rows = b.ids.size();
    auto points = client.Retrieve(name, b.ids, true, true);
    if (points.size() != rows || points[0].vector.size() != o.dim) throw std::runtime_error("retrieve came back short");
    const Latencies trip = interleaved(
        o.retrieve_runs, [&](fo::QdrantClient& c, int) { g_sink = c.Retrieve(name, b.ids, true, true).size(); });
    json request = {{"ids", b.ids}, {"with_payload", true}, {"with_vector", true}};
    const std::string response = Envelope(client.Request("POST", "/collections/" + name + "/points", request.dump()));
    const auto fast = Time(o.retrieve_runs, [&](int) { g_sink = FastReadRecords(response); });
    const auto tree = Time(std::max(3, o.retrieve_runs / 2), [&](int) { g_sink = NlohmannReadRecords(response); });
    table << "\n## 4. Retrieve " << rows << " points with vectors and payloads (" << Mb(response.size())
          << " response)\n\n"
          << "| what | median (best) | / round trip (kept alive) | / round trip (fresh) |\n|---|---|---|---|\n"
          << "| `QdrantClient::Retrieve`, kept-alive connection | " << MedianBest(trip.kept) << " | 100 % | |\n"
          << "| `QdrantClient::Retrieve`, fresh connection | " << MedianBest(trip.fresh) << " | | 100 % |\n"
          << "| parse: `internal::ParseResponseWithVectors` (what Retrieve uses) | " << MedianBest(fast) << " | "
          << Percent(Median(fast), Median(trip.kept)) << " | " << Percent(Median(fast), Median(trip.fresh)) << " |\n"
          << "| parse: nlohmann::json::parse, then vectors to float | " << MedianBest(tree) << " | "
          << Percent(Median(tree), Median(trip.kept)) << " | " << Percent(Median(tree), Median(trip.fresh)) << " |\n";
  }

  std::cout << table.str() << "\n## Notes\n\n"
            << notes.str() << "- load average at end: " << LoadAverage() << "; bench took "
            << Fixed(MsSince(bench_start) / 1000, 0) << " s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return fo::bench::RunMain("qdrant_bench", Usage, [&] { return Main(ParseArgs(argc, argv)); });
}
