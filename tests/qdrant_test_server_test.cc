// Tests of tools/qdrant_test_server, the Qdrant-compatible server the qdrant
// backend's tests talk to. Each test starts the built binary on a free port,
// speaks plain HTTP/1.1 to it (so that status codes, raw bodies and dropped
// connections are seen exactly as a client would) and checks the answers
// against Qdrant's REST spec and against scores computed here by brute force.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

// tests/ and tools/ are siblings in the build tree.
std::string ServerBinary() {
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / ".." / "tools" / "qdrant_test_server" / "qdrant-test-server")
      .lexically_normal();
}

// The server as a child process: started on port 0, its URL read from the
// first line of its stdout, stopped with SIGTERM.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& extra_args = {}) {
    std::string binary = ServerBinary();
    if (!std::filesystem::exists(binary)) {
      ADD_FAILURE() << "missing " << binary << ": build the qdrant-test-server target";
      return;
    }
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> args = {binary, "--port", "0"};
      args.insert(args.end(), extra_args.begin(), extra_args.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    char c;
    while (line.find('\n') == std::string::npos && poll(&p, 1, 10000) > 0 && read(out[0], &c, 1) == 1) {
      line.push_back(c);
    }
    close(out[0]);
    url_ = line.substr(0, line.find('\n'));
    const std::string prefix = "http://127.0.0.1:";
    if (url_.rfind(prefix, 0) == 0) port_ = std::stoi(url_.substr(prefix.size()));
    EXPECT_GT(port_, 0) << "first stdout line was \"" << line << "\"";
  }
  ~ServerProcess() { Stop(); }

  int port() const { return port_; }
  const std::string& url() const { return url_; }

  // SIGTERM, then the exit status (-1 if it did not exit normally).
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::string url_;
};

struct HttpReply {
  bool answered = false;  // false: the connection closed without a response
  int status = 0;
  std::string content_type;
  std::string retry_after;
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string Error() const {
    json j = Json();
    return j.is_object() && j.contains("status") && j["status"].is_object() ? j["status"].value("error", "")
                                                                            : "";
  }
};

std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = head.find_first_not_of(' ', at + name.size() + 3);
  return head.substr(start, head.find("\r\n", start) - start);
}

// One request on its own connection (Connection: close), read to EOF.
HttpReply Send(int port, const std::string& method, const std::string& path, const std::string& body = "",
               const std::vector<std::string>& headers = {"Content-Type: application/json"}) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return reply;
  }
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) request += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[65536];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) raw.append(buffer, static_cast<size_t>(n));
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return reply;
  std::string head = raw.substr(0, head_end);
  reply.answered = true;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.content_type = HeaderValue(head, "content-type");
  reply.retry_after = HeaderValue(head, "retry-after");
  reply.body = raw.substr(head_end + 4);
  return reply;
}

class QdrantTestServerTest : public ::testing::Test {
 protected:
  HttpReply Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return Send(server_.port(), method, path, body.is_null() ? "" : body.dump());
  }
  // The `result` of a 200 answer in Qdrant's envelope.
  json Ok(const std::string& method, const std::string& path, const json& body = nullptr) {
    HttpReply reply = Call(method, path, body);
    EXPECT_EQ(reply.status, 200) << method << " " << path << ": " << reply.body;
    json j = reply.Json();
    EXPECT_EQ(j.value("status", ""), "ok") << reply.body;
    EXPECT_TRUE(j.contains("time") && j["time"].is_number()) << reply.body;
    return j.is_object() && j.contains("result") ? j["result"] : json();
  }
  void Create(const std::string& name, int dim, const std::string& distance = "Cosine") {
    EXPECT_EQ(Ok("PUT", "/collections/" + name, {{"vectors", {{"size", dim}, {"distance", distance}}}}),
              true);
  }
  // Upserts ids 0..n-1 with the given vectors and {"sample_id": "s<i % 3>", "i": i}.
  void Fill(const std::string& name, const std::vector<std::vector<float>>& vectors) {
    json points = json::array();
    const char* samples[] = {"s0", "s1", "s2"};
    for (size_t i = 0; i < vectors.size(); ++i) {
      points.push_back(
          {{"id", i}, {"vector", vectors[i]}, {"payload", {{"sample_id", samples[i % 3]}, {"i", i}}}});
    }
    Ok("PUT", "/collections/" + name + "/points?wait=true", {{"points", points}});
  }
  static std::vector<json> Ids(const json& points) {
    std::vector<json> ids;
    for (const json& p : points) ids.push_back(p["id"]);
    return ids;
  }

  ServerProcess server_;
};

std::vector<std::vector<float>> RandomVectors(size_t n, size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> vectors(n, std::vector<float>(dim));
  for (auto& v : vectors) {
    for (float& x : v) x = normal(rng);
  }
  return vectors;
}

TEST_F(QdrantTestServerTest, RootHealthAndVersion) {
  HttpReply root = Call("GET", "/");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(root.Json()["title"], "qdrant - vector search engine");
  EXPECT_EQ(root.Json()["version"], "1.19.0");
  HttpReply health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "healthz check passed");
  EXPECT_EQ(health.content_type.rfind("text/plain", 0), 0u);
  EXPECT_EQ(Call("GET", "/no/such/route").status, 404);
}

