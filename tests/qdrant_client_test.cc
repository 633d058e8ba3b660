// Tests of fo::QdrantClient against a scripted loopback HTTP server (below):
// exact request lines, headers and bodies, envelope and error handling,
// retries, dropped connections and timeouts, plus the id conversions.
#include "fo/qdrant_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fo/error.h"
#include "qdrant/request_bodies.h"
#include "qdrant/response_parser.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

constexpr char kApiKey[] = "sekret-KEY-8c1f3e";

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query string
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  int connection = 0;  // which accepted connection carried it
};

// What the fake server does with one request.
struct Reply {
  enum class Kind { kRespond, kDrop };
  Kind kind = Kind::kRespond;
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> headers;
  int stall_ms = 0;  // wait this long before answering

  static Reply Ok(json result) {
    Reply r;
    r.body = json{{"result", std::move(result)}, {"status", "ok"}, {"time", 0.001}}.dump();
    return r;
  }
  static Reply Fail(int status, const std::string& message) {
    Reply r;
    r.status = status;
    r.body = json{{"status", {{"error", message}}}, {"time", 0.001}}.dump();
    return r;
  }
  static Reply Text(int status, std::string text) {
    Reply r;
    r.status = status;
    r.body = std::move(text);
    r.content_type = "text/plain";
    return r;
  }
  static Reply Drop() {
    Reply r;
    r.kind = Kind::kDrop;
    return r;
  }
  static Reply Stall(int ms, Reply then) {
    then.stall_ms = ms;
    return then;
  }
};

// A minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port): one thread per
// connection, keep-alive, Content-Length bodies. Replies come from a script
// (consumed in order), then from a default. Every request is recorded.
class FakeQdrant {
 public:
  FakeQdrant() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, 16) != 0) {
      throw std::runtime_error("FakeQdrant: bind/listen failed");
    }
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeQdrant() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    }
    stop_cv_.notify_all();
    shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    for (std::thread& t : connection_threads_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Script(Reply reply) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(reply));
  }
  void SetDefault(Reply reply) {
    std::lock_guard lock(mu_);
    default_ = std::move(reply);
  }
  std::vector<RecordedRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  RecordedRequest last() {
    std::lock_guard lock(mu_);
    if (requests_.empty()) throw std::runtime_error("FakeQdrant: no request received");
    return requests_.back();
  }

 private:
  void AcceptLoop() {
    for (int connection = 0;; ++connection) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;  // shut down
      std::lock_guard lock(mu_);
      if (stopping_) {
        close(fd);
        return;
      }
      open_fds_.push_back(fd);
      connection_threads_.emplace_back([this, fd, connection] { Serve(fd, connection); });
    }
  }

  void Serve(int fd, int connection) {
    std::string buffer;
    RecordedRequest request;
    while (ReadRequest(fd, buffer, request)) {
      request.connection = connection;
      Reply reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
        if (script_.empty()) {
          reply = default_;
        } else {
          reply = std::move(script_.front());
          script_.pop_front();
        }
      }
      if (reply.stall_ms > 0) {
        std::unique_lock lock(mu_);
        stop_cv_.wait_for(lock, std::chrono::milliseconds(reply.stall_ms), [this] { return stopping_; });
        if (stopping_) break;
      }
      if (reply.kind == Reply::Kind::kDrop) break;
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\nContent-Type: " + reply.content_type +
                        "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
      for (const std::string& h : reply.headers) out += h + "\r\n";
      out += "\r\n" + reply.body;
      if (!SendAll(fd, out)) break;
    }
    std::lock_guard lock(mu_);
    std::erase(open_fds_, fd);
    close(fd);
  }

  static bool SendAll(int fd, const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
      const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  static bool ReadMore(int fd, std::string& buffer) {
    char chunk[65536];
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static bool ReadRequest(int fd, std::string& buffer, RecordedRequest& request) {
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buffer)) return false;
      // A TLS ClientHello (record type 0x16), not HTTP: hang up.
      if (buffer[0] == '\x16') return false;
    }
    request = RecordedRequest();
    const std::string head = buffer.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.find(' ', sp1 + 1);
    request.method = request_line.substr(0, sp1);
    request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers[name] = value;
    }
    size_t length = 0;
    if (auto it = request.headers.find("content-length"); it != request.headers.end()) length = std::stoul(it->second);
    const size_t body_start = header_end + 4;
    while (buffer.size() < body_start + length) {
      if (!ReadMore(fd, buffer)) return false;
    }
    request.body = buffer.substr(body_start, length);
    buffer.erase(0, body_start + length);
    return true;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::vector<int> open_fds_;
  std::vector<std::thread> connection_threads_;
  std::deque<Reply> script_;
  Reply default_ = Reply::Ok(true);
  std::vector<RecordedRequest> requests_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

QdrantClientOptions FastOptions(const std::string& url) {
  QdrantClientOptions o;
  o.url = url;
  o.timeout_s = 5;
  o.connect_timeout_s = 2;
  o.max_retries = 3;
  o.retry_budget_s = 10;
  o.initial_backoff_s = 0.01;
  return o;
}

// Runs `f`, which must throw fo::Error, and returns it.
template <typename F>
Error ErrorOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no fo::Error thrown";
  return Error(ErrorCode::kInternal, "no error");
}

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }

// ---------------------------------------------------------------------------
// Urls, headers, connection reuse

TEST(QdrantClientTest, NormalisesUrls) {
  EXPECT_EQ(QdrantClient(FastOptions("localhost:6333")).url(), "http://localhost:6333");
  EXPECT_EQ(QdrantClient(FastOptions("http://localhost:6333/")).url(), "http://localhost:6333");
  EXPECT_EQ(QdrantClient(FastOptions("HTTPS://x.cloud.qdrant.io:6333//")).url(), "https://x.cloud.qdrant.io:6333");
  EXPECT_EQ(QdrantClient(FastOptions(" http://h:1/prefix/ ")).url(), "http://h:1/prefix");
  EXPECT_EQ(ErrorOf([] { QdrantClient c(FastOptions("")); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([] { QdrantClient c(FastOptions("ftp://h:1")); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([] { QdrantClient c(FastOptions("http://")); }).code(), ErrorCode::kInvalidArgument);
}

TEST(QdrantClientTest, UrlWithoutSchemeReachesServer) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"collections", {{{"name", "a"}}, {{"name", "b"}}}}}));
  QdrantClient client(FastOptions("127.0.0.1:" + std::to_string(server.port())));
  EXPECT_EQ(client.ListCollections(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(server.last().method, "GET");
  EXPECT_EQ(server.last().target, "/collections");
}

TEST(QdrantClientTest, SendsApiKeyAndJsonHeaders) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"exists", true}}));
  QdrantClientOptions options = FastOptions(server.url());
  options.api_key = kApiKey;
  QdrantClient client(options);
  EXPECT_TRUE(client.CollectionExists("c"));
  const RecordedRequest r = server.last();
  EXPECT_EQ(r.headers.at("api-key"), kApiKey);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.count("expect"), 0u) << "100-continue would cost a round trip per upsert";
}

