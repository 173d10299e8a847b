#!/usr/bin/env python3
"""A systemd-protocol (socket activation) HTTP worker for bench/fairness.

musterd runs it with protocol = "systemd": the listening socket is fd 3
(LISTEN_FDS=1, LISTEN_PID = our pid), and NOTIFY_SOCKET takes READY=1. Every
request gets "Hello from sd worker <MUSTER_WORKER_ID>\\n" and the connection is
closed after the response (the fairness run sends one request per connection).

Python 3 standard library only. One selector loop; on a readable listening
socket it accepts until EAGAIN (at most 64), as libuv does for Node, so under
scheduling = "none" it competes for connections the way a Node worker does.
SIGTERM: stop accepting, exit once the connections in flight are answered
(bounded by 2 s).
"""

import os
import selectors
import signal
import socket
import sys
import time


def notify(state: str) -> None:
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(state.encode(), addr)


def listening_socket() -> socket.socket:
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        sys.exit("fairness_sd_worker: not socket-activated with one socket "
                 "(LISTEN_PID/LISTEN_FDS)")
    s = socket.socket(fileno=3)
    s.setblocking(False)
    return s


def accept_all(lsock, sel, conns):
    """Accepts until EAGAIN, at most 64 connections (as libuv does)."""
    for _ in range(64):
        try:
            c, _addr = lsock.accept()
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        c.setblocking(False)
        conns[c] = [b"", b""]
        sel.register(c, selectors.EVENT_READ, None)


def serve(s, events, buf, sel, conns, reply):
    """Reads a request, writes `reply`, then closes the connection."""
    try:
        if events & selectors.EVENT_READ and not buf[1]:
            data = s.recv(65536)
            if not data:
                raise ConnectionError
            buf[0] += data
            if b"\r\n\r\n" in buf[0]:
                buf[1] = reply
                sel.modify(s, selectors.EVENT_WRITE, None)
        if events & selectors.EVENT_WRITE and buf[1]:
            n = s.send(buf[1])
            buf[1] = buf[1][n:]
            if not buf[1]:
                raise ConnectionError  # answered: close
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        sel.unregister(s)
        del conns[s]
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        s.close()


def main() -> None:
    body = f"Hello from sd worker {os.environ.get('MUSTER_WORKER_ID', os.getpid())}\n".encode()
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    lsock = listening_socket()
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    conns = {}  # socket -> [inbuf, outbuf]
    stopping = []

    def on_term(_signo, _frame):
        stopping.append(time.monotonic())

    signal.signal(signal.SIGTERM, on_term)
    notify("READY=1")
    accepting = True
    while True:
        if stopping and accepting:
            sel.unregister(lsock)
            lsock.close()
            accepting = False
        if stopping and (not conns or time.monotonic() - stopping[0] > 2):
            return
        for key, events in sel.select(timeout=0.5):
            s = key.fileobj
            if s is lsock:
                accept_all(lsock, sel, conns)
                continue
            buf = conns.get(s)
            if buf is None:
                continue
            serve(s, events, buf, sel, conns, reply)


if __name__ == "__main__":
    main()
