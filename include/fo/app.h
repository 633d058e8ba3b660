// fo::AppServer: the browser App's HTTP server (`fo app launch`). It serves
// the page (embedded in the binary at build time) and a JSON API over the
// store: datasets, pages of samples and patches, brain runs, sort by
// similarity, thumbnails (generated at a bounded size and cached on disk) and
// original media (only files that are a sample's filepath, looked up by
// sample id). src/app/api.h lists the endpoints and their answers.
//
// Thread-safety: Start, Wait and Stop may be called from different threads;
// Stop is idempotent. Requests are handled on the server's own threads.
#ifndef FO_APP_H_
#define FO_APP_H_

#include <cstdint>
#include <memory>
#include <string>

namespace fo {

class Database;

struct AppOptions {
  // Loopback by default: the App has no authentication, so exposing it on a
  // network is an explicit choice ("0.0.0.0").
  std::string address = "127.0.0.1";
  int port = 5151;            // 0 = any free port (see AppServer::port())
  std::string dataset;        // the dataset the page opens first; may be empty
  // Where thumbnails are cached. Default: ~/.fiftyone/cpp/thumbnails/.
  std::string thumbnail_dir;
  // The cache's size limit: the least recently used thumbnails are deleted
  // beyond it (at start, then every few hundred new thumbnails). 0 = none.
  uint64_t thumbnail_cache_bytes = uint64_t{1} << 30;
};

// The default thumbnail cache directory, ~/.fiftyone/cpp/thumbnails.
std::string DefaultThumbnailDir();

class AppServer {
 public:
  // Throws kNotFound if options.dataset is set and does not exist.
  AppServer(std::shared_ptr<Database> db, AppOptions options);
  ~AppServer();  // Stops the server.
  AppServer(const AppServer&) = delete;
  AppServer& operator=(const AppServer&) = delete;

  // Binds the address and port and starts serving on background threads.
  // Throws kUnavailable if the address cannot be bound (port in use...).
  void Start();
  // The bound port (the chosen one when options.port was 0); 0 before Start.
  int port() const;
  // "http://<address>:<port>/".
  std::string url() const;
  // Blocks until the server has stopped.
  void Wait();
  // Stops accepting requests and returns once the listener has ended.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fo

#endif  // FO_APP_H_