TEST(QdrantClientTest, NoApiKeyHeaderWithoutKey) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"exists", false}}));
  QdrantClient client(FastOptions(server.url()));
  EXPECT_FALSE(client.CollectionExists("c"));
  EXPECT_EQ(server.last().headers.count("api-key"), 0u);
}

TEST(QdrantClientTest, ReusesOneConnection) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"exists", true}}));
  QdrantClient client(FastOptions(server.url()));
  for (int i = 0; i < 5; ++i) client.CollectionExists("c");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  for (const auto& r : requests) EXPECT_EQ(r.connection, requests[0].connection);
}

TEST(QdrantClientTest, EncodesCollectionNamesInPaths) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"exists", true}}));
  QdrantClient client(FastOptions(server.url()));
  client.CollectionExists("a b/c?d%é");
  EXPECT_EQ(server.last().target, "/collections/a%20b%2Fc%3Fd%25%C3%A9/exists");
  EXPECT_EQ(ErrorOf([&] { client.CollectionExists(""); }).code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Collection operations

TEST(QdrantClientTest, CollectionLifecycleRequests) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));

  const json config = {{"vectors", {{"size", 4}, {"distance", "Cosine"}}}, {"hnsw_config", {{"m", 16}}}};
  server.Script(Reply::Ok(true));
  client.CreateCollection("fiftyone-x", config);
  RecordedRequest r = server.last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/collections/fiftyone-x");
  EXPECT_EQ(json::parse(r.body), config);

  server.Script(Reply::Ok({{"status", "green"}, {"points_count", 7}, {"config", json::object()}}));
  EXPECT_EQ(client.GetCollection("fiftyone-x")["points_count"], 7);
  EXPECT_EQ(server.last().method, "GET");
  EXPECT_EQ(server.last().target, "/collections/fiftyone-x");

  server.Script(Reply::Ok(true));
  server.Script(Reply::Ok(false));
  EXPECT_TRUE(client.DeleteCollection("fiftyone-x"));
  EXPECT_FALSE(client.DeleteCollection("fiftyone-x"));
  EXPECT_EQ(server.last().method, "DELETE");
  EXPECT_EQ(server.last().target, "/collections/fiftyone-x");
  EXPECT_TRUE(server.last().body.empty());
}

TEST(QdrantClientTest, RawRequestReturnsResultOrDocument) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  server.Script(Reply::Ok({{"operation_id", 3}, {"status", "completed"}}));
  const json r = client.Request("PUT", "/collections/c/index?wait=true",
                                R"({"field_name":"sample_id","field_schema":"keyword"})");
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(server.last().method, "PUT");
  EXPECT_EQ(server.last().target, "/collections/c/index?wait=true");
  EXPECT_EQ(json::parse(server.last().body)["field_schema"], "keyword");

  Reply root;
  root.body = R"({"title":"qdrant - vector search engine","version":"1.19.0"})";
  server.Script(root);
  EXPECT_EQ(client.Request("GET", "/")["version"], "1.19.0");
  EXPECT_EQ(ErrorOf([&] { client.Request("GET", "collections"); }).code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Upsert body

TEST(QdrantClientTest, UpsertWritesBatchBodyThatRoundTripsFloats) {
  // Every finite float class: normals of all exponents, subnormals, -0,
  // extremes; random bit patterns cover the digit lengths.
  std::mt19937 rng(7);
  const size_t rows = 64, cols = 33;
  Matrix vectors(rows, cols);
  for (size_t i = 0; i < rows * cols; ++i) {
    float f;
    do f = std::bit_cast<float>(static_cast<uint32_t>(rng())); while (!std::isfinite(f));
    vectors.data()[i] = f;
  }
  vectors.data()[0] = -0.0f;
  vectors.data()[1] = std::numeric_limits<float>::denorm_min();
  vectors.data()[2] = -std::numeric_limits<float>::max();
  vectors.data()[3] = std::numeric_limits<float>::min();
  vectors.data()[4] = 0.1f;
  std::vector<std::string> ids;
  std::vector<json> payloads;
  for (size_t i = 0; i < rows; ++i) {
    ids.push_back(i == 5 ? "42" : ObjectIdToPointId("5f1e0b2c3d4e5f6a7b8c9d" + std::to_string(10 + i)));
    payloads.push_back(i == 6 ? json(nullptr) : json{{"sample_id", "s\"" + std::to_string(i)}});
  }

  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"operation_id", 1}, {"status", "completed"}}));
  QdrantClient client(FastOptions(server.url()));
  client.Upsert("c", vectors, ids, payloads);
  const RecordedRequest r = server.last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/collections/c/points?wait=true");
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(QdrantClient::UpsertBodySize(vectors, 0, rows, ids, payloads), r.body.size());

  const json body = json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  const json& batch = body.at("batch");
  ASSERT_EQ(batch["ids"].size(), rows);
  ASSERT_EQ(batch["vectors"].size(), rows);
  ASSERT_EQ(batch["payloads"].size(), rows);
  for (size_t i = 0; i < rows; ++i) {
    if (i == 5) {
      EXPECT_TRUE(batch["ids"][i].is_number_unsigned()) << "Qdrant rejects integer ids sent as strings";
      EXPECT_EQ(batch["ids"][i], 42);
    } else {
      EXPECT_EQ(batch["ids"][i], ids[i]);
    }
    EXPECT_EQ(batch["payloads"][i], payloads[i]);
    ASSERT_EQ(batch["vectors"][i].size(), cols);
    for (size_t j = 0; j < cols; ++j) {
      const float sent = static_cast<float>(batch["vectors"][i][j].get<double>());
      ASSERT_EQ(Bits(sent), Bits(vectors.row(i)[j])) << "row " << i << " col " << j;
    }
  }

  client.Upsert("c", vectors, ids, {}, /*wait=*/false);
  EXPECT_EQ(server.last().target, "/collections/c/points?wait=false");
  EXPECT_FALSE(json::parse(server.last().body)["batch"].contains("payloads"));
  EXPECT_EQ(QdrantClient::UpsertBodySize(vectors, 0, rows, ids, {}), server.last().body.size());
}

TEST(QdrantClientTest, UpsertBodySizeOfRowRanges) {
  const Matrix vectors = fo::testing::RandomMatrix(10, 8, 1, 0.05f);
  std::vector<std::string> ids;
  std::vector<json> payloads;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(std::to_string(i * 1000));
    payloads.push_back({{"sample_id", std::to_string(i)}, {"tab", "a\tb"}});
  }
  // A 3-row slice, sized with whole-matrix lists and with slice lists, must
  // equal the body of an upsert of just those rows.
  Matrix slice(3, 8);
  std::copy(vectors.row(4).begin(), vectors.row(7).begin(), slice.data());
  const std::vector<std::string> slice_ids(ids.begin() + 4, ids.begin() + 7);
  const std::vector<json> slice_payloads(payloads.begin() + 4, payloads.begin() + 7);

  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  client.Upsert("c", slice, slice_ids, slice_payloads);
  const size_t sent = server.last().body.size();
  EXPECT_EQ(QdrantClient::UpsertBodySize(vectors, 4, 3, ids, payloads), sent);
  EXPECT_EQ(QdrantClient::UpsertBodySize(vectors, 4, 3, slice_ids, slice_payloads), sent);
  EXPECT_EQ(internal::UpsertBatchBody(vectors, 4, 3, ids, payloads), server.last().body);

  EXPECT_EQ(ErrorOf([&] { QdrantClient::UpsertBodySize(vectors, 8, 3, ids, payloads); }).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([&] { QdrantClient::UpsertBodySize(vectors, 4, 3, {"x"}, {}); }).code(),
            ErrorCode::kInvalidArgument);
}