TEST_F(QdrantTestServerTest, CollectionLifecycle) {
  EXPECT_EQ(Ok("GET", "/collections"), json({{"collections", json::array()}}));
  json body = {{"vectors", {{"size", 4}, {"distance", "Dot"}, {"on_disk", true}}},
               {"shard_number", 2},
               {"replication_factor", 1},
               {"write_consistency_factor", 1},
               {"hnsw_config", {{"m", 32}, {"ef_construct", 200}}},
               {"optimizers_config", {{"indexing_threshold", 0}, {"max_optimization_threads", "auto"}}},
               {"wal_config", {{"wal_capacity_mb", 64}, {"wal_segments_ahead", nullptr}}},
               {"sparse_vectors", {{"sparse-text", json::object()}}},
               {"sharding_method", nullptr}};
  EXPECT_EQ(Ok("PUT", "/collections/lc", body), true);
  EXPECT_EQ(Ok("GET", "/collections"), json({{"collections", {{{"name", "lc"}}}}}));
  EXPECT_EQ(Ok("GET", "/collections/lc/exists"), json({{"exists", true}}));

  json info = Ok("GET", "/collections/lc");
  EXPECT_EQ(info["status"], "green");
  EXPECT_EQ(info["optimizer_status"], "ok");
  EXPECT_EQ(info["points_count"], 0);
  EXPECT_TRUE(info["payload_schema"].is_object());
  const json& config = info["config"];
  EXPECT_EQ(config["params"]["vectors"], json({{"size", 4}, {"distance", "Dot"}, {"on_disk", true}}));
  EXPECT_EQ(config["params"]["shard_number"], 2);
  EXPECT_EQ(config["params"]["replication_factor"], 1);
  EXPECT_EQ(config["params"]["sparse_vectors"], json({{"sparse-text", json::object()}}));
  EXPECT_EQ(config["hnsw_config"]["m"], 32);
  EXPECT_EQ(config["hnsw_config"]["ef_construct"], 200);
  EXPECT_EQ(config["hnsw_config"]["full_scan_threshold"], 10000);  // default kept
  EXPECT_EQ(config["optimizer_config"]["indexing_threshold"], 0);
  EXPECT_EQ(config["optimizer_config"]["max_optimization_threads"], nullptr);
  EXPECT_EQ(config["optimizer_config"]["deleted_threshold"], 0.2);
  EXPECT_EQ(config["wal_config"]["wal_capacity_mb"], 64);
  EXPECT_EQ(config["wal_config"]["wal_segments_ahead"], 0);  // null keeps the default

  HttpReply again = Call("PUT", "/collections/lc", {{"vectors", {{"size", 4}, {"distance", "Dot"}}}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Error(), "Wrong input: Collection `lc` already exists!");

  EXPECT_EQ(Ok("DELETE", "/collections/lc"), true);
  EXPECT_EQ(Ok("DELETE", "/collections/lc"), false);  // 200 with false, not 404
  EXPECT_EQ(Ok("GET", "/collections/lc/exists"), json({{"exists", false}}));
  HttpReply gone = Call("GET", "/collections/lc");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.Error(), "Not found: Collection `lc` doesn't exist!");
  EXPECT_FALSE(gone.Json().contains("result"));
}

TEST_F(QdrantTestServerTest, CreateValidation) {
  auto create = [&](const json& body) { return Call("PUT", "/collections/v", body); };
  HttpReply too_big = create({{"vectors", {{"size", 65537}, {"distance", "Cosine"}}}});
  EXPECT_EQ(too_big.status, 422);
  EXPECT_EQ(too_big.Error(),
            "Validation error in JSON body: [vectors.size: value 65537 invalid, must be from 1 to 65536]");
  EXPECT_EQ(create({{"vectors", {{"size", 0}, {"distance", "Cosine"}}}}).status, 422);
  EXPECT_EQ(create({{"vectors", {{"size", 4}, {"distance", "Cosine"}}}, {"shard_number", 0}}).status, 422);
  EXPECT_EQ(
      create({{"vectors", {{"size", 4}, {"distance", "Cosine"}}}, {"hnsw_config", {{"ef_construct", 3}}}})
          .status,
      422);
  EXPECT_EQ(create({{"vectors", {{"size", 4}, {"distance", "Cosine"}}},
                    {"optimizers_config", {{"deleted_threshold", 2}}}})
                .status,
            422);

  for (const json& bad : {json{{"vectors", {{"size", 4}, {"distance", "cosine"}}}},
                          json{{"vectors", {{"size", -4}, {"distance", "Cosine"}}}},
                          json{{"vectors", {{"size", 4}, {"distance", "Cosine"}}}, {"shard_number", "2"}},
                          json{{"vectors", {{"size", 4}, {"distance", "Cosine"}}}, {"on_disk_payload", 1}},
                          json{{"vectors", {{"distance", "Cosine"}}}}}) {
    HttpReply reply = create(bad);
    EXPECT_EQ(reply.status, 400) << bad.dump();
    EXPECT_EQ(reply.Error().rfind("Format error in JSON body: ", 0), 0u) << reply.body;
  }
  HttpReply malformed = Send(server_.port(), "PUT", "/collections/v", "{\"vectors\": {");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.Error().rfind("Format error in JSON body: ", 0), 0u) << malformed.body;
  HttpReply no_type = Send(server_.port(), "PUT", "/collections/v", "{}", {});
  EXPECT_EQ(no_type.status, 400);
  EXPECT_EQ(no_type.Error(), "Content type error");
  EXPECT_EQ(Ok("GET", "/collections/v/exists"), json({{"exists", false}}));  // nothing was created
}

