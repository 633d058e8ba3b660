// Closing connections behind cpp-httplib's back: the one a request came on,
// without an answer, or all of them at shutdown. cpp-httplib gives handlers
// no socket, so sockets are found by their addresses.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_CONNECTION_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_CONNECTION_H_

#include <string>

namespace qdrant_test_server {

// Shuts down (both directions) this process's TCP socket whose local port is
// local_port and whose peer is remote_addr:remote_port, so that the client
// sees the connection end with no response (curl: "Empty reply from
// server"). The response cpp-httplib then writes goes nowhere. Returns false
// if no such socket was found. Linux only (reads /proc/self/fd).
bool ShutdownConnection(int local_port, const std::string& remote_addr, int remote_port);

// Shuts down every accepted connection on local_port. cpp-httplib 0.11 waits
// out the keep-alive timeout (5 s) of idle connections before it stops; this
// ends that wait at once.
void ShutdownAllConnections(int local_port);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_CONNECTION_H_
