"""A loopback HTTPS server for tests/trust.rs.

Usage: server.py CHAIN.pem KEY.pem SECONDS [ADDRESS]

Serves "ok" over TLS on ADDRESS (127.0.0.1 by default) at an ephemeral port, sending the whole chain in CHAIN.pem
(leaf first, then intermediates). Prints the port on the first line of standard output, then
stops by itself after SECONDS, or earlier when standard input closes."""
import http.server
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context, address):
        super().__init__((address, 0), Handler)
        self.context = context

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        # A client that rejects the certificate aborts here; that is its answer, not ours.
        return self.context.wrap_socket(sock, server_side=True), addr

    def handle_error(self, request, client_address):
        pass


def main():
    chain, key, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    server = Server(context, sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    stdin_closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stdin_closed.set()), daemon=True).start()
    stdin_closed.wait(seconds)
    server.shutdown()


if __name__ == "__main__":
    main()
