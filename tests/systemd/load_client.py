"""A client that keeps a service busy and counts how each request ended, for
the restart and upgrade checks (run in the container's network namespace).

  load_client.py PORT [--slow N] [--pause SECONDS]

One thread makes sequential requests (GET /, Connection: close) as fast as
they are answered; N more keep one slow request each in flight: they send
half of the request, wait PAUSE, send the rest and read the answer, so a
worker is always in the middle of a request when musterd stops. It prints
"started" once the first request was answered, and on SIGTERM (or SIGINT)
finishes the requests in flight and prints one JSON line: the count of each
outcome (ok, refused, reset, closed: the connection ended without an answer,
timeout, bad: an answer other than 200) and the first errors with their time.
"""

import argparse
import json
import signal
import socket
import sys
import threading
import time

REQUEST_HEAD = b"GET / HTTP/1.1\r\nHost: muster-test\r\n"
REQUEST_TAIL = b"Connection: close\r\n\r\n"


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in ("ok", "refused", "reset", "closed", "timeout", "bad")}
        self.slow_ok = 0
        self.errors = []
        self.started = time.monotonic()
        self.first_ok = threading.Event()

    def add(self, outcome, detail="", slow=False):
        with self.lock:
            self.counts[outcome] += 1
            if outcome == "ok":
                self.slow_ok += slow
                self.first_ok.set()
            elif len(self.errors) < 20:
                self.errors.append(f"{time.monotonic() - self.started:.3f}s "
                                   f"{'slow ' if slow else ''}{outcome}: {detail}")


def one_request(port, pause, timeout):
    """(outcome, detail) of one request."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            if pause:
                s.sendall(REQUEST_HEAD)
                time.sleep(pause)
                s.sendall(REQUEST_TAIL)
            else:
                s.sendall(REQUEST_HEAD + REQUEST_TAIL)
            data = b""
            # Not harness.recv_until_eof: a reset must count as one here.
            while chunk := s.recv(65536):
                data += chunk
    except ConnectionRefusedError as e:
        return "refused", str(e)
    except (ConnectionResetError, BrokenPipeError) as e:
        return "reset", str(e)
    except socket.timeout:
        return "timeout", f"no answer within {timeout}s"
    except OSError as e:
        return "reset", repr(e)
    if not data:
        return "closed", "connection closed without an answer"
    status = data.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        return "bad", status.decode(errors="replace")
    return "ok", ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--pause", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    tally = Tally()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def loop(pause, slow):
        while not stop.is_set():
            outcome, detail = one_request(args.port, pause, args.timeout)
            tally.add(outcome, detail, slow)
            if outcome != "ok":
                time.sleep(0.01)  # a refused port must not spin

    threads = [threading.Thread(target=loop, args=(0, False))]
    threads += [threading.Thread(target=loop, args=(args.pause, True)) for _ in range(args.slow)]
    for t in threads:
        t.start()
    while not stop.is_set() and not tally.first_ok.wait(0.1):
        pass
    if tally.first_ok.is_set():
        print("started", flush=True)
    while not stop.wait(0.1):
        pass
    for t in threads:
        t.join()
    print(json.dumps({**tally.counts, "slow_ok": tally.slow_ok, "errors": tally.errors}),
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