TEST_F(QdrantTestServerTest, MissingCollectionIs404Everywhere) {
  const std::string message = "Not found: Collection `nope` doesn't exist!";
  std::vector<std::tuple<std::string, std::string, json>> calls = {
      {"GET", "/collections/nope", nullptr},
      {"PUT", "/collections/nope/points", {{"points", {{{"id", 1}, {"vector", {1.0}}}}}}},
      {"POST", "/collections/nope/points", {{"ids", {1}}}},
      {"GET", "/collections/nope/points/1", nullptr},
      {"POST", "/collections/nope/points/delete", {{"points", {1}}}},
      {"POST", "/collections/nope/points/scroll", json::object()},
      {"POST", "/collections/nope/points/count", json::object()},
      {"POST", "/collections/nope/points/query", {{"query", {1.0}}}},
      {"POST", "/collections/nope/points/query/batch", {{"searches", {{{"query", {1.0}}}}}}},
      {"POST", "/collections/nope/points/search", {{"vector", {1.0}}, {"limit", 1}}},
  };
  for (const auto& [method, path, body] : calls) {
    HttpReply reply = Call(method, path, body);
    EXPECT_EQ(reply.status, 404) << method << " " << path;
    EXPECT_EQ(reply.Error(), message) << method << " " << path;
  }
}

