// fo app launch: serves the browser App until Ctrl-C (SIGINT) or SIGTERM.
//
// Stopping the server (locking, joining threads) is not allowed inside a
// signal handler, so the handler only writes a byte to a pipe (the self-pipe
// trick) and the main thread, blocked reading it, does the stopping. Blocking
// the signals and sigwait would not do: libraries start threads before main
// (OpenBLAS's pool) that would not have them blocked, and a SIGTERM delivered
// to one of those would kill the process.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "fo/app.h"
#include "fo/database.h"
#include "fo/error.h"

namespace fo::cli {

namespace {

int stop_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int) {
  char byte = 1;
  ssize_t written = write(stop_pipe[1], &byte, 1);  // async-signal-safe
  (void)written;
}

void SetStopHandlers(void (*handler)(int)) {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void WaitForStopSignal() {
  char byte = 0;
  while (read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  // A second Ctrl-C while stopping ends the process at once.
  SetStopHandlers(SIG_DFL);
}

void Launch(const AppOptions& options) {
  if (stop_pipe[0] < 0 && pipe(stop_pipe) != 0) throw IOError(std::string("cannot create a pipe: ") + std::strerror(errno));
  SetStopHandlers(OnStopSignal);
  AppServer server(Database::OpenDefault(), options);
  server.Start();
  std::cout << "App running at " << server.url() << std::endl;
  std::cerr << "Press Ctrl-C to stop" << std::endl;
  WaitForStopSignal();
  std::cerr << "Stopping the App" << std::endl;
  server.Stop();
}

}  // namespace

void AddAppCommands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("app", "The browser App");
  group->require_subcommand(1);
  auto options = std::make_shared<AppOptions>();
  CLI::App* launch = group->add_subcommand("launch", "Serve the App and its JSON API until Ctrl-C");
  launch->add_option("DATASET", options->dataset, "Dataset the App opens first");
  launch->add_option("--port", options->port, "Port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  launch->add_option("--address", options->address,
                     "Address to bind; the App has no authentication, so the default is loopback only")
      ->capture_default_str();
  launch->add_option("--thumbnail-dir", options->thumbnail_dir,
                     "Thumbnail cache directory (default: ~/.fiftyone/cpp/thumbnails)");
  auto cache_mb = std::make_shared<uint64_t>(options->thumbnail_cache_bytes >> 20);
  launch->add_option("--thumbnail-cache-mb", *cache_mb,
                     "Size limit of the thumbnail cache; the least recently used are deleted beyond it (0: no limit)")
      ->capture_default_str();
  launch->callback([options, cache_mb] {
    options->thumbnail_cache_bytes = *cache_mb << 20;
    Launch(*options);
  });
}

}  // namespace fo::cli
