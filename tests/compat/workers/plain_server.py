#!/usr/bin/env python3
"""The plainest socket-activated server: it takes its listening sockets as
sd_listen_fds(3) says (fd 3 on, LISTEN_FDS, only if LISTEN_PID is its own
pid), sends READY=1 if NOTIFY_SOCKET is set, and serves with a blocking
accept() loop per socket. It never changes a socket's mode: given a
non-blocking socket, its accept() raises (EAGAIN) and it exits with code 3,
as such a server does.

Each connection gets one HTTP/1.1 response (Connection: close), a JSON body
of what the server saw at start, before it touched anything:
  pid, env (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID as given, or null),
  fds: per passed fd, {fd, nonblocking (O_NONBLOCK), cloexec (FD_CLOEXEC),
  family, type, port or path},
  served: how many connections it has accepted so far.
"""

import fcntl
import json
import os
import socket
import sys
import threading

LISTEN_FDS_START = 3


def listen_fds():
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + int(os.environ.get("LISTEN_FDS", "0"))))


def observe(fd):
    """The fd as passed: flags first, then the socket behind it."""
    flags, fd_flags = fcntl.fcntl(fd, fcntl.F_GETFL), fcntl.fcntl(fd, fcntl.F_GETFD)
    sock = socket.socket(fileno=fd)
    seen = {"fd": fd, "nonblocking": bool(flags & os.O_NONBLOCK),
            "cloexec": bool(fd_flags & fcntl.FD_CLOEXEC),
            "family": {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6",
                       socket.AF_UNIX: "unix"}.get(sock.family, str(sock.family)),
            "type": "stream" if sock.type == socket.SOCK_STREAM else str(sock.type)}
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        seen["path"] = name
    else:
        seen["port"] = name[1]
    return sock, seen


def notify(data):
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.sendto(data, address)


def main():
    env = {k: os.environ.get(k) for k in ("LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID")}
    observed = [observe(fd) for fd in listen_fds()]
    if not observed:
        print("plain_server: no sockets passed", file=sys.stderr, flush=True)
        return 2
    state = {"pid": os.getpid(), "env": env, "fds": [seen for _, seen in observed], "served": 0}
    lock = threading.Lock()

    def serve(listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError as e:
                print(f"plain_server: accept failed: {e}", file=sys.stderr, flush=True)
                os._exit(3)
            with conn:
                with lock:
                    state["served"] += 1
                    body = json.dumps(state).encode()
                conn.settimeout(10)
                try:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                                 + body)
                except OSError:
                    pass

    notify(b"READY=1")
    threads = [threading.Thread(target=serve, args=(sock,), daemon=True) for sock, _ in observed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
