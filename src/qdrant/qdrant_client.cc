#include "fo/qdrant_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include "fo/error.h"
#include "fo/object_id.h"
#include "qdrant/http_transport.h"
#include "qdrant/json_writer.h"
#include "qdrant/request_bodies.h"
#include "qdrant/response_parser.h"

namespace fo {
namespace {

using nlohmann::json;
using internal::HttpResult;
using internal::JsonWriter;
using internal::TransportFailure;
using Clock = std::chrono::steady_clock;

// Which failed attempts may be repeated.
enum class RetryPolicy {
  // Repeating the request cannot change the outcome: retried on transient
  // connection failures (refused, reset, dropped, or timed out: a timeout is
  // retried too, since the budget bounds the total) and on 429/502/503/504.
  // 500 is not retried: Qdrant uses it for bugs, which a repeat will hit again.
  kIdempotent,
  // Retried only when the request never left the client (connection
  // refused or not established in time), because the server cannot have
  // acted on it. Used for collection creation: after a lost response a
  // repeat would get 409 even though it was our own request that succeeded,
  // and telling that apart from someone else's collection is not possible.
  kIfUnsent,
};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// "localhost:6333" -> "http://localhost:6333"; "https://h/" -> "https://h".
std::string NormaliseUrl(std::string_view url) {
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.front()))) url.remove_prefix(1);
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.remove_suffix(1);
  if (url.empty()) throw InvalidArgument("The Qdrant url is empty");
  std::string scheme = "http";
  const size_t sep = url.find("://");
  if (sep != std::string_view::npos) {
    scheme = ToLower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
      throw InvalidArgument("The Qdrant url must use http or https, not '" + scheme + "'");
    }
    url.remove_prefix(sep + 3);
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty()) throw InvalidArgument("The Qdrant url has no host");
  return scheme + "://" + std::string(url);
}

// The url as shown in messages: any "user:password@" left out.
std::string DisplayUrl(const std::string& url) {
  const size_t start = url.find("://") + 3;
  const size_t end = url.find_first_of("/?#", start);
  const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

// Percent-encodes everything but RFC 3986's unreserved characters, so any
// collection name (spaces, '/', '?', non-ASCII) stays one path segment.
std::string EncodePathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string CollectionPath(const std::string& name) {
  if (name.empty()) throw InvalidArgument("The Qdrant collection name is empty");
  return "/collections/" + EncodePathSegment(name);
}

const char* WaitParam(bool wait) { return wait ? "?wait=true" : "?wait=false"; }

std::string DumpForRequest(const json& value, const char* what) {
  try {
    return value.dump();
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("Qdrant: cannot encode the ") + what + " as JSON: " + e.what());
  }
}

// [id,...], as retrieve and delete bodies list points.
void WriteIdList(JsonWriter& w, const std::vector<std::string>& ids) {
  w.Char('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) w.Char(',');
    w.PointId(ids[i]);
  }
  w.Char(']');
}

// A response that parsed as JSON but not into the shape the call expects
// (besides nlohmann's own out_of_range/type_error from at() and get()).
class BadShape : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Point ids come back as JSON numbers (integer ids) or lowercase hyphenated
// UUID strings; both are handed on as strings.
std::string ReadPointId(const json& id) {
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_unsigned()) return std::to_string(id.get<uint64_t>());
  throw BadShape("a point id must be an unsigned integer or a string, not " + id.dump());
}

// Unnamed vectors come back as a plain array (already read into `vectors`
// by the response parser); named ones (an object) would need a vector name
// this client has no way to be given.
void ReadVector(const json& record, std::vector<std::vector<float>>& vectors, std::vector<float>& out) {
  auto it = record.find("vector");
  if (it == record.end() || it->is_null()) return;
  if (auto ref = internal::ParsedResponse::VectorRef(*it)) {
    if (*ref >= vectors.size()) throw BadShape("internal: bad vector reference");
    out = std::move(vectors[*ref]);
    return;
  }
  if (!it->is_array()) {
    throw BadShape("expected an unnamed dense vector (an array of numbers)");
  }
  out.reserve(it->size());
  for (const json& x : *it) {
    if (!x.is_number()) throw BadShape("a vector value is not a number: " + x.dump());
    out.push_back(static_cast<float>(x.get<double>()));
  }
}

