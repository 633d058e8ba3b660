// One HTTP connection's worth of libcurl: an easy handle kept for the life of
// the transport, so consecutive requests reuse the TCP (and TLS) connection.
// It performs exactly one attempt per call and reports what happened; retries
// and the translation into fo::Error belong to the caller (QdrantClient),
// which knows which requests may be repeated. Not thread-safe.
#ifndef FO_QDRANT_HTTP_TRANSPORT_H_
#define FO_QDRANT_HTTP_TRANSPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct curl_slist;

namespace fo::internal {

struct HttpTransportOptions {
  // Sent with every request, "Name: value". May hold credentials: they are
  // never copied into a result or a message.
  std::vector<std::string> headers;
  long timeout_ms = 0;          // the whole request; 0 = none
  long connect_timeout_ms = 0;  // 0 = libcurl's default (300 s)
};

enum class TransportFailure {
  kNone,       // an HTTP response arrived (of any status)
  kTransient,  // refused, reset, dropped or timed out: worth another attempt
  kPermanent,  // bad url, unknown host, TLS failure...: retrying will not help
};

struct HttpResult {
  TransportFailure failure = TransportFailure::kNone;
  // Whether any byte of the request reached the socket. When false, the
  // server cannot have acted on it, so even a non-idempotent request may be
  // sent again.
  bool request_sent = false;
  std::string error;  // libcurl's description when failure != kNone
  long status = 0;
  std::string body;
  std::optional<double> retry_after_s;  // a Retry-After header in seconds
};

class HttpTransport {
 public:
  explicit HttpTransport(const HttpTransportOptions& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // One attempt. `method` is "GET", "PUT", "POST", "DELETE"...; `body` is
  // sent (with Content-Length) when non-empty or when the method is POST/PUT.
  // `fresh_connection` opens a new connection instead of reusing the kept
  // one (which libcurl would silently retry on if it turned out dead).
  HttpResult Perform(std::string_view method, const std::string& url, std::string_view body,
                     bool fresh_connection = false);

 private:
  void* curl_ = nullptr;  // CURL* (libcurl's CURL is void), kept out of this header
  curl_slist* headers_ = nullptr;
  char error_buffer_[256];  // CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE bytes
};

}  // namespace fo::internal

#endif  // FO_QDRANT_HTTP_TRANSPORT_H_
