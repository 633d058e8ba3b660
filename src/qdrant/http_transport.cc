#include "qdrant/http_transport.h"

#include <curl/curl.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>

#include "fo/error.h"

namespace fo::internal {
namespace {

static_assert(CURL_ERROR_SIZE <= 256, "HttpTransport::error_buffer_ is too small");

// curl_global_init is not guaranteed thread-safe on every libcurl build, and
// curl_easy_init would otherwise call it implicitly from whichever thread
// creates the first client.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<HttpResult*>(user)->body.append(data, size * count);
  return size * count;
}

// Only Retry-After is wanted (a 429 or 503 may carry it); the delay-seconds
// form is read and the HTTP-date form ignored, which falls back to backoff.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* result = static_cast<HttpResult*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue, say): forget the previous one's.
    result->retry_after_s.reset();
    return n;
  }
  constexpr std::string_view kName = "retry-after:";
  if (line.size() <= kName.size()) return n;
  for (size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return n;
  }
  line.remove_prefix(kName.size());
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), seconds);
  if (ec == std::errc() && end != line.data()) result->retry_after_s = static_cast<double>(seconds);
  return n;
}

// Failures where the server is (for now) out of reach or the exchange broke
// off; another attempt may well succeed. Everything else (a malformed url,
// an unknown host, a TLS or certificate problem) is a configuration error.
bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpTransport::HttpTransport(const HttpTransportOptions& options) {
  GlobalInit();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw Internal("curl_easy_init failed");
  curl_ = curl;
  for (const std::string& h : options.headers) {
    curl_slist* next = curl_slist_append(headers_, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(headers_);
      curl_easy_cleanup(curl);
      throw Internal("curl_slist_append failed");
    }
    headers_ = next;
  }
  error_buffer_[0] = '\0';
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer_);
  // Signals cannot be used for timeouts in a multi-threaded program.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  // Idle connections held between calls should not be silently dropped by
  // NAT or a load balancer.
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  // The url comes from user configuration: file://, ftp:// etc. are refused.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
}

HttpTransport::~HttpTransport() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_slist_free_all(headers_);
}

HttpResult HttpTransport::Perform(std::string_view method, const std::string& url, std::string_view body,
                                  bool fresh_connection) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpResult result;
  const std::string method_str(method);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, fresh_connection ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result);
  curl_easy_setopt(curl, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    // POSTFIELDS does not copy: `body` outlives the transfer below.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  // After POSTFIELDS or HTTPGET so it only renames the method.
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
                   method == "GET" || method == "POST" || method == "HEAD" ? nullptr : method_str.c_str());

  error_buffer_[0] = '\0';
  const CURLcode code = curl_easy_perform(curl);
  long request_size = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
  result.request_sent = request_size > 0;
  // The handle keeps option pointers: do not leave it pointing at a string
  // that is about to be destroyed.
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  if (code != CURLE_OK) {
    result.failure = IsTransient(code) ? TransportFailure::kTransient : TransportFailure::kPermanent;
    result.error = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    result.body.clear();
    return result;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

}  // namespace fo::internal