json TakePayload(json& record) {
  auto it = record.find("payload");
  if (it == record.end()) return nullptr;
  return std::move(*it);
}

QdrantPoint ReadRecord(json& record, std::vector<std::vector<float>>& vectors) {
  QdrantPoint point;
  point.id = ReadPointId(record.at("id"));
  ReadVector(record, vectors, point.vector);
  point.payload = TakePayload(record);
  return point;
}

// An error body's message: Qdrant's {"status":{"error":...}} envelope, or
// the body itself (a 401 is plain text), shortened.
std::string ServerMessage(const std::string& body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    auto status = doc.find("status");
    if (status != doc.end() && status->is_object()) {
      auto error = status->find("error");
      if (error != status->end() && error->is_string()) return error->get<std::string>();
    }
  }
  std::string_view text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return "(empty response body)";
  constexpr size_t kMaxChars = 500;
  if (text.size() > kMaxChars) return std::string(text.substr(0, kMaxChars)) + "...";
  return std::string(text);
}

}  // namespace

class QdrantClient::Impl {
 public:
  explicit Impl(QdrantClientOptions options)
      : options_(std::move(options)),
        url_(NormaliseUrl(options_.url)),
        display_url_(DisplayUrl(url_)),
        transport_(TransportOptions(options_)),
        rng_(std::random_device{}()) {}

  const std::string& url() const { return url_; }

