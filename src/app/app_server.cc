// fo::AppServer: cpp-httplib routing onto AppApi (api.h) and the embedded
// page. Every path parameter is matched by a strict regex here, after
// cpp-httplib has percent-decoded the path, so "..", "%2e%2e" or "%2F" can
// never reach a handler, let alone the file system: media and thumbnails are
// looked up by sample id only.
//
// Why cpp-httplib: it is packaged by Debian (libcpp-httplib-dev, security
// updates from the distribution, nothing vendored or downloaded), the project
// already builds its Qdrant test server and zoo test on it, and it is all
// the App needs: regex routes, a thread pool, keep-alive, clean stop(). The
// App serves one local user on loopback, so a lower-level or asynchronous
// stack (Boost.Beast, where routing and request parsing are ours to write)
// would add code and buy nothing.
#include "fo/app.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "api.h"
#include "static_assets.h"
#include "fo/dataset.h"
#include "fo/error.h"

namespace fo {

using internal::ApiResponse;

namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";
// Bodies are small JSON queries; a bound keeps one request from filling memory.
constexpr size_t kMaxBodyBytes = 4 << 20;
constexpr auto kStartTimeout = std::chrono::seconds(10);

// A name as the library allows (anything but '/', which a path segment
// cannot hold once decoded) and a 24-hex ObjectId.
constexpr const char* kName = "([^/]+)";
constexpr const char* kId = "([0-9a-f]{24})";

std::string Route(const std::string& tail) { return std::string("/api/datasets/") + kName + tail; }

void Send(const ApiResponse& api, httplib::Response& res) {
  res.status = api.status;
  for (const auto& [name, value] : api.headers) {
    res.headers.erase(name);  // a handler's header replaces the default one
    res.set_header(name.c_str(), value);
  }
  if (api.status == 304) return;
  res.set_content(api.body, api.content_type.c_str());
}

std::string FormatUrl(const std::string& address, int port) {
  bool ipv6 = address.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + "/";
}

void ServeAsset(const std::string& name, httplib::Response& res) {
  const internal::StaticAsset* asset = internal::FindStaticAsset(name);
  if (asset == nullptr) return Send(internal::ErrorResponse(404, "no such file: /" + name), res);
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::string(asset->data), internal::ContentTypeOf(name).c_str());
}

void AddApiRoutes(httplib::Server& server, const internal::AppApi& api) {
  server.Get("/api/datasets", [&api](const httplib::Request&, httplib::Response& res) { Send(api.ListDatasets(), res); });
  server.Get(Route(""), [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.GetDataset(req.matches[1]), res);
  });
  server.Get(Route("/samples"), [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.ListSamples(req.matches[1], req.params), res);
  });
  server.Get(Route("/patches"), [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.ListPatches(req.matches[1], req.params), res);
  });
  server.Get(Route("/brain_runs"), [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.ListBrainRuns(req.matches[1], req.params), res);
  });
  server.Post(Route("/sort_by_similarity"), [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.SortBySimilarity(req.matches[1], req.body), res);
  });
  server.Get(Route("/thumbnails/") + kId, [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.Thumbnail(req.matches[1], req.matches[2], req.params, req.get_header_value("If-None-Match")), res);
  });
  server.Get(Route("/media/") + kId, [&api](const httplib::Request& req, httplib::Response& res) {
    Send(api.Media(req.matches[1], req.matches[2]), res);
  });
  // Anything else under thumbnails/ or media/ is not an id.
  server.Get(Route("/(?:thumbnails|media)/.*"), [](const httplib::Request&, httplib::Response& res) {
    Send(internal::ErrorResponse(400, "malformed sample id: expected 24 hexadecimal digits"), res);
  });
}

void AddStaticRoutes(httplib::Server& server) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { ServeAsset("index.html", res); });
  server.Get("/([A-Za-z0-9_][A-Za-z0-9_.-]*)", [](const httplib::Request& req, httplib::Response& res) {
    ServeAsset(req.matches[1], res);
  });
}

