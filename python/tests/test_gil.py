"""Long calls release the GIL: a C++ call that talks to an HTTP server
written in Python (a thread of this process) only gets its answer if the
server thread can run meanwhile. Were the GIL held, each request would wait
for the client's timeout and end in a ConnectionError instead of the
server's 401."""

import http.server
import threading

import pytest


class Refusing(http.server.BaseHTTPRequestHandler):
    requests = []

    def answer(self):
        Refusing.requests.append((self.command, self.path))
        body = b'{"status": {"error": "Unauthorized"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def python_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Refusing.requests = []
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_network_calls_let_python_threads_run(store, python_server):
    import fo
    import fo.brain as fob
    dataset = fo.Dataset("gil")
    dataset.add_samples([fo.Sample(filepath="/nonexistent/%d.jpg" % i) for i in range(3)])
    with pytest.raises(PermissionError, match="rejected the API key|401|unauthori"):
        fob.compute_similarity(dataset, embeddings=False, backend="qdrant", url=python_server, api_key="k",
                               brain_key="remote")
    assert Refusing.requests, "the Python server thread never ran during the call"