  // Sends the request, retrying as `policy` allows, and returns the parsed
  // response of a 2xx answer. With `vectors`, records' vectors are read by
  // the fast parser into it (see response_parser.h). Every failure leaves
  // here as an fo::Error.
  json Call(std::string_view method, const std::string& path, std::string_view body, RetryPolicy policy,
            std::vector<std::vector<float>>* vectors = nullptr) {
    const Clock::time_point start = Clock::now();
    const int max_retries = std::max(0, options_.max_retries);
    HttpResult result;
    int attempts = 0;
    for (;;) {
      // A fresh connection for requests that must not be repeated: on a
      // kept-alive connection that turns out dead, libcurl resends the
      // request by itself, and the server may have acted on the first copy.
      result = transport_.Perform(method, url_ + path, body, policy == RetryPolicy::kIfUnsent);
      ++attempts;
      if (result.failure == TransportFailure::kNone && result.status >= 200 && result.status < 300) {
        return ParseResponse(result, method, path, vectors);
      }
      if (attempts > max_retries || !ShouldRetry(result, policy)) break;
      const double delay_s = BackoffSeconds(attempts - 1, result.retry_after_s);
      const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
      if (elapsed_s + delay_s > options_.retry_budget_s) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(delay_s));
    }
    throw ErrorFor(result, method, path, attempts);
  }

  // The envelope's `result`, which every typed call expects.
  json CallResult(std::string_view method, const std::string& path, std::string_view body, RetryPolicy policy,
                  std::vector<std::vector<float>>* vectors = nullptr) {
    json doc = Call(method, path, body, policy, vectors);
    if (!doc.is_object() || !doc.contains("result")) {
      throw Unexpected(method, path, "no `result` in the response");
    }
    return std::move(doc["result"]);
  }

  // Runs `read` over a response, turning a missing key or a wrong type into
  // kCorruption that names the request.
  template <typename Fn>
  auto Read(std::string_view method, const std::string& path, Fn&& read) {
    try {
      return read();
    } catch (const json::exception& e) {
      throw Unexpected(method, path, e.what());
    } catch (const BadShape& e) {
      throw Unexpected(method, path, e.what());
    }
  }

 private:
  static internal::HttpTransportOptions TransportOptions(const QdrantClientOptions& options) {
    internal::HttpTransportOptions t;
    t.headers = {"Content-Type: application/json", "Accept: application/json",
                 // Without this libcurl waits for "100 Continue" before large
                 // bodies: a wasted round trip (or a 1 s stall) per upsert.
                 "Expect:"};
    if (!options.api_key.empty()) {
      if (options.api_key.find_first_of("\r\n") != std::string::npos) {
        throw InvalidArgument("The Qdrant api_key contains a line break");
      }
      t.headers.push_back("api-key: " + options.api_key);
    }
    auto to_ms = [](double s) { return s > 0 ? std::max(1L, std::lround(s * 1000)) : 0L; };
    t.timeout_ms = to_ms(options.timeout_s);
    t.connect_timeout_ms = to_ms(options.connect_timeout_s);
    return t;
  }

  static bool ShouldRetry(const HttpResult& r, RetryPolicy policy) {
    if (r.failure == TransportFailure::kTransient) {
      return policy == RetryPolicy::kIdempotent || !r.request_sent;
    }
    if (r.failure != TransportFailure::kNone || policy != RetryPolicy::kIdempotent) return false;
    return r.status == 429 || r.status == 502 || r.status == 503 || r.status == 504;
  }

  // initial * 2^retry, scaled by a random factor in [0.5, 1) so clients that
  // failed together do not retry in lockstep; never shorter than the
  // server's Retry-After.
  double BackoffSeconds(int retry, std::optional<double> retry_after_s) {
    const double base = std::max(0.0, options_.initial_backoff_s) * std::ldexp(1.0, std::min(retry, 30));
    double delay = base * std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
    if (retry_after_s) delay = std::max(delay, *retry_after_s);
    return delay;
  }

  json ParseResponse(const HttpResult& r, std::string_view method, const std::string& path,
                     std::vector<std::vector<float>>* vectors) {
    std::string error;
    try {
      if (vectors == nullptr) return json::parse(r.body);
      internal::ParsedResponse parsed = internal::ParseResponseWithVectors(r.body);
      *vectors = std::move(parsed.vectors);
      return std::move(parsed.doc);
    } catch (const json::parse_error& e) {
      error = e.what();
    } catch (const internal::JsonParseError& e) {
      error = e.what();
    }
    throw Error(ErrorCode::kCorruption, Redact("Qdrant at " + display_url_ + " sent a response to " +
                                               std::string(method) + " " + path + " that is not valid JSON: " +
                                               error));
  }

  Error Unexpected(std::string_view method, const std::string& path, const std::string& what) const {
    return Error(ErrorCode::kCorruption, Redact("Qdrant at " + display_url_ + " sent an unexpected response to " +
                                                std::string(method) + " " + path + ": " + what));
  }

  // The one place where transport failures and HTTP statuses become codes.
  Error ErrorFor(const HttpResult& r, std::string_view method, const std::string& path, int attempts) const {
    const std::string tries = attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
    if (r.failure != TransportFailure::kNone) {
      return Error(ErrorCode::kUnavailable,
                   Redact("Failed to connect to Qdrant at " + display_url_ + ": " + r.error + tries));
    }
    const std::string status = "HTTP " + std::to_string(r.status);
    const std::string message = ServerMessage(r.body);
    if (r.status == 401 || r.status == 403) {
      std::string text = "Qdrant at " + display_url_ + " refused the request (" + status + "): check the api_key";
      if (r.status == 403) text += " (Qdrant: " + message + ")";
      return Error(ErrorCode::kUnauthenticated, Redact(text));
    }
    if (r.status == 404) return Error(ErrorCode::kNotFound, Redact("Qdrant: " + message));
    if (r.status == 409) return Error(ErrorCode::kAlreadyExists, Redact("Qdrant: " + message));
    const std::string request = std::string(method) + " " + path;
    if (r.status >= 500 || r.status == 408 || r.status == 429) {
      return Error(ErrorCode::kUnavailable, Redact("Qdrant at " + display_url_ + " failed with " + status + " on " +
                                                   request + tries + ": " + message));
    }
    if (r.status >= 400) return Error(ErrorCode::kInvalidArgument, Redact("Qdrant: " + message));
    // 1xx/3xx: redirects are not followed (they could carry the api-key
    // elsewhere), and a redirect usually means http:// where https:// is due.
    return Error(ErrorCode::kInvalidArgument,
                 Redact("Qdrant at " + display_url_ + " answered " + status + " to " + request +
                        " (redirects are not followed: check the url)"));
  }

  // Messages may quote server text, which could echo a header back.
  std::string Redact(std::string text) const {
    const std::string& key = options_.api_key;
    if (key.empty()) return text;
    for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 3)) {
      text.replace(pos, key.size(), "***");
    }
    return text;
  }

  QdrantClientOptions options_;
  std::string url_;
  std::string display_url_;
  internal::HttpTransport transport_;
  std::minstd_rand rng_;
};