TEST_F(QdrantTestServerTest, UpsertFormsAndIdRoundTrip) {
  Create("ids", 2, "Dot");
  json result = Ok("PUT", "/collections/ids/points?wait=true",
                   {{"points",
                     {{{"id", 0}, {"vector", {1, 0}}, {"payload", {{"sample_id", "a"}}}},
                      {{"id", 18446744073709551615ull}, {"vector", {0, 1}}, {"payload", nullptr}},
                      {{"id", "0123456789ABCDEF0123456789abcdef"}, {"vector", {1, 1}}}}}});
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(result["operation_id"], 0);
  result =
      Ok("PUT", "/collections/ids/points",
         {{"batch",
           {{"ids",
             {"{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}", "urn:uuid:00000000-0000-0000-0000-000000000007", 5}},
            {"vectors", {{2, 0}, {0, 2}, {3, 3}}},
            {"payloads", {{{"sample_id", "b"}}, nullptr, {{"sample_id", "c"}}}}}}});
  EXPECT_EQ(result["status"], "acknowledged");  // the server's default is wait=false
  EXPECT_EQ(result["operation_id"], 1);

  json records = Ok("POST", "/collections/ids/points",
                    {{"ids",
                      {"01234567-89ab-cdef-0123-456789abcdef", "aaaaaaaabbbbccccddddeeeeeeeeeeee", 0, 0, 999,
                       "00000000000000000000000000000007", 18446744073709551615ull}},
                     {"with_vector", true}});
  ASSERT_EQ(records.size(), 5u);  // missing 999 skipped, repeated 0 once, request order
  EXPECT_EQ(records[0]["id"], "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(records[1]["id"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(records[1]["payload"], json({{"sample_id", "b"}}));
  EXPECT_EQ(records[2]["id"], 0);
  EXPECT_EQ(records[2]["vector"], json({1.0, 0.0}));
  EXPECT_EQ(records[3]["id"], "00000000-0000-0000-0000-000000000007");
  EXPECT_EQ(records[3]["payload"], json::object());
  EXPECT_EQ(records[4]["id"], 18446744073709551615ull);

  // Defaults: payload on, vector off; with_vectors is an alias.
  json plain = Ok("POST", "/collections/ids/points", {{"ids", {5}}});
  EXPECT_EQ(plain, json({{{"id", 5}, {"payload", {{"sample_id", "c"}}}}}));
  json aliased =
      Ok("POST", "/collections/ids/points", {{"ids", {5}}, {"with_payload", false}, {"with_vectors", true}});
  EXPECT_EQ(aliased, json({{{"id", 5}, {"vector", {3.0, 3.0}}}}));

  // Overwrite replaces vector and payload.
  Ok("PUT", "/collections/ids/points?wait=true",
     {{"points", {{{"id", 5}, {"vector", {4, 4}}, {"payload", {{"k", 1}}}}}}});
  EXPECT_EQ(Ok("GET", "/collections/ids/points/5"),
            json({{"id", 5}, {"payload", {{"k", 1}}}, {"vector", {4.0, 4.0}}}));
  EXPECT_EQ(Ok("GET", "/collections/ids/points/AAAAAAAABBBBCCCCDDDDEEEEEEEEEEEE")["id"],
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  HttpReply missing = Call("GET", "/collections/ids/points/404");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Error(), "Not found: Point with id 404 does not exists!");
  HttpReply bad_path = Call("GET", "/collections/ids/points/abc");
  EXPECT_EQ(bad_path.status, 400);
  EXPECT_EQ(bad_path.Error(), "Wrong input: Can not recognize \"abc\" as point id");
  EXPECT_EQ(Ok("GET", "/collections/ids")["points_count"], 6);

  for (const json& bad_id : {json("42"), json(-1), json(1.5), json("not-a-uuid")}) {
    HttpReply reply =
        Call("PUT", "/collections/ids/points", {{"points", {{{"id", bad_id}, {"vector", {1, 1}}}}}});
    EXPECT_EQ(reply.status, 400) << bad_id.dump();
    EXPECT_NE(
        reply.Error().find("is not a valid point ID, valid values are either an unsigned integer or a UUID"),
        std::string::npos)
        << reply.body;
  }
  HttpReply mismatch =
      Call("PUT", "/collections/ids/points", {{"batch", {{"ids", {1, 2}}, {"vectors", {{1, 1}}}}}});
  EXPECT_EQ(mismatch.status, 422) << mismatch.body;
  HttpReply bad_wait = Call("PUT", "/collections/ids/points?wait=maybe", {{"points", json::array()}});
  EXPECT_EQ(bad_wait.status, 400) << bad_wait.body;
  EXPECT_EQ(Ok("GET", "/collections/ids")["points_count"], 6);
}

TEST_F(QdrantTestServerTest, WrongDimensionIs400InBothForms) {
  Create("dims", 4);
  const std::string message = "Wrong input: Vector dimension error: expected dim: 4, got 3";
  for (const char* wait : {"true", "false"}) {
    HttpReply list =
        Call("PUT", std::string("/collections/dims/points?wait=") + wait,
             {{"points", {{{"id", 1}, {"vector", {1, 2, 3, 4}}}, {{"id", 2}, {"vector", {1, 2, 3}}}}}});
    EXPECT_EQ(list.status, 400);
    EXPECT_EQ(list.Error(), message);
    HttpReply batch = Call("PUT", std::string("/collections/dims/points?wait=") + wait,
                           {{"batch", {{"ids", {1}}, {"vectors", {{1, 2, 3}}}}}});
    EXPECT_EQ(batch.status, 400);
    EXPECT_EQ(batch.Error(), message);
  }
  HttpReply query = Call("POST", "/collections/dims/points/query", {{"query", {1, 2, 3}}});
  EXPECT_EQ(query.status, 400);
  EXPECT_EQ(query.Error(), message);
  EXPECT_EQ(Ok("POST", "/collections/dims/points/count", json::object())["count"],
            0);  // nothing half-written
}

// The score each distance reports, computed here in double precision.
double Expected(const std::string& distance, std::vector<float> a, std::vector<float> b) {
  double sum = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  for (size_t i = 0; i < a.size(); ++i) {
    double x = a[i], y = b[i];
    if (distance == "Cosine") sum += x / std::sqrt(na) * (y / std::sqrt(nb));
    if (distance == "Dot") sum += x * y;
    if (distance == "Euclid") sum += (x - y) * (x - y);
    if (distance == "Manhattan") sum += std::fabs(x - y);
  }
  return distance == "Euclid" ? std::sqrt(sum) : sum;
}

class DistanceTest : public QdrantTestServerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(DistanceTest, ScoresMatchBruteForce) {
  const std::string distance = GetParam();
  const bool higher_is_better = distance == "Cosine" || distance == "Dot";
  auto vectors = RandomVectors(40, 8, 7);
  Create("d", 8, distance);
  Fill("d", vectors);
  std::vector<float> query = RandomVectors(1, 8, 99)[0];

  std::vector<std::pair<double, int>> expected;
  for (int i = 0; i < 40; ++i) expected.push_back({Expected(distance, query, vectors[i]), i});
  std::sort(expected.begin(), expected.end(), [&](const auto& a, const auto& b) {
    return higher_is_better ? a.first > b.first : a.first < b.first;
  });

  json points = Ok("POST", "/collections/d/points/query", {{"query", query}, {"limit", 40}})["points"];
  ASSERT_EQ(points.size(), 40u);
  for (size_t r = 0; r < 40; ++r) {
    EXPECT_EQ(points[r]["id"], expected[r].second) << distance << " rank " << r;
    EXPECT_NEAR(points[r]["score"].get<double>(), expected[r].first,
                1e-4 * std::max(1.0, std::fabs(expected[r].first)));
    EXPECT_TRUE(points[r].contains("version"));
    EXPECT_FALSE(points[r].contains("payload"));  // with_payload defaults to false for query
  }
  // Default limit 10 and the nearest form.
  json nearest = Ok("POST", "/collections/d/points/query", {{"query", {{"nearest", query}}}})["points"];
  ASSERT_EQ(nearest.size(), 10u);
  EXPECT_EQ(nearest[0]["id"], expected[0].second);

  // The threshold is strict: the third score as threshold keeps two points.
  json threshold = points[2]["score"];
  json kept = Ok("POST", "/collections/d/points/query",
                 {{"query", query}, {"limit", 40}, {"score_threshold", threshold}})["points"];
  EXPECT_EQ(kept.size(), 2u) << distance;

  // offset skips the best results.
  json shifted =
      Ok("POST", "/collections/d/points/query", {{"query", query}, {"limit", 3}, {"offset", 5}})["points"];
  ASSERT_EQ(shifted.size(), 3u);
  EXPECT_EQ(shifted[0]["id"], expected[5].second);

  // Cosine stores unit vectors, and returns them.
  json record = Ok("POST", "/collections/d/points", {{"ids", {3}}, {"with_vector", true}})[0];
  double norm = 0;
  for (size_t i = 0; i < 8; ++i) {
    double stored = record["vector"][i].get<double>();
    norm += stored * stored;
    if (distance != "Cosine") {
      EXPECT_FLOAT_EQ(static_cast<float>(stored), vectors[3][i]);
    }
  }
  if (distance == "Cosine") {
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(AllDistances, DistanceTest,
                         ::testing::Values("Cosine", "Dot", "Euclid", "Manhattan"));

TEST_F(QdrantTestServerTest, KnownScoresFromQdrantTests) {
  // test_euclid_dist.py and test_manhattan_dist.py: distances 1, 1.414, 2.828 and 1, 2, 4.
  for (const std::string distance : {"Euclid", "Manhattan"}) {
    Create(distance, 2, distance);
    Ok("PUT", "/collections/" + distance + "/points?wait=true",
       {{"points",
         {{{"id", 1}, {"vector", {1, 0}}},
          {{"id", 2}, {"vector", {1, 1}}},
          {{"id", 3}, {"vector", {2, 2}}}}}});
    json points = Ok("POST", "/collections/" + distance + "/points/query", {{"query", {0, 0}}})["points"];
    ASSERT_EQ(points.size(), 3u);
    std::vector<double> want = distance == "Euclid" ? std::vector<double>{1, std::sqrt(2.0), std::sqrt(8.0)}
                                                    : std::vector<double>{1, 2, 4};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(points[i]["id"], i + 1);
      EXPECT_NEAR(points[i]["score"].get<double>(), want[i], 1e-6);
    }
  }
}

TEST_F(QdrantTestServerTest, QueryByIdExcludesThePoint) {
  auto vectors = RandomVectors(12, 4, 3);
  Create("q", 4);
  Fill("q", vectors);
  json by_id = Ok("POST", "/collections/q/points/query", {{"query", 5}, {"limit", 100}})["points"];
  EXPECT_EQ(by_id.size(), 11u);
  for (const json& p : by_id) EXPECT_NE(p["id"], 5);
  // Same order as a search with the point's own vector, minus the point.
  json by_vector =
      Ok("POST", "/collections/q/points/query", {{"query", vectors[5]}, {"limit", 100}})["points"];
  ASSERT_EQ(by_vector.size(), 12u);
  EXPECT_EQ(by_vector[0]["id"], 5);
  by_vector.erase(by_vector.begin());
  EXPECT_EQ(Ids(by_id), Ids(by_vector));
  json nearest_id =
      Ok("POST", "/collections/q/points/query", {{"query", {{"nearest", 5}}}, {"limit", 100}})["points"];
  EXPECT_EQ(Ids(nearest_id), Ids(by_id));

  HttpReply missing = Call("POST", "/collections/q/points/query", {{"query", 77}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Error(), "Not found: No point with id 77 found");
  HttpReply zero_limit = Call("POST", "/collections/q/points/query", {{"query", 5}, {"limit", 0}});
  EXPECT_EQ(zero_limit.status, 422);
  EXPECT_EQ(zero_limit.Error(),
            "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
  HttpReply named = Call("POST", "/collections/q/points/query", {{"query", 5}, {"using", "image"}});
  EXPECT_EQ(named.status, 400);
  EXPECT_EQ(named.Error(), "Wrong input: Not existing vector name error: image");

  // Without a query: points in id order.
  json listed = Ok("POST", "/collections/q/points/query", {{"limit", 3}, {"offset", 2}})["points"];
  EXPECT_EQ(Ids(listed), (std::vector<json>{2, 3, 4}));
}

TEST_F(QdrantTestServerTest, BatchQueryAndLegacySearch) {
  auto vectors = RandomVectors(20, 4, 5);
  Create("b", 4, "Euclid");
  Fill("b", vectors);
  json first = {{"query", vectors[1]}, {"limit", 4}, {"with_payload", true}};
  json second = {{"query", 7},
                 {"limit", 2},
                 {"filter", {{"must", {{{"key", "sample_id"}, {"match", {{"value", "s1"}}}}}}}}};
  json batch = Ok("POST", "/collections/b/points/query/batch", {{"searches", {first, second}}});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], Ok("POST", "/collections/b/points/query", first));
  EXPECT_EQ(batch[1], Ok("POST", "/collections/b/points/query", second));
  EXPECT_EQ(batch[0]["points"][0]["id"], 1);
  EXPECT_EQ(batch[0]["points"][0]["payload"], json({{"sample_id", "s1"}, {"i", 1}}));
  for (const json& p : batch[1]["points"]) EXPECT_EQ(p["id"].get<int>() % 3, 1);

  // Legacy search: a flat list; limit is required and "top" is its alias.
  json search = Ok("POST", "/collections/b/points/search",
                   {{"vector", vectors[1]}, {"top", 4}, {"with_payload", true}});
  EXPECT_EQ(search, batch[0]["points"]);
  json named = Ok("POST", "/collections/b/points/search",
                  {{"vector", {{"name", ""}, {"vector", vectors[1]}}}, {"limit", 4}});
  EXPECT_EQ(Ids(named), Ids(search));
  HttpReply no_limit = Call("POST", "/collections/b/points/search", {{"vector", vectors[1]}});
  EXPECT_EQ(no_limit.status, 400);
  EXPECT_EQ(no_limit.Error(), "Format error in JSON body: missing field `limit`");
  json search_batch = Ok("POST", "/collections/b/points/search/batch",
                         {{"searches", {{{"vector", vectors[1]}, {"limit", 4}, {"with_payload", true}}}}});
  ASSERT_EQ(search_batch.size(), 1u);
  EXPECT_EQ(search_batch[0], search);
  HttpReply bad_batch =
      Call("POST", "/collections/b/points/query/batch", {{"searches", {first, {{"limit", 0}}}}});
  EXPECT_EQ(bad_batch.status, 422);
  EXPECT_EQ(bad_batch.Error(),
            "Validation error in JSON body: [searches[1].limit: value 0 invalid, must be 1 or larger]");
}

TEST_F(QdrantTestServerTest, Filters) {
  auto vectors = RandomVectors(9, 3, 11);
  Create("f", 3, "Dot");
  Fill("f", vectors);
  Ok("PUT", "/collections/f/points?wait=true",
     {{"points",
       {{{"id", 100}, {"vector", {1, 1, 1}}, {"payload", {{"sample_id", {"s0", "s9"}}, {"i", 1.0}}}}}}});
  auto count = [&](const json& filter) {
    return Ok("POST", "/collections/f/points/count", {{"filter", filter}, {"exact", true}})["count"]
        .get<int>();
  };
  auto query_ids = [&](const json& filter) {
    return Ids(Ok("POST", "/collections/f/points/query",
                  {{"query", {1, 0, 0}}, {"filter", filter}, {"limit", 100}})["points"]);
  };
  EXPECT_EQ(count(json::object()), 10);
  json has_ids = {{"must", {{{"has_id", {1, 4, 100, 555}}}}}};
  EXPECT_EQ(count(has_ids), 3);
  auto ids = query_ids(has_ids);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<json>{1, 4, 100}));
  EXPECT_EQ(count({{"must_not", {{{"has_id", {1, 4}}}}}}), 8);
  EXPECT_EQ(query_ids({{"must_not", {{{"has_id", {1, 4}}}}}}).size(), 8u);
  // match.value on an array payload matches any element.
  EXPECT_EQ(count({{"must", {{{"key", "sample_id"}, {"match", {{"value", "s0"}}}}}}}), 4);
  EXPECT_EQ(count({{"must", {{{"key", "sample_id"}, {"match", {{"any", {"s1", "s9"}}}}}}}}), 4);
  EXPECT_EQ(count({{"must", {{{"key", "sample_id"}, {"match", {{"any", json::array()}}}}}}}), 0);
  EXPECT_EQ(count({{"should",
                    {{{"key", "sample_id"}, {"match", {{"value", "s1"}}}},
                     {{"key", "sample_id"}, {"match", {{"value", "s2"}}}}}}}),
            6);
  EXPECT_EQ(count({{"should", json::array()}}), 0);  // an empty should matches nothing
  EXPECT_EQ(count({{"must", json::array()}}), 10);
  EXPECT_EQ(count({{"must", {{{"key", "sample_id"}, {"match", {{"except", {"s0", "s1"}}}}}}}}),
            4);  // s2 x3 and [s0,s9]
  // An integer match never equals a float payload (1.0).
  EXPECT_EQ(count({{"must", {{{"key", "i"}, {"match", {{"value", 1}}}}}}}), 1);
  EXPECT_EQ(count({{"must", {{{"key", "i"}, {"range", {{"gte", 3}, {"lt", 6}}}}}}}), 3);
  EXPECT_EQ(
      count({{"must", {{{"has_id", {1, 2, 3}}}, {{"key", "sample_id"}, {"match", {{"any", {"s1", "s2"}}}}}}},
             {"must_not", {{{"has_id", {2}}}}}}),
      1);
  HttpReply unknown = Call("POST", "/collections/f/points/count", {{"filter", {{"mustnt", json::array()}}}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Error(),
            "Format error in JSON body: unknown field `mustnt`, expected one of `should`, `min_should`, "
            "`must`, `must_not`");

  // Delete by filter, then by ids; missing ids are no error.
  json deleted = Ok("POST", "/collections/f/points/delete?wait=true",
                    {{"filter", {{"must", {{{"key", "sample_id"}, {"match", {{"value", "s2"}}}}}}}}});
  EXPECT_EQ(deleted["status"], "completed");
  EXPECT_EQ(count(json::object()), 7);
  Ok("POST", "/collections/f/points/delete",
     {{"points", {0, 1, 12345, "00000000-0000-0000-0000-000000000000"}}});
  EXPECT_EQ(count(json::object()), 5);
}

TEST_F(QdrantTestServerTest, ScrollPagesInIdOrder) {
  Create("s", 2);
  json points = json::array();
  std::vector<json> all;
  for (int i = 24; i >= 5; --i) {
    points.push_back(
        {{"id", i}, {"vector", {1, 0.5 * i}}, {"payload", {{"sample_id", i % 2 ? "odd" : "even"}}}});
  }
  for (const char* uuid : {"ffffffff-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000a",
                           "80000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001",
                           "c0000000-0000-0000-0000-000000000000"}) {
    points.push_back({{"id", uuid}, {"vector", {0, 1}}, {"payload", {{"sample_id", "uuid"}}}});
  }
  Ok("PUT", "/collections/s/points?wait=true", {{"points", points}});
  for (int i = 5; i <= 24; ++i) all.push_back(i);  // integers first, ascending
  for (const char* uuid : {"00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-00000000000a",
                           "80000000-0000-0000-0000-000000000000", "c0000000-0000-0000-0000-000000000000",
                           "ffffffff-0000-0000-0000-000000000000"}) {
    all.push_back(uuid);
  }

  std::vector<json> seen;
  json offset = nullptr;
  int pages = 0;
  do {
    json body = {{"limit", 10}};
    if (!offset.is_null()) body["offset"] = offset;
    json page = Ok("POST", "/collections/s/points/scroll", body);
    ASSERT_TRUE(page.contains("next_page_offset"));
    for (const json& p : page["points"]) {
      seen.push_back(p["id"]);
      EXPECT_TRUE(p.contains("payload"));  // with_payload defaults to true for scroll
      EXPECT_FALSE(p.contains("vector"));
    }
    offset = page["next_page_offset"];
    ASSERT_LT(++pages, 10);
  } while (!offset.is_null());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, all);

  // The default limit is 10; the offset is inclusive.
  json first = Ok("POST", "/collections/s/points/scroll", json::object());
  EXPECT_EQ(first["points"].size(), 10u);
  EXPECT_EQ(first["next_page_offset"], 15);
  json from = Ok("POST", "/collections/s/points/scroll", {{"offset", 15}, {"limit", 1}});
  EXPECT_EQ(from["points"][0]["id"], 15);
  EXPECT_EQ(from["next_page_offset"], 16);
  // With a filter, pages hold only matching points.
  json odd = Ok("POST", "/collections/s/points/scroll",
                {{"limit", 4},
                 {"with_payload", false},
                 {"with_vector", true},
                 {"filter", {{"must", {{{"key", "sample_id"}, {"match", {{"value", "odd"}}}}}}}}});
  EXPECT_EQ(Ids(odd["points"]), (std::vector<json>{5, 7, 9, 11}));
  EXPECT_EQ(odd["next_page_offset"], 13);
  EXPECT_FALSE(odd["points"][0].contains("payload"));
  EXPECT_TRUE(odd["points"][0].contains("vector"));
  HttpReply zero = Call("POST", "/collections/s/points/scroll", {{"limit", 0}});
  EXPECT_EQ(zero.status, 422);
}

