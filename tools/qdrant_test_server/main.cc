// qdrant-test-server: a Qdrant-compatible REST server with in-memory storage
// for the project's tests. Not a product feature.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "server.h"

namespace {

constexpr const char* kUsage =
    R"(Usage: qdrant-test-server [--port N] [--host ADDR] [--api-key KEY] [--verbose]

A Qdrant-compatible REST server (Qdrant 1.19's API, the subset the project's
clients use) that keeps its data in memory and searches exactly. It exists for
the project's tests, where no real Qdrant can be installed: it is NOT a
product feature and not a Qdrant replacement.

  --port N       port to listen on (default 6333); 0 picks a free port
  --host ADDR    address to bind (default 127.0.0.1)
  --api-key KEY  require the header `api-key: KEY` or `Authorization: Bearer KEY`
  --verbose      log each request to stderr
  --help         show this text

The first line on stdout is the server's URL, e.g. http://127.0.0.1:45678.
SIGTERM or SIGINT stops it with exit status 0. Test-only controls:
POST/GET/DELETE /__test/faults (fault injection), GET/DELETE /__test/stats
(request counts); see tools/qdrant_test_server/README.md.
)";

int UsageError(const std::string& message) {
  std::cerr << "qdrant-test-server: " << message << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  qdrant_test_server::ServerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      return i + 1 < argc ? argv[++i] : (UsageError(std::string(name) + " needs a value"), nullptr);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--port") {
      const char* v = value("--port");
      if (v == nullptr) return 2;
      char* end = nullptr;
      long port = std::strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || port < 0 || port > 65535)
        return UsageError("bad --port " + std::string(v));
      options.port = static_cast<int>(port);
    } else if (arg == "--host") {
      const char* v = value("--host");
      if (v == nullptr) return 2;
      options.host = v;
    } else if (arg == "--api-key") {
      const char* v = value("--api-key");
      if (v == nullptr) return 2;
      options.api_key = v;
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else {
      return UsageError("unknown argument " + arg);
    }
  }

  // Signals are taken by one thread with sigwait, so no handler runs inside
  // cpp-httplib's threads; a write to a dropped connection must not kill us.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  qdrant_test_server::QdrantTestServer server(options);
  int port = server.Bind();
  if (port < 0) {
    std::cerr << "qdrant-test-server: cannot listen on " << options.host << ":" << options.port << ": "
              << std::strerror(errno) << "\n";
    return 1;
  }
  bool ipv6 = options.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + options.host + "]" : options.host;
  std::printf("http://%s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  std::thread waiter([&server, stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.Stop();
  });
  bool served = server.Serve();
  // Wake the waiter if serving ended on its own.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return served ? 0 : 1;
}
