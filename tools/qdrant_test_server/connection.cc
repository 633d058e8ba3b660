#include "connection.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>

namespace qdrant_test_server {
namespace {

// The numeric host and port of a socket address, as cpp-httplib reports them.
bool HostAndPort(const sockaddr_storage& address, socklen_t length, std::string& host, int& port) {
  char host_buffer[NI_MAXHOST];
  char port_buffer[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host_buffer, sizeof(host_buffer),
                  port_buffer, sizeof(port_buffer), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  host = host_buffer;
  port = std::atoi(port_buffer);
  return true;
}

// Calls visit(fd, peer host, peer port) for each connected TCP socket of this
// process whose local port is local_port, until visit returns true.
template <typename Visit>
void ForEachConnection(int local_port, Visit visit) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = std::atoi(entry.path().filename().c_str());
    sockaddr_storage local{}, peer{};
    socklen_t local_length = sizeof(local), peer_length = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) continue;
    std::string local_host, peer_host;
    int local_p = 0, peer_p = 0;
    if (!HostAndPort(local, local_length, local_host, local_p) || local_p != local_port) continue;
    if (!HostAndPort(peer, peer_length, peer_host, peer_p)) continue;
    if (visit(fd, peer_host, peer_p)) return;
  }
}
}  // namespace

bool ShutdownConnection(int local_port, const std::string& remote_addr, int remote_port) {
  bool found = false;
  ForEachConnection(local_port, [&](int fd, const std::string& host, int port) {
    if (host != remote_addr || port != remote_port) return false;
    found = shutdown(fd, SHUT_RDWR) == 0;
    return true;
  });
  return found;
}

void ShutdownAllConnections(int local_port) {
  ForEachConnection(local_port, [](int fd, const std::string&, int) {
    shutdown(fd, SHUT_RDWR);
    return false;
  });
}

}  // namespace qdrant_test_server