// cpp-httplib's default sets SO_REUSEPORT, which lets a second App bind the
// same port and silently share its connections; SO_REUSEADDR alone still
// allows a quick restart over connections in TIME_WAIT.
void ListenerSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
}

// Every response cpp-httplib makes up itself (no route, a malformed request,
// a body too large) gets a JSON error body like ours.
httplib::Server::HandlerResponse FillError(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  std::string message = res.status == 404 ? "no such route: " + req.method + " " + req.path
                                          : "request failed with status " + std::to_string(res.status);
  ApiResponse error = internal::ErrorResponse(res.status, message);
  res.set_content(error.body, error.content_type.c_str());
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

std::string DefaultThumbnailDir() {
  const char* home = std::getenv("HOME");
  std::filesystem::path base = home != nullptr && *home != '\0' ? home : std::filesystem::temp_directory_path().string();
  return (base / ".fiftyone" / "cpp" / "thumbnails").string();
}

struct AppServer::Impl {
  Impl(std::shared_ptr<Database> db, AppOptions opts)
      : options(std::move(opts)),
        api(std::move(db), options.dataset,
            options.thumbnail_dir.empty() ? DefaultThumbnailDir() : options.thumbnail_dir,
            options.thumbnail_cache_bytes) {}

  AppOptions options;
  internal::AppApi api;
  httplib::Server server;
  std::thread listener;
  int port = 0;
  std::mutex mutex;       // guards stopped
  std::mutex join_mutex;  // one joiner of the listener at a time
  std::condition_variable stopped_cv;
  bool stopped = false;
};

AppServer::AppServer(std::shared_ptr<Database> db, AppOptions options) {
  if (!options.dataset.empty()) Dataset::Load(db, options.dataset);  // kNotFound, naming the others
  impl_ = std::make_unique<Impl>(std::move(db), std::move(options));
  httplib::Server& server = impl_->server;
  server.set_default_headers({{"Content-Security-Policy", kContentSecurityPolicy},
                              {"X-Content-Type-Options", "nosniff"},
                              {"Referrer-Policy", "no-referrer"}});
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_socket_options(ListenerSocketOptions);
  // Without it a small answer on a kept-alive connection can wait ~40 ms for
  // the client's delayed ACK (Nagle), once per thumbnail.
  server.set_tcp_nodelay(true);
  server.set_error_handler(httplib::Server::HandlerWithResponse(FillError));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    Send(internal::ErrorResponse(500, "internal error"), res);
  });
  AddApiRoutes(server, impl_->api);
  AddStaticRoutes(server);
}

AppServer::~AppServer() { Stop(); }

void AppServer::Start() {
  Impl& s = *impl_;
  const std::string& host = s.options.address;
  if (s.options.port == 0) {
    s.port = s.server.bind_to_any_port(host);
  } else {
    s.port = s.server.bind_to_port(host, s.options.port) ? s.options.port : -1;
  }
  if (s.port <= 0) {
    s.port = 0;
    throw Error(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(s.options.port) +
                                             " (address in use or not available); choose another with --port or --address");
  }
  s.listener = std::thread([&s] {
    s.server.listen_after_bind();
    std::lock_guard lock(s.mutex);
    s.stopped = true;
    s.stopped_cv.notify_all();
  });
  // stop() is a no-op until the listener runs, so a Stop() right after
  // Start() would otherwise be lost.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!s.server.is_running() && std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(s.mutex);
      if (s.stopped) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int AppServer::port() const { return impl_->port; }

std::string AppServer::url() const { return FormatUrl(impl_->options.address, impl_->port); }

void AppServer::Wait() {
  if (!impl_->listener.joinable()) return;
  std::unique_lock lock(impl_->mutex);
  impl_->stopped_cv.wait(lock, [this] { return impl_->stopped; });
}

void AppServer::Stop() {
  Impl& s = *impl_;
  s.server.stop();
  std::lock_guard lock(s.join_mutex);
  if (s.listener.joinable()) s.listener.join();
}

}  // namespace fo