// A slow, obvious reference for the batch body (no payloads).
std::string ReferenceUpsertBody(const Matrix& m, const std::vector<std::string>& ids) {
  std::string out = R"({"batch":{"ids":[)";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += '"' + ids[i] + '"';
  }
  out += R"(],"vectors":[)";
  for (size_t i = 0; i < m.rows(); ++i) {
    out += i ? ",[" : "[";
    for (size_t j = 0; j < m.cols(); ++j) {
      char buf[32];
      if (j > 0) out += ',';
      out.append(buf, std::to_chars(buf, buf + 32, m.row(i)[j]).ptr);
    }
    out += "]";
  }
  return out + "]}}";
}

TEST(QdrantClientTest, LargeBodiesMatchReference) {
  // Big enough to be formatted in several chunks (on several threads where
  // there are cores): the joins must not show.
  for (size_t rows : {1u, 2u, 3u, 257u, 1000u}) {
    const Matrix vectors = fo::testing::RandomMatrix(rows, 700, static_cast<uint32_t>(rows), 0.05f);
    std::vector<std::string> ids;
    for (size_t i = 0; i < rows; ++i) ids.push_back("id-" + std::to_string(i));
    const std::string body = internal::UpsertBatchBody(vectors, 0, rows, ids, {});
    ASSERT_EQ(body, ReferenceUpsertBody(vectors, ids)) << rows;
    EXPECT_EQ(QdrantClient::UpsertBodySize(vectors, 0, rows, ids, {}), body.size()) << rows;
  }
  Matrix vectors = fo::testing::RandomMatrix(1000, 700, 5, 0.05f);
  std::vector<std::string> ids(1000, "1");
  vectors.row(900)[3] = -std::numeric_limits<float>::infinity();
  vectors.row(950)[3] = std::numeric_limits<float>::quiet_NaN();
  for (size_t first : {0u, 100u}) {
    Error e = ErrorOf([&] { internal::UpsertBatchBody(vectors, first, 1000 - first, ids, {}); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("row 900 "));
    e = ErrorOf([&] { QdrantClient::UpsertBodySize(vectors, first, 1000 - first, ids, {}); });
    EXPECT_THAT(e.what(), HasSubstr("row 900 "));
  }
}

TEST(QdrantClientTest, UpsertRejectsBadInputBeforeSending) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  Matrix vectors = fo::testing::RandomMatrix(2, 3, 2, 0.05f);
  const std::vector<std::string> ids = {"1", "2"};
  EXPECT_EQ(ErrorOf([&] { client.Upsert("c", vectors, {"1"}, {}); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([&] { client.Upsert("c", vectors, ids, {json::object()}); }).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([&] { client.Upsert("c", vectors, ids, {json::object(), json::array()}); }).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([&] { client.Upsert("c", vectors, ids, {json::object(), {{"s", "\xff"}}}); }).code(),
            ErrorCode::kInvalidArgument);
  vectors.row(1)[2] = std::numeric_limits<float>::quiet_NaN();
  const Error nan = ErrorOf([&] { client.Upsert("c", vectors, ids, {}); });
  EXPECT_EQ(nan.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(nan.what(), HasSubstr("row 1"));
  vectors.row(1)[2] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ErrorOf([&] { client.Upsert("c", vectors, ids, {}); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(server.request_count(), 0u);
}

// ---------------------------------------------------------------------------
// Reads

TEST(QdrantClientTest, RetrieveSendsIdsAndReadsRecords) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok(json::array({
      {{"id", "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000"}, {"vector", {0.5, -0.25, 1e-7}}, {"payload", {{"k", 1}}}},
      {{"id", 17}, {"vector", {1, 2, 3}}, {"payload", json::object()}},
  })));
  QdrantClient client(FastOptions(server.url()));
  const auto points = client.Retrieve("c", {"5f1e0b2c3d4e5f6a7b8c9d0e00000000", "17", "missing"}, true, true);
  const RecordedRequest r = server.last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/collections/c/points");
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"ids":["5f1e0b2c3d4e5f6a7b8c9d0e00000000",17,"missing"],
                            "with_payload":true,"with_vector":true})"));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].id, "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000");
  EXPECT_EQ(points[0].vector, (std::vector<float>{0.5f, -0.25f, 1e-7f}));
  EXPECT_EQ(points[0].payload, json({{"k", 1}}));
  EXPECT_EQ(points[1].id, "17");
  EXPECT_EQ(points[1].vector, (std::vector<float>{1, 2, 3}));

  server.SetDefault(Reply::Ok(json::array({{{"id", 3}}})));
  const auto bare = client.Retrieve("c", {"3"}, false, false);
  EXPECT_EQ(json::parse(server.last().body), json::parse(R"({"ids":[3],"with_payload":false,"with_vector":false})"));
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_TRUE(bare[0].vector.empty());
  EXPECT_TRUE(bare[0].payload.is_null());

  const size_t before = server.request_count();
  EXPECT_TRUE(client.Retrieve("c", {}, true, true).empty());
  EXPECT_EQ(server.request_count(), before);
}

TEST(QdrantClientTest, RetrieveReadsFloatsExactly) {
  // The server writes float32 scores and vectors in shortest form; they must
  // come back as the same float.
  std::mt19937 rng(11);
  std::vector<float> values(2000);
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    do values[i] = std::bit_cast<float>(static_cast<uint32_t>(rng())); while (!std::isfinite(values[i]));
    char buf[32];
    if (i > 0) text += ',';
    text.append(buf, std::to_chars(buf, buf + 32, values[i]).ptr);
  }
  text += "]";
  FakeQdrant server;
  Reply reply;
  reply.body = R"({"result":[{"id":1,"vector":)" + text + R"(}],"status":"ok","time":0})";
  server.SetDefault(reply);
  QdrantClient client(FastOptions(server.url()));
  const auto points = client.Retrieve("c", {"1"}, true, false);
  ASSERT_EQ(points.size(), 1u);
  ASSERT_EQ(points[0].vector.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(Bits(points[0].vector[i]), Bits(values[i])) << i;
}

TEST(QdrantClientTest, ScrollSendsPagingAndReadsNextOffset) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  const json filter = {{"should", {{{"key", "sample_id"}, {"match", {{"value", "abc"}}}}}}};

  server.Script(Reply::Ok({{"points", {{{"id", 1}, {"payload", {{"sample_id", "abc"}}}}}}, {"next_page_offset", 2}}));
  QdrantScrollPage page = client.Scroll("c", filter, 1, nullptr, false, true);
  EXPECT_EQ(json::parse(server.last().body),
            json({{"limit", 1}, {"filter", filter}, {"with_payload", true}, {"with_vector", false}}));
  EXPECT_EQ(server.last().target, "/collections/c/points/scroll");
  ASSERT_EQ(page.points.size(), 1u);
  EXPECT_EQ(page.points[0].id, "1");
  EXPECT_EQ(page.next_page_offset, 2);

  // An integer id handed out as a string goes back as a number.
  server.Script(Reply::Ok({{"points", json::array()}, {"next_page_offset", nullptr}}));
  page = client.Scroll("c", nullptr, 1000, "2", true, false);
  EXPECT_EQ(json::parse(server.last().body),
            json({{"limit", 1000}, {"offset", 2}, {"with_payload", false}, {"with_vector", true}}));
  EXPECT_TRUE(page.points.empty());
  EXPECT_TRUE(page.next_page_offset.is_null());

  server.Script(Reply::Ok({{"points", json::array()}, {"next_page_offset", nullptr}}));
  client.Scroll("c", nullptr, 10, "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000", false, false);
  EXPECT_EQ(json::parse(server.last().body)["offset"], "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000");

  EXPECT_EQ(ErrorOf([&] { client.Scroll("c", nullptr, 0, nullptr, false, false); }).code(),
            ErrorCode::kInvalidArgument);
}

