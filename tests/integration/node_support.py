"""Helpers for the Node-protocol integration tests (test_node_*.py): running the
cluster scripts in node_workers/ under musterd, HTTP clients, and events.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import os
import shutil
import socket

import harness
from client_support import (  # noqa: F401 (re-exported for the tests)
    OpenClients, answered, bound_port, connect, failures, get_many, http_request, parse_response,
    read_all, read_response, request_bytes, socket_status, socket_table, wait_event)

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS_DIR = os.path.join(HERE, "node_workers")
# The Node that runs the workers: $MUSTER_NODE (ctest sets it for the runs on
# other Node versions, e.g. 23.9), else `node` on PATH.
NODE = os.environ.get("MUSTER_NODE") or shutil.which("node")


def script(name):
    """The absolute path of a script in node_workers/."""
    return os.path.join(WORKERS_DIR, name)


def node_app(name, script_name, **keys):
    """An [apps.NAME] table running node_workers/SCRIPT with protocol = "node"."""
    keys.setdefault("protocol", "node")
    return harness.app(name, NODE, args=[script(script_name)], **keys)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The start of a protocol = "node" worker that is not Node (a test's Python
# script): send(message); receive() -> the next message, the fds that came
# with it appended to `fds` (exits at EOF); note(name, text), an atomic write
# of ./name. The script goes on from there (an f-string: double its braces).
RAW_WORKER = f"""#!{harness.PYTHON}
import json, os, socket, sys, time
channel = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
buffered, fds = b"", []
def send(message):
    channel.sendall((json.dumps(message) + "\\n").encode())
def receive():
    global buffered
    while b"\\n" not in buffered:
        data, got, _, _ = socket.recv_fds(channel, 65536, 16)
        if not data:
            sys.exit(0)
        buffered += data
        fds.extend(got)
    line, buffered = buffered.split(b"\\n", 1)
    return json.loads(line)
def note(name, text):
    with open(name + ".tmp", "w") as f:
        f.write(text)
    os.rename(name + ".tmp", name)
"""


def socket_fds(pid):
    """How many sockets process `pid` has open."""
    return sum(1 for target in harness.open_fds(pid).values() if target.startswith("socket:"))


class TestCase(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing node is an error, not a skip: a green run must mean tested.
        if not NODE:
            raise RuntimeError("node is not on PATH (scripts/setup-deps installs it)")


# --- status and events -------------------------------------------------------

def events(d, **match):
    """Recent events (oldest first) whose fields equal `match`."""
    return d.events(**match)


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

def worker_of(body):
    """The worker id in a hello.js response body ("hello from worker N")."""
    prefix = "hello from worker "
    assert body.startswith(prefix), f"not a hello response: {body!r}"
    return int(body[len(prefix):].strip())


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