TEST_F(QdrantTestServerTest, PayloadSelectors) {
  Create("p", 2, "Dot");
  Ok("PUT", "/collections/p/points?wait=true",
     {{"points",
       {{{"id", 1}, {"vector", {1, 0}}, {"payload", {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"e", 4}}}}}}});
  auto scroll_payload = [&](const json& selector) {
    return Ok("POST", "/collections/p/points/scroll", {{"with_payload", selector}})["points"][0]["payload"];
  };
  EXPECT_EQ(scroll_payload({"a", "b.c"}), json({{"a", 1}, {"b", {{"c", 2}}}}));
  EXPECT_EQ(scroll_payload({{"include", {"e"}}}), json({{"e", 4}}));
  EXPECT_EQ(scroll_payload({{"exclude", {"a", "b.d"}}}), json({{"b", {{"c", 2}}}, {"e", 4}}));
}

TEST(QdrantTestServerAuthTest, ApiKeyIsRequired) {
  ServerProcess server({"--api-key", "sekret"});
  HttpReply none = Send(server.port(), "GET", "/collections");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, "Must provide an API key or an Authorization bearer token");  // plain text, not JSON
  EXPECT_EQ(none.content_type.rfind("text/plain", 0), 0u);
  HttpReply wrong = Send(server.port(), "GET", "/collections", "", {"api-key: nope"});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, "Invalid API key or JWT");
  EXPECT_EQ(Send(server.port(), "GET", "/collections", "", {"Authorization: Bearer nope"}).status, 401);
  EXPECT_EQ(Send(server.port(), "GET", "/collections", "", {"api-key: sekret"}).status, 200);
  EXPECT_EQ(Send(server.port(), "GET", "/collections", "", {"Authorization: Bearer sekret"}).status, 200);
  EXPECT_EQ(Send(server.port(), "GET", "/").status, 200);  // no key needed
  EXPECT_EQ(Send(server.port(), "GET", "/healthz").status, 200);
  HttpReply write = Send(server.port(), "PUT", "/collections/x", R"({"vectors":{"size":2,"distance":"Dot"}})",
                         {"Content-Type: application/json"});
  EXPECT_EQ(write.status, 401);
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(QdrantTestServerTest, BodyOver32MiBIsRejected) {
  Create("big", 2);
  // Qdrant's JSON limit is 32 MiB (max_request_size_mb); its JSON error
  // handler answers an overflow with 400, as any other JSON payload error.
  auto body_of = [](size_t payload_bytes) {
    return json({{"points",
                  {{{"id", 1}, {"vector", {1, 0}}, {"payload", {{"x", std::string(payload_bytes, 'a')}}}}}}})
        .dump();
  };
  HttpReply too_big = Send(server_.port(), "PUT", "/collections/big/points", body_of((32u << 20) + 1));
  EXPECT_EQ(too_big.status, 400);
  EXPECT_NE(too_big.Error().find("is larger than allowed (limit: 33554432 bytes)"), std::string::npos)
      << too_big.body;
  EXPECT_EQ(Ok("GET", "/collections/big")["points_count"], 0);
  HttpReply fits =
      Send(server_.port(), "PUT", "/collections/big/points?wait=true", body_of((32u << 20) - 200));
  EXPECT_EQ(fits.status, 200);
  EXPECT_EQ(Ok("GET", "/collections/big")["points_count"], 1);
}