TEST(QdrantClientTest, CountIsExactWithOptionalFilter) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  server.Script(Reply::Ok({{"count", 12345}}));
  EXPECT_EQ(client.Count("c"), 12345u);
  EXPECT_EQ(server.last().target, "/collections/c/points/count");
  EXPECT_EQ(json::parse(server.last().body), json({{"exact", true}}));

  const json filter = {{"must", {{{"has_id", {"5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000"}}}}}};
  server.Script(Reply::Ok({{"count", 1}}));
  EXPECT_EQ(client.Count("c", filter), 1u);
  EXPECT_EQ(json::parse(server.last().body), json({{"exact", true}, {"filter", filter}}));

  server.Script(Reply::Ok({{"count", -1}}));
  EXPECT_EQ(ErrorOf([&] { client.Count("c"); }).code(), ErrorCode::kCorruption);
}

TEST(QdrantClientTest, QueryBatchSendsOneSearchPerRow) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok(json::array({
      {{"points", {{{"id", "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000"}, {"version", 3}, {"score", 0.75},
                    {"payload", {{"sample_id", "s1"}}}},
                   {{"id", 9}, {"version", 1}, {"score", -0.5}}}}},
      {{"points", json::array()}},
  })));
  QdrantClient client(FastOptions(server.url()));
  Matrix queries(2, 3, {0.1f, 0.2f, 0.3f, -1, 0, 1e-30f});
  const json filter = {{"must", {{{"has_id", {9}}}}}};
  const auto results = client.QueryBatch("c", queries, 5, filter);

  const RecordedRequest r = server.last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/collections/c/points/query/batch");
  const json body = json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  ASSERT_EQ(body["searches"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const json& s = body["searches"][i];
    EXPECT_EQ(s.size(), 4u) << s;
    EXPECT_EQ(s["limit"], 5);
    EXPECT_EQ(s["filter"], filter);
    EXPECT_EQ(s["with_payload"], true);
    ASSERT_EQ(s["query"].size(), 3u);
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(s["query"][j].get<float>(), queries.row(i)[j]);
  }
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[0].size(), 2u);
  EXPECT_EQ(results[0][0].id, "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000");
  EXPECT_DOUBLE_EQ(results[0][0].score, 0.75);
  EXPECT_EQ(results[0][0].payload, json({{"sample_id", "s1"}}));
  EXPECT_EQ(results[0][1].id, "9");
  EXPECT_DOUBLE_EQ(results[0][1].score, -0.5);
  EXPECT_TRUE(results[0][1].payload.is_null());
  EXPECT_TRUE(results[1].empty());

  client.QueryBatch("c", queries, 1, nullptr, false);
  const json plain = json::parse(server.last().body)["searches"][0];
  EXPECT_FALSE(plain.contains("filter"));
  EXPECT_EQ(plain["with_payload"], false);

  // One result per search, or the answer is not for this request.
  server.SetDefault(Reply::Ok(json::array({{{"points", json::array()}}})));
  EXPECT_EQ(ErrorOf([&] { client.QueryBatch("c", queries, 5, nullptr); }).code(), ErrorCode::kCorruption);
  EXPECT_EQ(ErrorOf([&] { client.QueryBatch("c", queries, 0, nullptr); }).code(), ErrorCode::kInvalidArgument);
}

TEST(QdrantClientTest, DeletePointsByIdsWaits) {
  FakeQdrant server;
  server.SetDefault(Reply::Ok({{"operation_id", 5}, {"status", "completed"}}));
  QdrantClient client(FastOptions(server.url()));
  client.DeletePoints("c", {"5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000", "7"});
  EXPECT_EQ(server.last().method, "POST");
  EXPECT_EQ(server.last().target, "/collections/c/points/delete?wait=true");
  EXPECT_EQ(json::parse(server.last().body), json::parse(R"({"points":["5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000",7]})"));
  client.DeletePoints("c", {"1"}, /*wait=*/false);
  EXPECT_EQ(server.last().target, "/collections/c/points/delete?wait=false");
}

// ---------------------------------------------------------------------------
// The fast response parser, against nlohmann's as the reference

TEST(QdrantResponseParserTest, MatchesNlohmannOnOrdinaryJson) {
  const char* docs[] = {
      "{}", "[]", "null", "true", "false", "0", "-0", "17", "-17", "18446744073709551615", "18446744073709551616",
      "-9223372036854775808", "-9223372036854775809", "1.5", "-0.0", "1e3", "1E-3", "2.5e+10", "1.7976931348623157e308",
      R"("")", R"("plain")", R"("esc \" \\ \/ \b \f \n \r \t")", R"("\u00e9\u20ac\ud83d\ude00")", "\"h\u00e9llo ☃\"",
      R"( { "a" : [ 1 , 2.5 , "x" , null , true , { } , [ ] ] , "b" : { "c" : { "d" : [ [ [ ] ] ] } } } )",
      R"({"dup":1,"dup":2})",
      R"({"result":{"points":[{"id":1,"payload":{"vector":[1,2]},"vector":{"named":[1,2]}}],"next_page_offset":null}})",
      R"({"result":[{"id":"u","vector":[[1,2],[3,4]]},{"id":2,"vector":{"indices":[1],"values":[0.5]}}]})",
      R"({"other":[{"vector":[1,2,3]}],"result":{"nested":[{"vector":[1]}]}})",
  };
  for (const char* doc : docs) {
    SCOPED_TRACE(doc);
    const internal::ParsedResponse parsed = internal::ParseResponseWithVectors(doc);
    EXPECT_EQ(parsed.doc, json::parse(doc));
    EXPECT_TRUE(parsed.vectors.empty());
  }
}