QdrantClient::QdrantClient(QdrantClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

QdrantClient::~QdrantClient() = default;

const std::string& QdrantClient::url() const { return impl_->url(); }

std::vector<std::string> QdrantClient::ListCollections() {
  const std::string path = "/collections";
  const json result = impl_->CallResult("GET", path, "", RetryPolicy::kIdempotent);
  return impl_->Read("GET", path, [&] {
    std::vector<std::string> names;
    for (const json& c : result.at("collections")) names.push_back(c.at("name").get<std::string>());
    return names;
  });
}

bool QdrantClient::CollectionExists(const std::string& name) {
  const std::string path = CollectionPath(name) + "/exists";
  const json result = impl_->CallResult("GET", path, "", RetryPolicy::kIdempotent);
  return impl_->Read("GET", path, [&] { return result.at("exists").get<bool>(); });
}

json QdrantClient::GetCollection(const std::string& name) {
  const std::string path = CollectionPath(name);
  json result = impl_->CallResult("GET", path, "", RetryPolicy::kIdempotent);
  impl_->Read("GET", path, [&] {
    if (!result.is_object()) throw BadShape("the collection info is not an object");
  });
  return result;
}

void QdrantClient::CreateCollection(const std::string& name, const json& body) {
  const std::string path = CollectionPath(name);
  impl_->CallResult("PUT", path, DumpForRequest(body, "collection config"), RetryPolicy::kIfUnsent);
}

bool QdrantClient::DeleteCollection(const std::string& name) {
  const std::string path = CollectionPath(name);
  const json result = impl_->CallResult("DELETE", path, "", RetryPolicy::kIdempotent);
  return impl_->Read("DELETE", path, [&] { return result.get<bool>(); });
}

void QdrantClient::Upsert(const std::string& name, const Matrix& vectors, const std::vector<std::string>& ids,
                          const std::vector<json>& payloads, bool wait) {
  if (ids.size() != vectors.rows()) {
    throw InvalidArgument("Qdrant upsert: " + std::to_string(ids.size()) + " ids for " +
                          std::to_string(vectors.rows()) + " vectors");
  }
  if (!payloads.empty() && payloads.size() != vectors.rows()) {
    throw InvalidArgument("Qdrant upsert: " + std::to_string(payloads.size()) + " payloads for " +
                          std::to_string(vectors.rows()) + " vectors");
  }
  const std::string path = CollectionPath(name) + "/points" + WaitParam(wait);
  if (vectors.rows() == 0) return;  // nothing to send
  impl_->CallResult("PUT", path, internal::UpsertBatchBody(vectors, 0, vectors.rows(), ids, payloads),
                    RetryPolicy::kIdempotent);
}

size_t QdrantClient::UpsertBodySize(const Matrix& vectors, size_t first_row, size_t rows,
                                    const std::vector<std::string>& ids, const std::vector<json>& payloads) {
  return internal::UpsertBatchBodySize(vectors, first_row, rows, ids, payloads);
}

std::vector<QdrantPoint> QdrantClient::Retrieve(const std::string& name, const std::vector<std::string>& ids,
                                                bool with_vector, bool with_payload) {
  const std::string path = CollectionPath(name) + "/points";
  if (ids.empty()) return {};
  JsonWriter w(ids.size() * 40 + 64);
  w.Raw(R"({"ids":)");
  WriteIdList(w, ids);
  w.Raw(R"(,"with_payload":)");
  w.Bool(with_payload);
  w.Raw(R"(,"with_vector":)");
  w.Bool(with_vector);
  w.Char('}');
  std::vector<std::vector<float>> vectors;
  json result = impl_->CallResult("POST", path, w.Take(), RetryPolicy::kIdempotent, &vectors);
  return impl_->Read("POST", path, [&] {
    std::vector<QdrantPoint> points;
    points.reserve(result.size());
    for (json& record : result.get_ref<json::array_t&>()) points.push_back(ReadRecord(record, vectors));
    return points;
  });
}

QdrantScrollPage QdrantClient::Scroll(const std::string& name, const json& filter, size_t limit, const json& offset,
                                      bool with_vector, bool with_payload) {
  const std::string path = CollectionPath(name) + "/points/scroll";
  if (limit == 0) throw InvalidArgument("Qdrant scroll: limit must be at least 1");
  json body = {{"limit", limit}, {"with_payload", with_payload}, {"with_vector", with_vector}};
  if (!filter.is_null()) body["filter"] = filter;
  if (!offset.is_null()) {
    // Integer ids are handed out as decimal strings (QdrantPoint::id), but
    // Qdrant only accepts them as numbers.
    if (offset.is_string() && internal::IsCanonicalUnsigned(offset.get_ref<const std::string&>())) {
      body["offset"] = std::stoull(offset.get<std::string>());
    } else {
      body["offset"] = offset;
    }
  }
  std::vector<std::vector<float>> vectors;
  json result =
      impl_->CallResult("POST", path, DumpForRequest(body, "scroll request"), RetryPolicy::kIdempotent, &vectors);
  return impl_->Read("POST", path, [&] {
    QdrantScrollPage page;
    json& points = result.at("points");
    page.points.reserve(points.size());
    for (json& record : points.get_ref<json::array_t&>()) page.points.push_back(ReadRecord(record, vectors));
    auto next = result.find("next_page_offset");
    if (next != result.end()) page.next_page_offset = std::move(*next);
    return page;
  });
}

size_t QdrantClient::Count(const std::string& name, const json& filter) {
  const std::string path = CollectionPath(name) + "/points/count";
  json body = {{"exact", true}};
  if (!filter.is_null()) body["filter"] = filter;
  const json result =
      impl_->CallResult("POST", path, DumpForRequest(body, "count request"), RetryPolicy::kIdempotent);
  return impl_->Read("POST", path, [&] {
    const json& count = result.at("count");
    if (!count.is_number_unsigned()) throw BadShape("count is not an unsigned integer: " + count.dump());
    return count.get<size_t>();
  });
}

std::vector<std::vector<QdrantScoredPoint>> QdrantClient::QueryBatch(const std::string& name, const Matrix& queries,
                                                                     size_t limit, const json& filter,
                                                                     bool with_payload) {
  const std::string path = CollectionPath(name) + "/points/query/batch";
  if (limit == 0) throw InvalidArgument("Qdrant query: limit must be at least 1");
  if (queries.rows() == 0) return {};
  // Everything after the vector is the same for every search.
  JsonWriter tail_writer;
  tail_writer.Raw(R"(,"limit":)");
  tail_writer.Unsigned(limit);
  if (!filter.is_null()) {
    tail_writer.Raw(R"(,"filter":)");
    tail_writer.Raw(DumpForRequest(filter, "filter"));
  }
  tail_writer.Raw(R"(,"with_payload":)");
  tail_writer.Bool(with_payload);
  tail_writer.Char('}');
  const std::string tail = tail_writer.Take();

  JsonWriter w(queries.rows() * (queries.cols() * 12 + tail.size() + 16) + 32);
  w.Raw(R"({"searches":[)");
  for (size_t i = 0; i < queries.rows(); ++i) {
    if (i > 0) w.Char(',');
    w.Raw(R"({"query":)");
    if (!w.FloatArray(queries.row(i))) {
      throw InvalidArgument("Qdrant query: row " + std::to_string(i) + " of the queries has a NaN or infinite value");
    }
    w.Raw(tail);
  }
  w.Raw("]}");
  json result = impl_->CallResult("POST", path, w.Take(), RetryPolicy::kIdempotent);
  return impl_->Read("POST", path, [&] {
    if (!result.is_array() || result.size() != queries.rows()) {
      throw BadShape("expected an array of " + std::to_string(queries.rows()) + " query results");
    }
    std::vector<std::vector<QdrantScoredPoint>> out(queries.rows());
    for (size_t i = 0; i < out.size(); ++i) {
      json& points = result[i].at("points");
      out[i].reserve(points.size());
      for (json& p : points.get_ref<json::array_t&>()) {
        QdrantScoredPoint sp;
        sp.id = ReadPointId(p.at("id"));
        const json& score = p.at("score");
        if (!score.is_number()) throw BadShape("a score is not a number: " + score.dump());
        sp.score = score.get<double>();
        sp.payload = TakePayload(p);
        out[i].push_back(std::move(sp));
      }
    }
    return out;
  });
}

void QdrantClient::DeletePoints(const std::string& name, const std::vector<std::string>& ids, bool wait) {
  const std::string path = CollectionPath(name) + "/points/delete" + WaitParam(wait);
  if (ids.empty()) return;
  JsonWriter w(ids.size() * 40 + 16);
  w.Raw(R"({"points":)");
  WriteIdList(w, ids);
  w.Char('}');
  impl_->CallResult("POST", path, w.Take(), RetryPolicy::kIdempotent);
}

json QdrantClient::Request(const std::string& method, const std::string& path, const std::string& body,
                           bool idempotent) {
  if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    throw InvalidArgument("Qdrant request: bad HTTP method '" + method + "'");
  }
  if (path.empty() || path[0] != '/') throw InvalidArgument("Qdrant request: the path must start with '/'");
  json doc = impl_->Call(method, path, body, idempotent ? RetryPolicy::kIdempotent : RetryPolicy::kIfUnsent);
  // A few endpoints (GET /) answer without the envelope.
  if (doc.is_object() && doc.contains("result")) return std::move(doc["result"]);
  return doc;
}

std::string ObjectIdToPointId(const std::string& object_id) {
  if (!IsObjectId(object_id)) {
    throw InvalidArgument("'" + object_id + "' is not an ObjectId (24 hex digits)");
  }
  const std::string hex = ToLower(object_id) + "00000000";
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string PointIdToObjectId(const std::string& point_id) {
  std::string hex;
  if (point_id.size() == 36) {
    for (size_t i = 0; i < point_id.size(); ++i) {
      const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if ((point_id[i] == '-') != dash_position) {
        hex.clear();
        break;
      }
      if (!dash_position) hex += point_id[i];
    }
  } else if (point_id.size() == 32) {
    hex = point_id;
  }
  if (hex.size() != 32 || !IsHex(hex) || !hex.ends_with("00000000")) {
    throw InvalidArgument("Qdrant point id '" + point_id +
                          "' is not an ObjectId-based UUID (24 hex digits followed by 00000000)");
  }
  return ToLower(hex.substr(0, 24));
}

}  // namespace fo
