#include "server.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "api_error.h"
#include "connection.h"
#include "json_io.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// cpp-httplib's default pool has max(8, cores - 1) threads; stalled requests
// hold one each, so leave room for a client's retries next to them.
constexpr size_t kThreads = 32;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Dump(const json& value) {
  // A collection name from the URL may hold any bytes; never fail on them.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void WriteResult(httplib::Response& res, const json& result, double seconds) {
  res.status = 200;
  res.set_content(Dump({{"result", result}, {"status", "ok"}, {"time", seconds}}), "application/json");
}

// Qdrant's ErrorResponse: the result key is left out.
void WriteError(httplib::Response& res, int status, const std::string& message, double seconds) {
  res.status = status;
  res.set_content(Dump({{"status", {{"error", message}}}, {"time", seconds}}), "application/json");
}

// actix's JSON extractor accepts application/json and any type with a +json
// suffix; a missing Content-Type is refused too.
bool IsJsonContentType(const std::string& value) {
  std::string mime = value.substr(0, value.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.pop_back();
  for (char& c : mime) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return mime == "application/json" || (mime.size() > 5 && mime.compare(mime.size() - 5, 5, "+json") == 0);
}

bool IsAdminPath(const std::string& path) { return path.rfind("/__test/", 0) == 0; }

// Qdrant answers these without an API key.
bool NeedsNoKey(const std::string& path) {
  return path == "/" || path == "/healthz" || path == "/livez" || path == "/readyz" || IsAdminPath(path);
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

[[noreturn]] void QueryDeserializeError(const std::string& detail) {
  throw ApiError(400, "Deserialize error in query parameters: Query deserialize error: " + detail);
}

void ReadTimeout(const httplib::Request& req, Validation& validation) {
  auto timeout = Param(req, "timeout");
  if (!timeout) return;
  char* end = nullptr;
  unsigned long long value = std::strtoull(timeout->c_str(), &end, 10);
  if (timeout->empty() || *end != '\0' || (*timeout)[0] == '-') {
    QueryDeserializeError("invalid digit found in string");
  }
  validation.Min("timeout", static_cast<double>(value), 1);
}

}  // namespace

bool ReadWriteParams(const httplib::Request& req) {
  bool wait = false;
  if (auto value = Param(req, "wait")) {
    if (*value == "true") {
      wait = true;
    } else if (*value != "false") {
      QueryDeserializeError("provided string was not `true` or `false`");
    }
  }
  if (auto ordering = Param(req, "ordering")) {
    if (*ordering != "weak" && *ordering != "medium" && *ordering != "strong") {
      QueryDeserializeError("unknown variant `" + *ordering +
                            "`, expected one of `weak`, `medium`, `strong`");
    }
  }
  Validation validation;
  ReadTimeout(req, validation);
  validation.ThrowIfFailed("query parameters");
  return wait;
}

void ReadReadParams(const httplib::Request& req) {
  Validation validation;
  if (auto consistency = Param(req, "consistency")) {
    if (*consistency != "majority" && *consistency != "quorum" && *consistency != "all") {
      char* end = nullptr;
      unsigned long long factor = std::strtoull(consistency->c_str(), &end, 10);
      if (consistency->empty() || *end != '\0' || (*consistency)[0] == '-') {
        QueryDeserializeError("data did not match any variant of untagged enum ReadConsistency");
      }
      validation.Min("consistency", static_cast<double>(factor), 1);
    }
  }
  ReadTimeout(req, validation);
  validation.ThrowIfFailed("query parameters");
}

void ReadTimeoutParam(const httplib::Request& req) {
  Validation validation;
  ReadTimeout(req, validation);
  validation.ThrowIfFailed("query parameters");
}

QdrantTestServer::QdrantTestServer(ServerOptions options)
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http_->set_payload_max_length(kMaxRequestBytes);
  // Headers and body go out in two writes: without TCP_NODELAY the body
  // waits ~40 ms for the client's delayed ACK on a kept-alive connection.
  http_->set_tcp_nodelay(true);
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    // Counted before the body is read, so a request that fails later (a
    // fault, a body over the limit) still shows in the stats.
    if (!IsAdminPath(req.path)) stats_.Count(req.method, req.path);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
    // cpp-httplib answers a body over the limit with an empty 413; Qdrant's
    // JSON extractor error handler answers 400 with actix's message.
    if (res.status != 413 || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    WriteError(res, 400,
               "JSON payload (" + req.get_header_value("Content-Length") +
                   " bytes) is larger than allowed (limit: " + std::to_string(kMaxRequestBytes) + " bytes).",
               0.0);
    return httplib::Server::HandlerResponse::Handled;
  }));
  if (options_.verbose) {
    http_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }
  RegisterServiceRoutes();
  RegisterCollectionRoutes();
  RegisterPointRoutes();
  RegisterQueryRoutes();
  RegisterTestRoutes();
  // Anything else is actix's default: 404 with an empty body.
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    Raw(method, ".*", false, [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  }
}

