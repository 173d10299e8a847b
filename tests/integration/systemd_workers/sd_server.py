#!/usr/bin/env python3
"""A socket-activated HTTP server with no muster code: stdlib only, written the
way a server for systemd would be. It takes its listening sockets from fd 3 on
(LISTEN_FDS, checked against LISTEN_PID as sd_listen_fds(3) does) and reports
readiness on NOTIFY_SOCKET.

Requests (one per connection, answered with `Connection: close`):
  GET /          "hello from PID"
  GET /info      JSON: pid, the LISTEN_* variables, and each passed fd's
                 family, getsockname() and O_NONBLOCK as passed ("nonblocking"),
                 in fd order (fd 3 first)
  POST /notify   sends the request body, as is, as one datagram to
                 NOTIFY_SOCKET from this process; answers "sent N"

Environment:
  SD_SERVER_NO_READY=1   never send READY=1 on its own
  SD_SERVER_STATUS=TEXT  send STATUS=TEXT together with READY=1
  SD_SERVER_SOCKETLESS=1 a notify-only service: expect no sockets, send
                         READY=1 (unless SD_SERVER_NO_READY) and wait for SIGTERM
  SD_SERVER_EXTEND_USEC=N  first of all, send EXTEND_TIMEOUT_USEC=N
  SD_SERVER_PING_MS=N    socketless: send WATCHDOG=1 every N ms while it runs
  SD_SERVER_STOP_MS=N    socketless: SIGTERM stops the pings, and it exits
                         with code 0 N ms later (a graceful shutdown)

It keeps no file descriptors of its own open while idle (one thread per
listening socket, blocking accept; on a socket passed non-blocking it waits
in select() instead, never changing the socket's mode, which it shares with
musterd), so /proc/PID/fd shows exactly what it was given. SIGTERM ends it with exit code 0.
"""

import fcntl
import json
import os
import select
import signal
import socket
import sys
import threading
import time

LISTEN_FDS_START = 3


def listen_fds():
    """The passed fds, as sd_listen_fds(3) finds them: none unless LISTEN_PID
    names this very process."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    count = int(os.environ.get("LISTEN_FDS", "0"))
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + count))


def notify(data):
    """One datagram to NOTIFY_SOCKET; '@' at the start means the abstract
    namespace (a leading NUL byte)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return 0
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        return s.sendto(data, address)


def describe(sock):
    name = sock.getsockname()
    nonblocking = bool(fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
    if sock.family == socket.AF_UNIX:
        return {"family": "unix", "address": name, "nonblocking": nonblocking}
    family = "ipv6" if sock.family == socket.AF_INET6 else "ipv4"
    return {"family": family, "host": name[0], "port": name[1], "nonblocking": nonblocking}


def info(sockets):
    return {
        "pid": os.getpid(),
        "listen_pid": os.environ.get("LISTEN_PID"),
        "listen_fds": os.environ.get("LISTEN_FDS"),
        "listen_fdnames": os.environ.get("LISTEN_FDNAMES"),
        "sockets": [dict(fd=fd, **seen) for fd, _, seen in sockets],
    }


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split()[:2]
    length = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, path, body[:length]


def respond(conn, status, body, content_type="text/plain"):
    body = body.encode() if isinstance(body, str) else body
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    conn.sendall(head.encode() + body)


def handle(conn, sockets):
    with conn:
        conn.settimeout(10)
        try:
            method, path, body = read_request(conn)
            if method is None:
                return
            if path == "/info":
                respond(conn, "200 OK", json.dumps(info(sockets)), "application/json")
            elif path == "/notify" and method == "POST":
                respond(conn, "200 OK", f"sent {notify(body)}\n")
            else:
                respond(conn, "200 OK", f"hello from {os.getpid()}\n")
        except OSError as e:
            print(f"sd_server: {e}", file=sys.stderr, flush=True)


def serve(listener, sockets):
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:  # passed non-blocking: wait for the next client
            select.select([listener], [], [])
            continue
        conn.setblocking(True)
        threading.Thread(target=handle, args=(conn, sockets), daemon=True).start()


def run_socketless():
    """Waits for SIGTERM, pinging the watchdog meanwhile if asked to."""
    ping_ms = int(os.environ.get("SD_SERVER_PING_MS", "0"))
    stop_ms = os.environ.get("SD_SERVER_STOP_MS")
    terminated = []
    if stop_ms:
        signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))
    while not terminated:
        if ping_ms:
            notify(b"WATCHDOG=1")
            time.sleep(ping_ms / 1000)
        else:
            signal.pause()
    time.sleep(int(stop_ms) / 1000)  # finishing its work: no more pings
    os._exit(0)


def main():
    fds = listen_fds()
    if os.environ.get("SD_SERVER_EXTEND_USEC"):
        notify(b"EXTEND_TIMEOUT_USEC=" + os.environ["SD_SERVER_EXTEND_USEC"].encode())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if os.environ.get("SD_SERVER_SOCKETLESS"):
        if not os.environ.get("SD_SERVER_NO_READY"):
            notify(b"READY=1\nSTATUS=no sockets")
        return run_socketless()
    if not fds:
        print("sd_server: no sockets passed (LISTEN_FDS/LISTEN_PID)", file=sys.stderr)
        return 2
    sockets = []
    for fd in fds:
        s = socket.socket(fileno=fd)
        sockets.append((fd, s, describe(s)))
    if not os.environ.get("SD_SERVER_NO_READY"):
        message = "READY=1"
        if os.environ.get("SD_SERVER_STATUS"):
            message += "\nSTATUS=" + os.environ["SD_SERVER_STATUS"]
        notify(message.encode())
    print(f"sd_server {os.getpid()} serving fds {fds}", flush=True)
    threads = [threading.Thread(target=serve, args=(s, sockets), daemon=True)
               for _, s, _ in sockets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
