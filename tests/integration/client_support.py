"""What node_support.py and systemd_support.py share: the [sockets.NAME]
table, the bound sockets in status, waiting for events, and HTTP clients for
TCP (IPv4 and IPv6) and unix sockets served through musterd. Both modules
re-export these names, so tests use them as ns.* or sd.*.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import concurrent.futures
import socket
import threading
import time

import harness


def socket_table(name, listen="127.0.0.1:0", **keys):
    """A [sockets.NAME] table (default: an ephemeral port on 127.0.0.1)."""
    return harness.toml_table(f"sockets.{name}", {"listen": listen, **keys})


# --- status and events -------------------------------------------------------

def socket_status(d, name):
    return d.status_entry("sockets", name)


def bound_port(d, name):
    """The port the daemon bound for socket NAME (status `sockets[].bound`)."""
    return int(socket_status(d, name)["bound"].rsplit(":", 1)[1])


def wait_event(d, timeout=10, where=None, **match):
    """The first recent event whose fields equal `match` (and for which
    `where(event)` is true), waiting for it up to `timeout` seconds."""
    def found():
        hits = [e for e in d.events(**match) if where is None or where(e)]
        return hits[0] if hits else None
    return d.wait_for(found, timeout, f"an event like {match}")


# --- HTTP clients ------------------------------------------------------------

def connect(target, timeout=5):
    """A client connection to `target`: a port (int) on 127.0.0.1, a
    (host, port) pair (IPv4 or IPv6), or a unix socket path (str)."""
    if isinstance(target, int):
        target = ("127.0.0.1", target)
    if isinstance(target, tuple):
        return socket.create_connection(target, timeout=timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(target)
    except BaseException:
        s.close()
        raise
    return s


def request_bytes(path="/", body=None):
    """A GET (or, with `body`, a POST) with `Connection: close`."""
    if body is None:
        return f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
    return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def read_all(sock):
    """Everything until EOF (a reset ends it too)."""
    return harness.recv_until_eof(sock)


def parse_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionError(f"no complete HTTP response: {data[:200]!r}")
    return int(head.split(None, 2)[1]), body.decode()


def read_response(sock, buf):
    """One HTTP response (framed by Content-Length) from SOCK, BUF holding what
    was read before: ((status, body), what is left over)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed mid-response: {buf[:200]!r}")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, _, v in
                   (line.partition(":") for line in lines[1:]))
    length = int(headers["content-length"])
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed mid-body")
        buf += chunk
    return (int(lines[0].split()[1]), buf[:length].decode()), buf[length:]


def http_request(target, path="/", body=None, timeout=5):
    """One request on a new connection to `target` (see connect): (status, body)."""
    with connect(target, timeout) as s:
        s.sendall(request_bytes(path, body))
        return parse_response(read_all(s))


def get_many(target, count, concurrency=8, timeout=10):
    """`count` GETs, `concurrency` at a time; a list of (status, body) or the
    exception each one raised, in request order."""
    def one(_):
        try:
            return http_request(target, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            return e
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(count)))


def answered(results):
    """The bodies of the 200 answers in `results`."""
    return [r[1] for r in results if isinstance(r, tuple) and r[0] == 200]


def failures(results):
    return [r for r in results if not (isinstance(r, tuple) and r[0] == 200)]


def ok(outcome):
    """Whether a request's outcome (see http_request) is a 200 answer."""
    return isinstance(outcome, tuple) and outcome[0] == 200


class Load:
    """`threads` client threads, each making one GET after another (a new
    connection each, `Connection: close`), `pause` seconds apart, until
    stopped. Every request's outcome is kept: (start, end, (status, body) or
    the exception)."""

    def __init__(self, test, target, threads=4, timeout=5, pause=0.0):
        self.target, self.timeout, self.pause = target, timeout, pause
        self.results = []  # appended by the threads (atomic under the GIL)
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(threads)
        self._futures = [self._pool.submit(self._client) for _ in range(threads)]
        test.addCleanup(self.stop)

    def _client(self):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                outcome = http_request(self.target, timeout=self.timeout)
            except Exception as e:  # noqa: BLE001 - counted as a failure
                outcome = e
            self.results.append((start, time.monotonic(), outcome))
            if self.pause:
                time.sleep(self.pause)

    def answered(self):
        return sum(1 for _, _, r in list(self.results) if ok(r))

    def wait_answered(self, count, timeout=10):
        """Waits until at least `count` requests in all were answered."""
        harness.Poll.until(lambda: self.answered() >= count, timeout,
                           f"{count} answered requests", self._describe)

    def _describe(self):
        return f"\n{len(self.results)} requests, failures: {self.failures()[:5]}"

    def failures(self):
        return [(round(s, 3), r) for s, _, r in list(self.results) if not ok(r)]

    def stop(self):
        """Stops the clients (each finishes its request in flight); returns
        every outcome."""
        self._stop.set()
        for f in self._futures:
            f.result(timeout=self.timeout + 5)
        self._pool.shutdown()
        return list(self.results)


class KeepAliveLoad(Load):
    """Like Load, but each thread sends its GETs on one HTTP/1.1 keep-alive
    connection, `per_connection` requests before it opens the next one (so
    new connections keep coming too). Each request's outcome is kept as in
    Load; a connection that fails ends with its failure recorded."""

    def __init__(self, test, target, threads=2, timeout=5, pause=0.0, per_connection=50):
        self.per_connection = per_connection
        super().__init__(test, target, threads, timeout, pause)

    def _client(self):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                with connect(self.target, self.timeout) as s:
                    self._session(s)
            except Exception as e:  # noqa: BLE001 - counted as a failure
                self.results.append((start, time.monotonic(), e))

    def _session(self, s):
        buf = b""
        for _ in range(self.per_connection):
            if self._stop.is_set():
                return
            start = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            outcome, buf = read_response(s, buf)
            self.results.append((start, time.monotonic(), outcome))
            if self.pause:
                time.sleep(self.pause)


class OpenClients:
    """`count` client connections, each with a request sent at once and read
    later: for connections that wait (held by musterd, or in a kernel queue)
    while no worker takes them."""

    def __init__(self, target, count, path="/", timeout=10):
        self.socks = []
        try:
            for _ in range(count):
                s = connect(target, timeout)
                self.socks.append(s)
                s.sendall(request_bytes(path))
        except BaseException:
            self.close()
            raise

    def close(self):
        for s in self.socks:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def results(self, deadline_s=10):
        """Reads every connection to its end, all within `deadline_s`: a list
        of (status, body) or the exception each one ended with."""
        deadline = time.monotonic() + deadline_s
        out = []
        for s in self.socks:
            try:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                out.append(parse_response(read_all(s)))
            except Exception as e:  # noqa: BLE001 - reported by the caller
                out.append(e)
        return out