QdrantTestServer::~QdrantTestServer() { Stop(); }

int QdrantTestServer::Bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
  } else {
    port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  return port_;
}

bool QdrantTestServer::Serve() { return http_->listen_after_bind(); }

void QdrantTestServer::Stop() {
  stopping_ = true;
  http_->stop();
  if (port_ > 0) ShutdownAllConnections(port_);
}

void QdrantTestServer::Register(const std::string& method, const std::string& pattern,
                                httplib::Server::Handler handler) {
  if (method == "GET") http_->Get(pattern, std::move(handler));
  if (method == "POST") http_->Post(pattern, std::move(handler));
  if (method == "PUT") http_->Put(pattern, std::move(handler));
  if (method == "PATCH") http_->Patch(pattern, std::move(handler));
  if (method == "DELETE") http_->Delete(pattern, std::move(handler));
}

void QdrantTestServer::Api(const std::string& method, const std::string& pattern, Body body,
                           ApiHandler handler) {
  Register(method, pattern, [this, body, handler](const httplib::Request& req, httplib::Response& res) {
    if (ApplyFault(req, res) || !Authorize(req, res)) return;
    Clock::time_point start = Clock::now();
    try {
      json parsed;
      if (body == Body::kJson) {
        if (!IsJsonContentType(req.get_header_value("Content-Type")))
          throw ApiError(400, "Content type error");
        // A chunked body escapes cpp-httplib's Content-Length check.
        if (req.body.size() > kMaxRequestBytes) {
          throw ApiError(400,
                         "JSON payload has exceeded limit (" + std::to_string(kMaxRequestBytes) + " bytes).");
        }
        parsed = ParseJsonBody(req.body);
      }
      WriteResult(res, handler(req, parsed), SecondsSince(start));
    } catch (const ApiError& e) {
      WriteError(res, e.http_status(), e.what(), SecondsSince(start));
    } catch (const std::exception& e) {
      WriteError(res, 500, std::string("Service internal error: ") + e.what(), SecondsSince(start));
    }
  });
}

void QdrantTestServer::Raw(const std::string& method, const std::string& pattern, bool admin,
                           RawHandler handler) {
  Register(method, pattern, [this, admin, handler](const httplib::Request& req, httplib::Response& res) {
    if (!admin && (ApplyFault(req, res) || !Authorize(req, res))) return;
    try {
      handler(req, res);
    } catch (const ApiError& e) {
      WriteError(res, e.http_status(), e.what(), 0.0);
    } catch (const std::exception& e) {
      WriteError(res, 400, e.what(), 0.0);  // a malformed test-control request
    }
  });
}

