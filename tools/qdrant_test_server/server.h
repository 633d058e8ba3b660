// A Qdrant-compatible REST server (the subset of Qdrant 1.19's API that the
// project's clients use) with in-memory storage, for tests only: it is not a
// product feature and does not index (every search is exact).
//
// Thread-safety: cpp-httplib serves connections on a thread pool; one mutex
// guards every collection, and the fault plan and counters have their own.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_SERVER_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "collection.h"
#include "faults.h"

namespace qdrant_test_server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 6333;       // 0 picks a free port
  std::string api_key;   // empty: no authentication, as Qdrant without service.api_key
  bool verbose = false;  // one line per request on stderr
};

// Qdrant's JSON body limit (service.max_request_size_mb: 32).
inline constexpr size_t kMaxRequestBytes = 32u << 20;

class QdrantTestServer {
 public:
  explicit QdrantTestServer(ServerOptions options);
  ~QdrantTestServer();
  QdrantTestServer(const QdrantTestServer&) = delete;
  QdrantTestServer& operator=(const QdrantTestServer&) = delete;

  // Binds the listening socket. Returns the port, or -1 if binding failed.
  int Bind();
  // Serves until Stop(); returns false if serving could not start.
  bool Serve();
  // Safe from any thread; in-progress stalls end early.
  void Stop();

 private:
  using json = nlohmann::json;
  // Returns the `result` of Qdrant's envelope; throws ApiError.
  using ApiHandler = std::function<json(const httplib::Request&, const json& body)>;
  using RawHandler = std::function<void(const httplib::Request&, httplib::Response&)>;
  enum class Body { kNone, kJson };

  // An API route: faults, authentication, the JSON body, the envelope.
  void Api(const std::string& method, const std::string& pattern, Body body, ApiHandler handler);
  // A route that writes its own response (GET /, health checks, the test
  // controls). admin routes skip faults, authentication and counting.
  void Raw(const std::string& method, const std::string& pattern, bool admin, RawHandler handler);
  void Register(const std::string& method, const std::string& pattern, httplib::Server::Handler handler);
  // Applies a planned fault. Returns true if the request was answered (or
  // its connection dropped) and must not be served.
  bool ApplyFault(const httplib::Request& req, httplib::Response& res);
  // Returns true if the request may proceed; otherwise answers 401.
  bool Authorize(const httplib::Request& req, httplib::Response& res) const;

  void RegisterServiceRoutes();
  void RegisterCollectionRoutes();  // collections_api.cc
  void RegisterPointRoutes();       // points_api.cc
  void RegisterQueryRoutes();       // query_api.cc
  void RegisterTestRoutes();

  // The named collection; throws 404. REQUIRES: mu_ held.
  Collection& Find(const std::string& name);
  // Starts an update operation on c: its id, and the UpdateResult to return.
  static uint64_t NextOperation(Collection& c);
  static json UpdateResult(const httplib::Request& req, uint64_t operation_id);

  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> stopping_{false};
  int port_ = -1;
  std::mutex mu_;
  std::map<std::string, Collection> collections_;  // guarded by mu_
  FaultInjector faults_;
  RequestStats stats_;
};

// Query parameters shared by several operations; each throws ApiError (400
// for a value that does not parse, 422 for one out of range).
// wait (bool, default false), ordering, timeout: the write operations.
bool ReadWriteParams(const httplib::Request& req);
// consistency, timeout: the read operations.
void ReadReadParams(const httplib::Request& req);
// timeout alone: collection create and delete.
void ReadTimeoutParam(const httplib::Request& req);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_SERVER_H_