TEST_F(QdrantTestServerTest, FaultInjectionAndStats) {
  Create("x", 2);
  Ok("DELETE", "/__test/stats");

  // drop: the connection closes without a response, then service resumes.
  Ok("POST", "/__test/faults", {{"mode", "drop"}, {"count", 1}, {"path_prefix", "/collections/x"}});
  EXPECT_EQ(Call("GET", "/collections").status, 200);  // another path is not affected
  HttpReply dropped = Call("GET", "/collections/x");
  EXPECT_FALSE(dropped.answered);
  EXPECT_EQ(Call("GET", "/collections/x").status, 200);

  // status: the next N matching requests get that status in Qdrant's envelope.
  Ok("POST", "/__test/faults", {{"mode", "status"}, {"status", 503}, {"count", 2}, {"retry_after", 1}});
  for (int i = 0; i < 2; ++i) {
    HttpReply failed = Call("POST", "/collections/x/points/count", json::object());
    EXPECT_EQ(failed.status, 503);
    EXPECT_FALSE(failed.Error().empty()) << failed.body;
    EXPECT_EQ(failed.retry_after, "1");
  }
  EXPECT_EQ(Call("POST", "/collections/x/points/count", json::object()).status, 200);

  // stall: answered normally, after the delay.
  Ok("POST", "/__test/faults", {{"mode", "stall"}, {"stall_ms", 300}});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Call("GET", "/collections").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));

  // A sequence: one 429 then one drop, for the same method and path.
  Ok("POST", "/__test/faults",
     json::array(
         {{{"mode", "status"}, {"status", 429}, {"method", "PUT"}}, {{"mode", "drop"}, {"method", "PUT"}}}));
  json point = {{"points", {{{"id", 1}, {"vector", {1, 0}}}}}};
  EXPECT_EQ(Call("GET", "/collections/x").status, 200);  // GET does not match
  EXPECT_EQ(Call("PUT", "/collections/x/points", point).status, 429);
  EXPECT_FALSE(Call("PUT", "/collections/x/points", point).answered);
  EXPECT_EQ(Call("PUT", "/collections/x/points", point).status, 200);
  EXPECT_EQ(Ok("GET", "/__test/faults")["rules"], json::array());

  // "none" clears a plan.
  Ok("POST", "/__test/faults", {{"mode", "status"}, {"count", 5}});
  Ok("POST", "/__test/faults", {{"mode", "none"}});
  EXPECT_EQ(Call("GET", "/collections").status, 200);
  EXPECT_EQ(Call("POST", "/__test/faults", {{"mode", "explode"}}).status, 400);

  // Every request counts, faulted ones too; the test controls do not.
  json stats = Ok("GET", "/__test/stats");
  EXPECT_EQ(stats["requests"]["GET /collections/x"], 3);
  EXPECT_EQ(stats["requests"]["POST /collections/x/points/count"], 3);
  EXPECT_EQ(stats["requests"]["PUT /collections/x/points"], 3);
  EXPECT_EQ(stats["paths"]["/collections"], 3);
  EXPECT_EQ(stats["total"], 12);
}