TEST(QdrantResponseParserTest, RejectsWhatNlohmannRejects) {
  const char* bad[] = {
      "", " ", "{", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "01", "1.", ".5", "1e", "-", "+1",
      "tru", "nul", "NaN", "Infinity", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"a\nb\"", "[1] 2",
      R"({"result":[{"vector":[1,2,]}]})", R"({"result":[{"vector":[1 2]}]})", R"({"result":[{"vector":[1,]}]})",
  };
  for (const char* doc : bad) {
    SCOPED_TRACE(doc);
    EXPECT_THROW(internal::ParseResponseWithVectors(doc), internal::JsonParseError);
    EXPECT_FALSE(json::accept(doc));
  }
  EXPECT_THROW(internal::ParseResponseWithVectors(std::string(600, '[') + std::string(600, ']')),
               internal::JsonParseError);
  EXPECT_THROW(internal::ParseResponseWithVectors(R"({"result":[{"vector":[1e39]}]})"), internal::JsonParseError);
}

TEST(QdrantResponseParserTest, ReadsRecordVectorsAside) {
  const std::string doc = R"({"result":{"points":[
      {"id":1,"vector":[0.5,-2,1e-3],"payload":{"vector":[9,9]}},
      {"id":2,"vector":[]},
      {"id":3,"vector":null}],"next_page_offset":4},"status":"ok","time":0.1})";
  internal::ParsedResponse parsed = internal::ParseResponseWithVectors(doc);
  json expected = json::parse(doc);
  ASSERT_EQ(parsed.vectors.size(), 2u);
  EXPECT_EQ(parsed.vectors[0], (std::vector<float>{0.5f, -2.0f, 1e-3f}));
  EXPECT_TRUE(parsed.vectors[1].empty());
  const json& points = parsed.doc["result"]["points"];
  EXPECT_EQ(internal::ParsedResponse::VectorRef(points[0]["vector"]), 0u);
  EXPECT_EQ(internal::ParsedResponse::VectorRef(points[1]["vector"]), 1u);
  EXPECT_EQ(points[0]["payload"], expected["result"]["points"][0]["payload"]) << "payload keys are data";
  EXPECT_TRUE(points[2]["vector"].is_null());
  EXPECT_FALSE(internal::ParsedResponse::VectorRef(json::array({1, 2})).has_value());
  // Everything else as nlohmann has it.
  for (auto& p : expected["result"]["points"]) p.erase("vector");
  json rest = parsed.doc;
  for (auto& p : rest["result"]["points"]) p.erase("vector");
  EXPECT_EQ(rest, expected);
}

TEST(QdrantResponseParserTest, VectorFloatsAreCorrectlyRounded) {
  // Decimal texts that are not a float's shortest form (as a server using
  // another formatter might send) must still round to the nearest float.
  std::mt19937 rng(5);
  std::string text = R"({"result":[{"id":1,"vector":[)";
  std::vector<std::string> values;
  for (int i = 0; i < 5000; ++i) {
    const double d = std::ldexp(static_cast<double>(rng()) / 4294967296.0 - 0.5, static_cast<int>(rng() % 200) - 100);
    char buf[64];
    values.emplace_back(buf, std::to_chars(buf, buf + 64, d).ptr);
    text += (i ? "," : "") + values.back();
  }
  text += "]}]}";
  const internal::ParsedResponse parsed = internal::ParseResponseWithVectors(text);
  ASSERT_EQ(parsed.vectors.size(), 1u);
  ASSERT_EQ(parsed.vectors[0].size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const float expected = std::strtof(values[i].c_str(), nullptr);
    ASSERT_EQ(Bits(parsed.vectors[0][i]), Bits(expected)) << values[i];
  }
}

// ---------------------------------------------------------------------------
// Errors

