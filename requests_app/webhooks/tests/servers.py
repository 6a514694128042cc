"""Local HTTP receivers for webhook tests: one that records what it gets, one that accepts
connections and never answers. Each is stopped by the test that starts it."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from tests.fixtures import free_port  # noqa: F401 - also imported from here by tests




class Receiver:
    def __init__(self, port: int, status: int = 204):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Hanging:
    """Listens, so connections are accepted by the kernel, and never reads nor answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
