"""Helpers for the Node-protocol integration tests (test_node_*.py): running the
cluster scripts in node_workers/ under musterd, HTTP clients, and events.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import concurrent.futures
import os
import shutil
import socket
import time

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS_DIR = os.path.join(HERE, "node_workers")
NODE = shutil.which("node")


def script(name):
    """The absolute path of a script in node_workers/."""
    return os.path.join(WORKERS_DIR, name)


def node_app(name, script_name, **keys):
    """An [apps.NAME] table running node_workers/SCRIPT with protocol = "node"."""
    keys.setdefault("protocol", "node")
    return harness.app(name, NODE, args=[script(script_name)], **keys)


def socket_table(name, listen="127.0.0.1:0", **keys):
    """A [sockets.NAME] table (default: an ephemeral port on 127.0.0.1)."""
    return harness.toml_table(f"sockets.{name}", {"listen": listen, **keys})


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestCase(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing node is an error, not a skip: a green run must mean tested.
        if not NODE:
            raise RuntimeError("node is not on PATH (scripts/setup-deps installs it)")


# --- status and events -------------------------------------------------------

def socket_status(d, name):
    for s in d.status()["sockets"]:
        if s["name"] == name:
            return s
    raise AssertionError(f"no socket {name!r} in status")


def bound_port(d, name):
    """The port the daemon bound for socket NAME (status `sockets[].bound`)."""
    return int(socket_status(d, name)["bound"].rsplit(":", 1)[1])


def events(d, **match):
    """Recent events (oldest first) whose fields equal `match`."""
    reply = d.request({"verb": "events"})
    assert reply.get("ok"), f"events failed: {reply}"
    return [e for e in reply["events"] if all(e.get(k) == v for k, v in match.items())]


def messages(d, app=None, key=None):
    """Payloads of `message` events (of APP), oldest first; with `key`, only
    dict payloads that have that key."""
    match = {"event": "message"}
    if app is not None:
        match["app"] = app
    out = [e["message"] for e in events(d, **match)]
    if key is not None:
        out = [m for m in out if isinstance(m, dict) and key in m]
    return out


def wait_event(d, timeout=10, where=None, **match):
    """The first recent event whose fields equal `match` (and for which
    `where(event)` is true), waiting for it up to `timeout` seconds."""
    def found():
        hits = [e for e in events(d, **match) if where is None or where(e)]
        return hits[0] if hits else None
    return d.wait_for(found, timeout, f"an event like {match}")


def wait_messages(d, key, count, app=None, timeout=10):
    """Waits for at least `count` message payloads with `key`; returns them all."""
    def enough():
        got = messages(d, app, key)
        return got if len(got) >= count else None
    return d.wait_for(enough, timeout, f"{count} message(s) with {key!r}")


def wait_listening(d, app, count, timeout=15):
    """Waits until APP has `count` workers in state listening; returns them."""
    return d.wait_workers(app, count, timeout=timeout, state="listening")


# --- HTTP clients ------------------------------------------------------------

def connect(target, timeout=5):
    """A client connection to 127.0.0.1:PORT (an int) or a unix socket path."""
    if isinstance(target, int):
        return socket.create_connection(("127.0.0.1", target), timeout=timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(target)
    except BaseException:
        s.close()
        raise
    return s


def http_request(target, path="/", timeout=5):
    """One GET with `Connection: close` on a new connection to `target` (a
    port on 127.0.0.1, or a unix socket path): (status, body)."""
    with connect(target, timeout) as s:
        s.sendall(request_bytes(path))
        return parse_response(read_all(s))


def request_bytes(path="/"):
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()


def read_all(sock):
    """Everything until EOF (a reset ends it too)."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def parse_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionError(f"no complete HTTP response: {data[:200]!r}")
    return int(head.split(None, 2)[1]), body.decode()


def worker_of(body):
    """The worker id in a hello.js response body ("hello from worker N")."""
    prefix = "hello from worker "
    assert body.startswith(prefix), f"not a hello response: {body!r}"
    return int(body[len(prefix):].strip())


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


def hold_a_connection(test, d, target, worker_id=None):
    """A client whose request (GET /hold, to hello.js) its worker keeps
    unanswered; returns (client socket, id of the worker holding it) once that
    worker reports it. With `worker_id`, connections are opened until that
    worker holds one. The socket is closed at the test's cleanup."""
    for _ in range(10):
        s = connect(target, 10)
        test.addCleanup(s.close)
        count = len(messages(d, None, "held"))
        s.sendall(request_bytes("/hold"))
        holder = wait_messages(d, "held", count + 1)[-1]["worker"]
        if worker_id is None or holder == worker_id:
            return s, holder
    raise AssertionError(f"worker {worker_id} was never handed a connection")


class HeldClients:
    """K client connections, each with a request sent, read later: for
    connections that wait in the daemon while no worker can take them."""

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