bool QdrantTestServer::ApplyFault(const httplib::Request& req, httplib::Response& res) {
  std::optional<FaultRule> fault = faults_.Take(req.method, req.path);
  if (!fault) return false;
  switch (fault->mode) {
    case FaultRule::Mode::kDrop:
      ShutdownConnection(req.local_port, req.remote_addr, req.remote_port);
      res.status = 500;  // written to a closed socket: the client sees no response
      return true;
    case FaultRule::Mode::kStatus:
      if (fault->retry_after_s >= 0) res.set_header("Retry-After", std::to_string(fault->retry_after_s));
      WriteError(res, fault->status,
                 "Service unavailable: fault injected by qdrant-test-server (HTTP " +
                     std::to_string(fault->status) + ")",
                 0.0);
      return true;
    case FaultRule::Mode::kStall: {
      Clock::time_point until = Clock::now() + std::chrono::milliseconds(fault->stall_ms);
      while (!stopping_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return false;
    }
  }
  return false;
}

bool QdrantTestServer::Authorize(const httplib::Request& req, httplib::Response& res) const {
  if (options_.api_key.empty() || NeedsNoKey(req.path)) return true;
  std::string key;
  if (req.has_header("api-key")) {
    key = req.get_header_value("api-key");
  } else if (std::string auth = req.get_header_value("Authorization"); auth.rfind("Bearer ", 0) == 0) {
    key = auth.substr(7);
  } else {
    // Qdrant's auth middleware answers 401 in plain text, not in the envelope.
    res.status = 401;
    res.set_content("Must provide an API key or an Authorization bearer token", "text/plain; charset=utf-8");
    return false;
  }
  if (key == options_.api_key) return true;
  res.status = 401;
  res.set_content("Invalid API key or JWT", "text/plain; charset=utf-8");
  return false;
}

void QdrantTestServer::RegisterServiceRoutes() {
  Raw("GET", "/", false, [](const httplib::Request&, httplib::Response& res) {
    // No "commit": this is not a build of Qdrant.
    res.set_content(Dump({{"title", "qdrant - vector search engine"}, {"version", "1.19.0"}}),
                    "application/json");
  });
  Raw("GET", "/healthz", false, [](const httplib::Request&, httplib::Response& res) {
    res.set_content("healthz check passed", "text/plain; charset=utf-8");
  });
  Raw("GET", "/livez", false, [](const httplib::Request&, httplib::Response& res) {
    res.set_content("healthz check passed", "text/plain; charset=utf-8");
  });
  Raw("GET", "/readyz", false, [](const httplib::Request&, httplib::Response& res) {
    res.set_content("all shards are ready", "text/plain; charset=utf-8");
  });
}

void QdrantTestServer::RegisterTestRoutes() {
  auto reply = [](httplib::Response& res, const json& result) { WriteResult(res, result, 0.0); };
  Raw("GET", "/__test/faults", true,
      [this, reply](const httplib::Request&, httplib::Response& res) { reply(res, faults_.Describe()); });
  Raw("POST", "/__test/faults", true, [this, reply](const httplib::Request& req, httplib::Response& res) {
    json body = ParseJsonBody(req.body);
    std::vector<FaultRule> rules;
    for (const json& item : body.is_array() ? body : json::array({body})) {
      if (item.is_object() && item.value("mode", "") == "none") continue;
      rules.push_back(ParseFaultRule(item));
    }
    faults_.Set(std::move(rules));
    reply(res, faults_.Describe());
  });
  Raw("DELETE", "/__test/faults", true, [this, reply](const httplib::Request&, httplib::Response& res) {
    faults_.Set({});
    reply(res, faults_.Describe());
  });
  Raw("GET", "/__test/stats", true,
      [this, reply](const httplib::Request&, httplib::Response& res) { reply(res, stats_.Snapshot()); });
  Raw("DELETE", "/__test/stats", true, [this, reply](const httplib::Request&, httplib::Response& res) {
    stats_.Reset();
    reply(res, stats_.Snapshot());
  });
}

Collection& QdrantTestServer::Find(const std::string& name) {
  auto it = collections_.find(name);
  if (it == collections_.end()) throw CollectionNotFound(name);
  return it->second;
}

uint64_t QdrantTestServer::NextOperation(Collection& c) { return c.next_operation_id++; }

nlohmann::json QdrantTestServer::UpdateResult(const httplib::Request& req, uint64_t operation_id) {
  // Storage is synchronous here, so a waiting client always sees "completed";
  // without wait Qdrant only acknowledges.
  bool wait = req.has_param("wait") && req.get_param_value("wait") == "true";
  return {{"operation_id", operation_id}, {"status", wait ? "completed" : "acknowledged"}};
}

}  // namespace qdrant_test_server
