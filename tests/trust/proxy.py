"""A logging CONNECT proxy for tests/trust.rs.

Usage: proxy.py UPSTREAM_NETNS LOG SECONDS NAME=ADDRESS...

Binds 127.0.0.1 at an ephemeral port in the network namespace it starts in (the clients'),
prints the port on the first line of standard output, then moves itself into UPSTREAM_NETNS
(a /proc/PID/ns/net path) with nsenter, keeping the listening socket: only through it do the
clients reach the servers. Each CONNECT line is appended to LOG. NAME=ADDRESS maps the host
names the clients ask for to addresses in the upstream namespace; any other host is refused
(502) without a connection, so nothing leaves the machine. Stops by itself after SECONDS."""
import os
import socket
import sys
import threading


def serve(fd, log, seconds, names):
    listener = socket.socket(fileno=fd)
    threading.Timer(seconds, lambda: os._exit(0)).start()
    lock = threading.Lock()

    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle(client):
        client.settimeout(20)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        with lock, open(log, "a") as f:
            f.write(line + "\n")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        try:
            if host not in names:
                raise ValueError(host)
            upstream = socket.create_connection((names[host], int(port)), timeout=10)
        except (OSError, ValueError):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        client.settimeout(None)
        upstream.settimeout(None)
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client,), daemon=True).start()


def main():
    if sys.argv[1] == "--fd":
        fd, log, seconds = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        names = dict(a.split("=", 1) for a in sys.argv[5:])
        serve(fd, log, seconds, names)
        return
    upstream, rest = sys.argv[1], sys.argv[2:]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    fd = listener.detach()
    os.set_inheritable(fd, True)
    os.execvp("nsenter", ["nsenter", f"--net={upstream}", sys.executable, __file__, "--fd", str(fd)] + rest)


main()
