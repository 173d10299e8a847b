#!/usr/bin/env python3
"""hello_http.py: a small HTTP/1.1 server on muster's Python worker module
(python/muster_worker.py). Every request gets "Hello from worker <id>\\n".

    hello_http.py [PORT [HOST]]      defaults: $PORT or 8000, $HOST or any address

Run it under musterd (protocol = "node"); alone it explains that and exits 2.
One selector loop serves many non-blocking connections, keeps them alive
(HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive") and honours
"Connection: close". User messages are answered with {"echo": msg}; the message
"disconnect" makes the worker leave on its own (Node's cluster.worker.disconnect()).
On disconnect it stops taking connections, answers the requests in flight with
"Connection: close", closes idle connections, and exits 0.
"""

import os
import selectors
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import muster_worker  # noqa: E402

MAX_HEAD = 64 * 1024
FRESH_GRACE = 2.0  # draining: seconds a new connection gets for its first request


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()
        self.close_after = False  # close once `out` is written
        self.served = 0


def response(status, body, close):
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def serve_requests(c, body, draining):
    """Answers every complete request in c.inbuf (pipelining included)."""
    while not c.close_after:
        end = c.inbuf.find(b"\r\n\r\n")
        if end < 0:
            if len(c.inbuf) > MAX_HEAD:
                c.out += response("431 Request Header Fields Too Large", b"", True)
                c.close_after = True
            return
        lines = bytes(c.inbuf[:end]).decode("latin-1").lower().split("\r\n")
        headers = dict(l.split(":", 1) for l in lines[1:] if ":" in l)
        connection = headers.get("connection", "")
        if "http/1.0" in lines[0]:
            keep_alive = "keep-alive" in connection
        else:
            keep_alive = "close" not in connection
        if "transfer-encoding" in headers:
            c.out += response("501 Not Implemented", b"chunked request bodies are not supported\n", True)
            c.close_after = True
            return
        length = int(headers.get("content-length", "0").strip() or 0)
        if len(c.inbuf) < end + 4 + length:
            return  # the body is still coming
        del c.inbuf[:end + 4 + length]
        c.close_after = not keep_alive or draining
        c.out += response("200 OK", body, c.close_after)
        c.served += 1


def pump(c, readable, body, draining):
    """Reads what the peer sent and writes what we can; False = close the connection."""
    if readable:
        eof = False
        while True:
            try:
                data = c.sock.recv(16384)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return False
            if not data:
                eof = True
                break
            c.inbuf += data
        serve_requests(c, body, draining)
        if eof:
            c.close_after = True  # the peer half-closed: answer what it asked, then close
    while c.out:
        try:
            del c.out[:c.sock.send(c.out)]
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
    return not c.close_after


def sync(sel, want):
    """Makes the selector watch exactly `want` (fd -> events)."""
    for fd in [fd for fd in sel.get_map() if fd not in want]:
        sel.unregister(fd)
    for fd, events in want.items():
        key = sel.get_map().get(fd)
        if key is None:
            sel.register(fd, events)
        elif key.events != events:
            sel.modify(fd, events)


def main():
    try:
        w = muster_worker.Worker.from_env()
    except RuntimeError as e:
        print(f"hello_http.py: {e}", file=sys.stderr)
        return 2
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "8000"))
    host = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("HOST", "")
    body = f"Hello from worker {w.id}\n".encode()
    conns = {}  # fd -> Connection
    state = {"draining": False, "since": 0.0}

    def on_disconnect():
        state["draining"], state["since"] = True, time.monotonic()

    def on_message(m):
        if m == "disconnect":
            w.disconnect()
        else:
            w.send({"echo": m})

    w.on_connection(lambda sock: conns.setdefault(sock.fileno(), Connection(sock)))
    w.on_message(on_message)
    w.on_disconnect(on_disconnect)
    w.online()
    try:
        w.listen(host, port)
    except muster_worker.ListenError as e:
        print(f"hello_http.py: {e.strerror}", file=sys.stderr)
        return 1

    sel = selectors.PollSelector()  # poll keeps no kernel state: a reused fd number needs no care
    while w.connected or conns:
        draining = state["draining"]
        if draining:  # idle keep-alive connections go now; new ones get a moment for their request
            late = time.monotonic() - state["since"] > FRESH_GRACE
            for fd, c in list(conns.items()):
                if not c.inbuf and not c.out and (c.served or late):
                    c.sock.close()
                    del conns[fd]
        lib_fds = set(w.watch_fds())
        want = {fd: selectors.EVENT_READ for fd in lib_fds}
        for fd, c in conns.items():
            want[fd] = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
        sync(sel, want)
        for key, events in sel.select(0.25 if draining else None):
            if key.fd in lib_fds:
                w.on_readable(key.fd)
                continue
            c = conns.get(key.fd)
            if c is not None and not pump(c, events & selectors.EVENT_READ, body, state["draining"]):
                c.sock.close()
                del conns[key.fd]
    return 0


if __name__ == "__main__":
    sys.exit(main())