TEST(QdrantClientTest, UnreachableServer) {
  QdrantClientOptions options = FastOptions("127.0.0.1:" + std::to_string(UnusedPort()));
  options.api_key = kApiKey;
  options.max_retries = 2;
  QdrantClient client(options);
  const auto start = Clock::now();
  const Error e = ErrorOf([&] { client.ListCollections(); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("Failed to connect to Qdrant at " + client.url() + ": "));
  EXPECT_THAT(e.what(), HasSubstr("3 attempts"));
  EXPECT_THAT(e.what(), Not(HasSubstr(kApiKey)));
  EXPECT_LT(SecondsSince(start), 2.0);
}

TEST(QdrantClientTest, UnauthorizedNamesUrlNotKey) {
  FakeQdrant server;
  QdrantClientOptions options = FastOptions(server.url());
  options.api_key = kApiKey;
  QdrantClient client(options);
  server.Script(Reply::Text(401, "Invalid API key or JWT"));
  Error e = ErrorOf([&] { client.ListCollections(); });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(std::string(e.what()),
            "Qdrant at " + server.url() + " refused the request (HTTP 401): check the api_key");
  EXPECT_EQ(server.request_count(), 1u) << "401 is not retried";

  // Even a server that echoes the key back does not get it into a message.
  server.Script(Reply::Fail(403, std::string("Forbidden: key ") + kApiKey + " is read-only"));
  e = ErrorOf([&] { client.DeletePoints("c", {"1"}); });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(e.what(), HasSubstr("HTTP 403"));
  EXPECT_THAT(e.what(), HasSubstr("Forbidden: key *** is read-only"));
  EXPECT_THAT(e.what(), Not(HasSubstr(kApiKey)));
}

TEST(QdrantClientTest, ClientErrorsPassServerMessageOn) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));

  server.Script(Reply::Fail(404, "Not found: Collection `x` doesn't exist!"));
  Error e = ErrorOf([&] { client.Count("x"); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(e.what(), HasSubstr("Not found: Collection `x` doesn't exist!"));

  server.Script(Reply::Fail(400, "Wrong input: Vector dimension error: expected dim: 4, got 3"));
  e = ErrorOf([&] { client.Upsert("x", Matrix(1, 3), {"1"}, {}); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(std::string(e.what()), "Qdrant: Wrong input: Vector dimension error: expected dim: 4, got 3");

  server.Script(Reply::Fail(422, "Validation error in JSON body: [limit: value 0 invalid]"));
  e = ErrorOf([&] { client.Request("POST", "/collections/x/points/query", R"({"limit":0})"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), HasSubstr("Validation error in JSON body"));

  server.Script(Reply::Fail(409, "Wrong input: Collection `x` already exists!"));
  e = ErrorOf([&] { client.CreateCollection("x", {{"vectors", {{"size", 4}, {"distance", "Dot"}}}}); });
  EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(e.what(), HasSubstr("already exists"));
  EXPECT_EQ(server.request_count(), 4u) << "4xx answers are not retried";
}

TEST(QdrantClientTest, MalformedResponsesAreCorruption) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  server.Script(Reply::Text(200, "<html>proxy</html>"));
  Error e = ErrorOf([&] { client.ListCollections(); });
  EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  EXPECT_THAT(e.what(), HasSubstr("GET /collections"));

  server.Script(Reply::Ok(json::array()));  // result of the wrong shape
  EXPECT_EQ(ErrorOf([&] { client.ListCollections(); }).code(), ErrorCode::kCorruption);

  Reply no_result;
  no_result.body = R"({"status":"ok","time":0})";
  server.Script(no_result);
  EXPECT_EQ(ErrorOf([&] { client.CollectionExists("c"); }).code(), ErrorCode::kCorruption);

  server.Script(Reply::Ok(json::array({{{"id", 1}, {"vector", {{"image", {1, 2}}}}}})));  // named vectors
  EXPECT_EQ(ErrorOf([&] { client.Retrieve("c", {"1"}, true, false); }).code(), ErrorCode::kCorruption);

  server.Script(Reply::Ok(json::array({{{"id", -4}}})));
  EXPECT_EQ(ErrorOf([&] { client.Retrieve("c", {"1"}, false, false); }).code(), ErrorCode::kCorruption);
}

// ---------------------------------------------------------------------------
// Retries

TEST(QdrantClientTest, RetriesUnavailableThenSucceeds) {
  FakeQdrant server;
  server.Script(Reply::Fail(503, "Service Unavailable: shard is not ready"));
  server.Script(Reply::Fail(503, "Service Unavailable: shard is not ready"));
  server.Script(Reply::Ok({{"count", 3}}));
  QdrantClient client(FastOptions(server.url()));
  EXPECT_EQ(client.Count("c"), 3u);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(QdrantClientTest, GivesUpAfterMaxRetries) {
  FakeQdrant server;
  server.SetDefault(Reply::Fail(503, "Service Unavailable: shard is not ready"));
  QdrantClientOptions options = FastOptions(server.url());
  options.max_retries = 3;
  options.api_key = kApiKey;
  QdrantClient client(options);
  const auto start = Clock::now();
  const Error e = ErrorOf([&] { client.QueryBatch("c", Matrix(1, 2), 3, nullptr); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("HTTP 503"));
  EXPECT_THAT(e.what(), HasSubstr("shard is not ready"));
  EXPECT_THAT(e.what(), HasSubstr("4 attempts"));
  EXPECT_THAT(e.what(), Not(HasSubstr(kApiKey)));
  EXPECT_EQ(server.request_count(), 4u);
  // Backoff 0.01 * (1 + 2 + 4) at most: well under a second.
  EXPECT_LT(SecondsSince(start), 1.0);
}

TEST(QdrantClientTest, BackoffGrowsAndStaysInBudget) {
  FakeQdrant server;
  server.SetDefault(Reply::Fail(502, "Bad Gateway"));
  QdrantClientOptions options = FastOptions(server.url());
  options.max_retries = 10;
  options.initial_backoff_s = 0.1;
  options.retry_budget_s = 0.5;
  QdrantClient client(options);
  const auto start = Clock::now();
  EXPECT_EQ(ErrorOf([&] { client.ListCollections(); }).code(), ErrorCode::kUnavailable);
  const double elapsed = SecondsSince(start);
  // Delays are in [0.5, 1) x 0.1, 0.2, 0.4, ...: at least 0.05 + 0.1 before
  // the budget stops a third retry (0.15 + 0.2 > 0.5 is possible, 0.35 + 0.4 is not).
  EXPECT_GE(server.request_count(), 3u);
  EXPECT_LE(server.request_count(), 4u);
  EXPECT_GE(elapsed, 0.15);
  EXPECT_LE(elapsed, 0.5 + 0.3);
}

TEST(QdrantClientTest, HonoursRetryAfter) {
  FakeQdrant server;
  Reply busy = Reply::Fail(429, "Too many requests");
  busy.headers.push_back("Retry-After: 1");
  server.Script(busy);
  server.Script(Reply::Ok({{"exists", true}}));
  QdrantClient client(FastOptions(server.url()));
  const auto start = Clock::now();
  EXPECT_TRUE(client.CollectionExists("c"));
  EXPECT_GE(SecondsSince(start), 0.95);
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(QdrantClientTest, InternalErrorIsNotRetried) {
  FakeQdrant server;
  server.SetDefault(Reply::Fail(500, "Service internal error: boom"));
  QdrantClient client(FastOptions(server.url()));
  const Error e = ErrorOf([&] { client.Count("c"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("HTTP 500"));
  EXPECT_THAT(e.what(), HasSubstr("boom"));
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(QdrantClientTest, RetriesDroppedConnection) {
  FakeQdrant server;
  server.Script(Reply::Drop());
  server.Script(Reply::Ok({{"count", 1}}));
  QdrantClient client(FastOptions(server.url()));
  EXPECT_EQ(client.Count("c"), 1u);
  EXPECT_EQ(server.request_count(), 2u);

  server.SetDefault(Reply::Drop());
  const Error e = ErrorOf([&] { client.Count("c"); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("Failed to connect to Qdrant at " + server.url()));
  // 4 attempts; libcurl itself may resend once on the kept-alive connection
  // it finds dead, so the server sees 4 or 5.
  EXPECT_GE(server.request_count(), 2u + 4u);
  EXPECT_LE(server.request_count(), 2u + 5u);
}

TEST(QdrantClientTest, StallPastTimeoutIsRetriedWithinBounds) {
  FakeQdrant server;
  server.SetDefault(Reply::Stall(3000, Reply::Ok({{"count", 1}})));
  QdrantClientOptions options = FastOptions(server.url());
  options.timeout_s = 0.2;
  options.max_retries = 2;
  QdrantClient client(options);
  const auto start = Clock::now();
  const Error e = ErrorOf([&] { client.Count("c"); });
  const double elapsed = SecondsSince(start);
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("Failed to connect to Qdrant at"));
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_GE(elapsed, 0.6);
  EXPECT_LT(elapsed, 1.5);

  // A stall shorter than the timeout is just a slow answer.
  server.SetDefault(Reply::Stall(50, Reply::Ok({{"count", 2}})));
  EXPECT_EQ(client.Count("c"), 2u);
}

TEST(QdrantClientTest, CreateCollectionIsNotResentAfterItWasSent) {
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  const json config = {{"vectors", {{"size", 4}, {"distance", "Cosine"}}}};

  server.Script(Reply::Fail(503, "Service Unavailable"));
  EXPECT_EQ(ErrorOf([&] { client.CreateCollection("c", config); }).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server.request_count(), 1u);

  // Sent on a fresh connection, so libcurl's own resend on a dead kept-alive
  // connection cannot apply either.
  server.Script(Reply::Drop());
  EXPECT_EQ(ErrorOf([&] { client.CreateCollection("c", config); }).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(server.request_count(), 2u);

  server.SetDefault(Reply::Fail(503, "Service Unavailable"));
  const size_t before = server.request_count();
  EXPECT_EQ(ErrorOf([&] { client.Request("POST", "/collections/c/points/other", "{}", false); }).code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(server.request_count(), before + 1);
}

TEST(QdrantClientTest, HttpsUrlIsSpokenWithTls) {
  // The fake speaks plain HTTP, so a TLS handshake must fail, as a
  // configuration error: not retried, and reported as a connection failure.
  FakeQdrant server;
  QdrantClientOptions options = FastOptions("https://127.0.0.1:" + std::to_string(server.port()));
  QdrantClient client(options);
  const Error e = ErrorOf([&] { client.ListCollections(); });
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  EXPECT_THAT(e.what(), HasSubstr("Failed to connect to Qdrant at https://127.0.0.1:"));
  EXPECT_THAT(e.what(), Not(HasSubstr("attempts")));
  EXPECT_EQ(server.request_count(), 0u);
}

// ---------------------------------------------------------------------------
// Point ids

TEST(QdrantIdsTest, ObjectIdToPointId) {
  EXPECT_EQ(ObjectIdToPointId("5f1e0b2c3d4e5f6a7b8c9d0e"), "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000");
  EXPECT_EQ(ObjectIdToPointId("5F1E0B2C3D4E5F6A7B8C9D0E"), "5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000");
  EXPECT_EQ(ErrorOf([] { ObjectIdToPointId("5f1e0b2c3d4e5f6a7b8c9d0"); }).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ErrorOf([] { ObjectIdToPointId("5f1e0b2c3d4e5f6a7b8c9d0g"); }).code(), ErrorCode::kInvalidArgument);
}

TEST(QdrantIdsTest, PointIdToObjectId) {
  EXPECT_EQ(PointIdToObjectId("5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000000"), "5f1e0b2c3d4e5f6a7b8c9d0e");
  EXPECT_EQ(PointIdToObjectId("5f1e0b2c3d4e5f6a7b8c9d0e00000000"), "5f1e0b2c3d4e5f6a7b8c9d0e");
  EXPECT_EQ(PointIdToObjectId("5F1E0B2C-3D4E-5F6A-7B8C-9D0E00000000"), "5f1e0b2c3d4e5f6a7b8c9d0e");
  for (const char* bad : {"5f1e0b2c-3d4e-5f6a-7b8c-9d0e00000001", "5f1e0b2c3d4e5f6a7b8c9d0e0000000",
                          "5f1e0b2c3d4e-5f6a-7b8c-9d0e-00000000", "5f1e0b2c-3d4e-5f6a-7b8c-9d0z00000000", "42",
                          ""}) {
    EXPECT_EQ(ErrorOf([&] { PointIdToObjectId(bad); }).code(), ErrorCode::kInvalidArgument) << bad;
  }
  const std::string oid = "65a1b2c3d4e5f60718293a4b";
  EXPECT_EQ(PointIdToObjectId(ObjectIdToPointId(oid)), oid);
}

// ---------------------------------------------------------------------------
// Against a Qdrant-compatible server: the project's qdrant-test-server when it
// has been built (<build>/tools/qdrant_test_server/qdrant-test-server), or
// the server named by FO_QDRANT_URL (a real Qdrant; FO_QDRANT_API_KEY for its
// key). Skipped when there is neither.

// The test server as a child process, stopped with SIGTERM.
class TestServerProcess {
 public:
  static std::string BinaryPath() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    const auto path = exe.parent_path().parent_path() / "tools" / "qdrant_test_server" / "qdrant-test-server";
    return std::filesystem::exists(path, ec) ? path.string() : "";
  }

  TestServerProcess(const std::string& binary, const std::string& api_key) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execl(binary.c_str(), binary.c_str(), "--port", "0", "--api-key", api_key.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    // The first stdout line is the url.
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && poll(&p, 1, 20000) > 0) {
      char buf[256];
      const ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    url_ = line.substr(0, line.find('\n'));
  }
  ~TestServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

class QdrantLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QdrantClientOptions options;
    if (const char* url = std::getenv("FO_QDRANT_URL")) {
      options.url = url;
      if (const char* key = std::getenv("FO_QDRANT_API_KEY")) options.api_key = key;
    } else if (const std::string binary = TestServerProcess::BinaryPath(); !binary.empty()) {
      server_ = std::make_unique<TestServerProcess>(binary, kApiKey);
      ASSERT_THAT(server_->url(), HasSubstr("http://")) << "qdrant-test-server printed no url";
      options.url = server_->url();
      options.api_key = kApiKey;
    } else {
      GTEST_SKIP() << "no qdrant-test-server built and FO_QDRANT_URL unset";
    }
    options.initial_backoff_s = 0.01;
    client_ = std::make_unique<QdrantClient>(options);
    name_ = "fo-client-test-" + std::to_string(std::random_device{}());
  }
  void TearDown() override {
    if (client_) {
      try {
        client_->DeleteCollection(name_);
      } catch (const Error&) {
      }
    }
  }

  std::unique_ptr<TestServerProcess> server_;
  std::unique_ptr<QdrantClient> client_;
  std::string name_;
};

TEST_F(QdrantLiveTest, RoundTrip) {
  QdrantClient& client = *client_;
  EXPECT_FALSE(client.CollectionExists(name_));
  EXPECT_EQ(ErrorOf([&] { client.Count(name_); }).code(), ErrorCode::kNotFound);

  client.CreateCollection(name_, {{"vectors", {{"size", 4}, {"distance", "Euclid"}}}});
  EXPECT_TRUE(client.CollectionExists(name_));
  EXPECT_THAT(client.ListCollections(), ::testing::Contains(name_));
  EXPECT_EQ(client.GetCollection(name_)["config"]["params"]["vectors"]["size"], 4);
  EXPECT_EQ(ErrorOf([&] { client.CreateCollection(name_, {{"vectors", {{"size", 4}, {"distance", "Euclid"}}}}); })
                .code(),
            ErrorCode::kAlreadyExists);

  const std::vector<std::string> oids = {"5f1e0b2c3d4e5f6a7b8c9d01", "5f1e0b2c3d4e5f6a7b8c9d02",
                                         "5f1e0b2c3d4e5f6a7b8c9d03"};
  std::vector<std::string> ids;
  std::vector<json> payloads;
  for (const auto& oid : oids) {
    ids.push_back(ObjectIdToPointId(oid));
    payloads.push_back({{"sample_id", oid}});
  }
  const Matrix vectors(3, 4, {0, 0, 0, 0, 1, 0, 0, 0, 0.1f, 0.2f, -0.3f, 1e-7f});
  client.Upsert(name_, vectors, ids, payloads);
  EXPECT_EQ(client.Count(name_), 3u);

  const auto points = client.Retrieve(name_, {ids[2], ids[0]}, true, true);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].id, ids[2]);
  EXPECT_EQ(PointIdToObjectId(points[0].id), oids[2]);
  EXPECT_EQ(points[0].vector, std::vector<float>(vectors.row(2).begin(), vectors.row(2).end()));
  EXPECT_EQ(points[0].payload, payloads[2]);

  QdrantScrollPage page = client.Scroll(name_, nullptr, 2, nullptr, false, true);
  ASSERT_EQ(page.points.size(), 2u);
  ASSERT_FALSE(page.next_page_offset.is_null());
  page = client.Scroll(name_, nullptr, 2, page.next_page_offset, false, true);
  EXPECT_EQ(page.points.size(), 1u);
  EXPECT_TRUE(page.next_page_offset.is_null());

  const json one = {{"must", {{{"has_id", {ids[1]}}}}}};
  EXPECT_EQ(client.Count(name_, one), 1u);
  const Matrix queries(2, 4, {0.9f, 0, 0, 0, 0, 0, 0, 0});
  const auto hits = client.QueryBatch(name_, queries, 2, nullptr);
  ASSERT_EQ(hits.size(), 2u);
  ASSERT_EQ(hits[0].size(), 2u);
  EXPECT_EQ(hits[0][0].id, ids[1]);
  EXPECT_NEAR(hits[0][0].score, 0.1, 1e-6);  // Euclid: the distance
  EXPECT_EQ(hits[0][0].payload, payloads[1]);
  EXPECT_EQ(hits[1][0].id, ids[0]);
  const auto filtered = client.QueryBatch(name_, queries, 3, one);
  ASSERT_EQ(filtered[1].size(), 1u);
  EXPECT_EQ(filtered[1][0].id, ids[1]);

  client.DeletePoints(name_, {ids[0]});
  EXPECT_EQ(client.Count(name_), 2u);
  EXPECT_TRUE(client.DeleteCollection(name_));
  EXPECT_FALSE(client.DeleteCollection(name_));
}

TEST_F(QdrantLiveTest, RetriesInjectedFaults) {
  if (!server_) GTEST_SKIP() << "fault injection needs qdrant-test-server";
  QdrantClient& client = *client_;
  client.CreateCollection(name_, {{"vectors", {{"size", 2}, {"distance", "Dot"}}}});
  const std::string count_path = "/collections/" + name_ + "/points/count";
  auto count_requests = [&] {
    const json stats = client.Request("GET", "/__test/stats");
    uint64_t n = 0;
    for (const auto& [path, c] : stats.at("paths").items()) {
      if (path.starts_with(count_path)) n += c.get<uint64_t>();
    }
    return n;
  };

  client.Request("POST", "/__test/faults",
                 json({{"mode", "status"}, {"status", 503}, {"count", 2}, {"path_prefix", count_path}}).dump());
  uint64_t before = count_requests();
  EXPECT_EQ(client.Count(name_), 0u);
  EXPECT_EQ(count_requests() - before, 3u);

  client.Request("POST", "/__test/faults",
                 json({{"mode", "drop"}, {"count", 1}, {"path_prefix", count_path}}).dump());
  EXPECT_EQ(client.Count(name_), 0u);

  client.Request("POST", "/__test/faults",
                 json({{"mode", "status"}, {"status", 503}, {"count", 100}, {"path_prefix", count_path}}).dump());
  before = count_requests();
  EXPECT_EQ(ErrorOf([&] { client.Count(name_); }).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(count_requests() - before, 4u);  // max_retries 3
  client.Request("DELETE", "/__test/faults");

  QdrantClientOptions wrong_key;
  wrong_key.url = client.url();
  wrong_key.api_key = "not-the-key";
  const Error e = ErrorOf([&] { QdrantClient(wrong_key).ListCollections(); });
  EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(e.what(), Not(HasSubstr("not-the-key")));
}


// ---------------------------------------------------------------------------
// Serialisation cost (logged, not asserted: timing depends on the machine)

TEST(QdrantClientTest, SerialisationTimeOf1000x512) {
  const size_t rows = 1000, cols = 512;
  const Matrix vectors = fo::testing::RandomMatrix(rows, cols, 3, 0.05f);
  std::vector<std::string> ids;
  std::vector<json> payloads;
  for (size_t i = 0; i < rows; ++i) {
    std::string oid = "5f1e0b2c3d4e5f6a7b8c" + std::string(4 - std::to_string(i).size(), '0') + std::to_string(i);
    ids.push_back(ObjectIdToPointId(oid));
    payloads.push_back({{"sample_id", oid}});
  }
  std::string body;
  double best_write = 1e9, best_size = 1e9;
  size_t size = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = Clock::now();
    body = internal::UpsertBatchBody(vectors, 0, rows, ids, payloads);
    best_write = std::min(best_write, SecondsSince(t0));
    t0 = Clock::now();
    size = QdrantClient::UpsertBodySize(vectors, 0, rows, ids, payloads);
    best_size = std::min(best_size, SecondsSince(t0));
  }
  EXPECT_EQ(size, body.size());

  // A round trip with the same body through the loopback fake (which only
  // reads the bytes): the floor of what a real server would take.
  FakeQdrant server;
  QdrantClient client(FastOptions(server.url()));
  double best_upsert = 1e9;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = Clock::now();
    client.Upsert("c", vectors, ids, payloads);
    best_upsert = std::min(best_upsert, SecondsSince(t0));
  }
  EXPECT_EQ(server.last().body, body);

  // Reading the same floats back (Retrieve with vectors).
  json records = json::array();
  const json batch = json::parse(body)["batch"];
  for (size_t i = 0; i < rows; ++i) {
    records.push_back({{"id", batch["ids"][i]}, {"vector", batch["vectors"][i]}, {"payload", payloads[i]}});
  }
  server.SetDefault(Reply::Ok(records));
  const auto t0 = Clock::now();
  const auto points = client.Retrieve("c", ids, true, true);
  const double retrieve = SecondsSince(t0);
  ASSERT_EQ(points.size(), rows);
  EXPECT_EQ(points[999].vector, std::vector<float>(vectors.row(999).begin(), vectors.row(999).end()));

  // And a round trip to a server that parses and stores the batch.
  std::string test_server = "not built";
  if (const std::string binary = TestServerProcess::BinaryPath(); !binary.empty()) {
    TestServerProcess process(binary, kApiKey);
    QdrantClientOptions options = FastOptions(process.url());
    options.api_key = kApiKey;
    options.timeout_s = 60;
    QdrantClient live(options);
    live.CreateCollection("bench", {{"vectors", {{"size", cols}, {"distance", "Cosine"}}}});
    double best = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = Clock::now();
      live.Upsert("bench", vectors, ids, payloads);
      best = std::min(best, SecondsSince(t0));
    }
    test_server = std::to_string(static_cast<int>(best * 1e3)) + " ms";
  }

  std::printf("[qdrant serialise] 1000x512 upsert body %.2f MB: write %.1f ms, UpsertBodySize %.1f ms; "
              "Upsert round trip to loopback fake %.1f ms, to qdrant-test-server %s; "
              "Retrieve 1000x512 with vectors (parse) %.1f ms\n",
              body.size() / 1e6, best_write * 1e3, best_size * 1e3, best_upsert * 1e3, test_server.c_str(),
              retrieve * 1e3);
}

}  // namespace
}  // namespace fo