TEST_F(QdrantTestServerTest, PayloadIndexShowsInInfo) {
  Create("i", 2);
  Fill("i", RandomVectors(4, 2, 1));
  json result =
      Ok("PUT", "/collections/i/index?wait=true", {{"field_name", "sample_id"}, {"field_schema", "keyword"}});
  EXPECT_EQ(result["status"], "completed");
  EXPECT_EQ(Ok("GET", "/collections/i")["payload_schema"],
            json({{"sample_id", {{"data_type", "keyword"}, {"points", 4}}}}));
  Ok("DELETE", "/collections/i/index/sample_id?wait=true");
  EXPECT_EQ(Ok("GET", "/collections/i")["payload_schema"], json::object());
}

TEST(QdrantTestServerProcessTest, ExitsZeroOnSigtermPromptly) {
  ServerProcess server;
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(Send(server.port(), "GET", "/healthz").status, 200);

  // An idle keep-alive connection must not hold the shutdown for its timeout.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  for (ssize_t n;
       reply.find("check passed") == std::string::npos && (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    reply.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_NE(reply.find("Keep-Alive"), std::string::npos) << reply;

  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  close(fd);
  EXPECT_FALSE(Send(server.port(), "GET", "/healthz").answered);
}

}  // namespace
}  // namespace fo
