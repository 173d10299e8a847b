"""The worker libraries against a fake Node cluster primary (lib_fake_primary.py).

The same contract runs against three workers: a real Node v20 cluster worker
(which shows the fake primary is faithful), examples/workers/hello_http.cc on
include/muster/worker.hpp (compiled here with g++), and
examples/workers/hello_http.py on python/muster_worker.py; each in round-robin
and shared-handle mode. Real HTTP requests go to each worker.

    python3 -m unittest -v lib_fake_primary_test      (from tests/workers/)
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from lib_fake_primary import NODE_WORKER_JS, FakePrimary  # noqa: E402

TMP = None
CPP_WORKER = None
CPP_RUN_WORKER = None
NODE_WORKER = None


def compile_cpp(sources):
    """Compiles {name: source} in parallel into TMP (warnings are errors); returns {name: path}."""
    jobs = {name: subprocess.Popen(["g++", "-std=c++20", "-Wall", "-Wextra", "-Werror", "-O1",
                                    "-I" + os.path.join(ROOT, "include"), src, "-o", os.path.join(TMP, name)])
            for name, src in sources.items()}
    for name, job in jobs.items():
        if job.wait(timeout=180) != 0:
            raise RuntimeError(f"compiling {sources[name]} failed")
    return {name: os.path.join(TMP, name) for name in sources}


def setUpModule():
    global TMP, CPP_WORKER, CPP_RUN_WORKER, NODE_WORKER
    TMP = tempfile.mkdtemp(prefix="muster-lib-test-")
    if shutil.which("g++"):
        built = compile_cpp({"muster-hello": os.path.join(ROOT, "examples", "workers", "hello_http.cc"),
                             "lib_run_worker": os.path.join(HERE, "lib_run_worker.cc")})
        CPP_WORKER, CPP_RUN_WORKER = built["muster-hello"], built["lib_run_worker"]
    if shutil.which("node"):
        NODE_WORKER = os.path.join(TMP, "worker.js")
        with open(NODE_WORKER, "w") as f:
            f.write(NODE_WORKER_JS)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def http_get(port, headers=None, conn=None):
    """One GET; returns (status, body, response headers). Reuses conn if given."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/", headers=headers or {})
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r.status, body, dict(r.getheaders())


def raw_exchange(port, request):
    """Sends raw bytes, reads until the server closes; returns everything read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def read_response(s):
    """One HTTP response (Content-Length framed) from a raw socket: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(rest) < length:
        rest += s.recv(65536)
    return head.decode("latin-1"), rest[:length]


class Spawning:
    """Runs a worker under a fake primary. Subclasses set KIND and MODE."""

    KIND = None
    MODE = None
    BODY = b"Hello from worker 7\n"

    def argv(self):
        if self.KIND == "node":
            return ["node", NODE_WORKER]
        if self.KIND == "cpp":
            return [CPP_WORKER]
        if self.KIND == "cpp-run":
            return [CPP_RUN_WORKER]
        if self.KIND == "python-run":
            return [sys.executable, os.path.join(HERE, "lib_run_worker.py")]
        return [sys.executable, os.path.join(ROOT, "examples", "workers", "hello_http.py")]

    def setUp(self):
        if self.KIND == "node" and not NODE_WORKER:
            self.skipTest("node is not installed")
        if self.KIND.startswith("cpp") and not CPP_WORKER:
            self.skipTest("g++ is not installed")

    def spawn(self, mode=None):
        """Starts a worker under a fake primary; waits until it listens (unless mode is 'error')."""
        errlog = tempfile.TemporaryFile(dir=TMP)
        p = FakePrimary(self.argv(), mode=mode or self.MODE).start(stderr=errlog)
        self.addCleanup(errlog.close)
        self.addCleanup(p.stop)
        self.addCleanup(lambda: self._show_stderr(errlog))
        if (mode or self.MODE) != "error":
            p.wait_act("listening")
        return p

    def _show_stderr(self, f):
        f.seek(0)
        text = f.read().decode(errors="replace").strip()
        if text and self._outcome_failed():
            print(f"\n--- worker stderr ---\n{text}\n---", file=sys.stderr)

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        errors = getattr(getattr(outcome, "result", None), "errors", []) + \
            getattr(getattr(outcome, "result", None), "failures", [])
        return any(t is self for t, _ in errors)

    def assertRulesKept(self, p):
        self.assertEqual(p.check_rules(), [])


class WorkerContract(Spawning):
    """What every worker must do with a Node cluster primary."""

    def test_announces_online_then_asks_for_its_socket_then_listens(self):
        p = self.spawn()
        acts = [m.get("act") for m in p.messages if m.get("cmd") == "NODE_CLUSTER"]
        self.assertEqual(acts[:3], ["online", "queryServer", "listening"])
        q = p.wait_act("queryServer")
        self.assertEqual((q["address"], q["port"], q["addressType"], q["index"], q["data"]),
                         ("127.0.0.1", p.port, 4, 0, None))
        self.assertIn("backlog", q)
        listening = p.wait_act("listening")
        self.assertEqual((listening["port"], listening["addressType"]), (p.port, 4))
        self.assertRulesKept(p)

    def test_serves_concurrent_keep_alive_and_closing_connections(self):
        p = self.spawn()
        results, errors = [], []

        def client():
            try:
                c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
                for _ in range(5):
                    results.append(http_get(p.port, conn=c)[:2])
                status, body, headers = http_get(p.port, {"Connection": "close"}, conn=c)
                results.append((status, body))
                self.assertEqual(headers.get("Connection", "").lower(), "close")
                c.close()
            except Exception as e:  # reported below, in the test's thread
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(results, [(200, self.BODY)] * 120)
        reply = raw_exchange(p.port, b"GET / HTTP/1.0\r\n\r\n")  # 1.0: the server closes
        self.assertTrue(reply.startswith(b"HTTP/1.1 200") and reply.endswith(self.BODY), reply)
        if self.MODE == "rr":
            deadline = time.monotonic() + 10
            while len(p.newconn_answers) < 21 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(p.newconns_sent, 21)
            self.assertEqual(list(p.newconn_answers.values()), [True] * 21)
        self.assertRulesKept(p)

    def test_user_messages_go_both_ways(self):
        p = self.spawn()
        for m in [{"hello": "w\u00f6rld \u2713 \"quoted\"\n", "n": [1, 2.5, None, True]}, "text", 42, [{}]]:
            p.send(m)
            echo = p.wait_for(lambda x, m=m: isinstance(x, dict) and x.get("echo") == m, what=f"echo of {m!r}")
            self.assertEqual(echo, {"echo": m})
        self.assertRulesKept(p)

    def test_primary_disconnect_closes_the_server_and_the_channel_then_the_worker_exits_0(self):
        p = self.spawn()
        self.assertEqual(http_get(p.port)[:2], (200, self.BODY))
        p.disconnect()
        close = p.wait_act("close")
        self.assertEqual(close["key"], f"127.0.0.1:{p.port}:4::0")
        p.wait_closed()
        self.assertEqual(p.wait_exit(), 0)
        self.assertRulesKept(p)

    def test_a_request_in_flight_at_disconnect_is_answered_before_the_worker_exits(self):
        p = self.spawn()
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # the worker surely holds this connection now
            self.assertEqual(read_response(s)[1], self.BODY)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # half a request
            p.disconnect()
            p.wait_act("close")
            s.sendall(b"\r\n")
            head, body = read_response(s)
            self.assertTrue(head.startswith("HTTP/1.1 200"), head)
            self.assertEqual(body, self.BODY)
        p.wait_closed()
        self.assertEqual(p.wait_exit(), 0)
        self.assertRulesKept(p)

    def test_worker_initiated_disconnect_waits_for_the_primarys_ack(self):
        p = self.spawn()
        p.send("disconnect")
        close = p.wait_act("close")
        leave = p.wait_act("exitedAfterDisconnect")
        self.assertGreater(leave["seq"], close["seq"])
        p.wait_closed()
        self.assertEqual(p.wait_exit(), 0)
        acks = [m for m in p.messages if m.get("cmd") == "NODE_CLUSTER" and "ack" in m and "accepted" not in m]
        self.assertEqual(acks, [])  # the worker acks nothing here; the primary acks it
        self.assertRulesKept(p)

    def test_the_primary_going_away_ends_the_worker_with_status_0(self):
        p = self.spawn()
        p.close_channel()
        self.assertEqual(p.wait_exit(), 0)

    def test_a_bind_error_makes_listen_fail(self):
        p = self.spawn(mode="error")
        self.assertEqual(p.wait_exit(), 1)
        self.assertFalse([m for m in p.messages if m.get("act") == "listening"])
        self.assertRulesKept(p)


class LibraryExtras:
    """What our libraries promise beyond Node's behaviour (framing and robustness)."""

    def test_messages_split_byte_by_byte_and_packed_together_arrive_whole(self):
        p = self.spawn()
        data = json.dumps({"a": "\u00e9\u4e2d\U0001F600"}, ensure_ascii=False).encode() + b"\n"
        for i in range(len(data)):
            p.send_bytes(data[i:i + 1])
        p.send_bytes(b'"one"\n"two"\n["three"]\n')
        for m in [{"a": "\u00e9\u4e2d\U0001F600"}, "one", "two", ["three"]]:
            p.wait_for(lambda x, m=m: isinstance(x, dict) and x.get("echo") == m, what=f"echo of {m!r}")
        self.assertRulesKept(p)

    def test_a_handle_without_its_fd_is_nacked_and_an_unknown_key_refused(self):
        p = self.spawn()
        p.send({"cmd": "NODE_HANDLE", "type": "net.Native",
                "msg": {"cmd": "NODE_CLUSTER", "act": "newconn", "key": "nope", "seq": 1000}})
        p.wait_for(lambda m: m.get("cmd") == "NODE_HANDLE_NACK", what="NACK")
        a, b = socket.socketpair()
        b.close()
        p.send_bytes(b'{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"cmd":"NODE_CLUSTER","act":"newconn",'
                     b'"key":"nope","seq":1001}}\n', fd=a.fileno())
        a.close()
        answer = p.wait_for(lambda m: m.get("ack") == 1001, what="newconn answer")
        self.assertIs(answer["accepted"], False)
        self.assertEqual(http_get(p.port)[:2], (200, self.BODY))  # still serving

    def test_an_oversized_line_is_a_protocol_error(self):
        p = self.spawn()
        try:
            p.send_bytes(b" " * ((1 << 20) + 100))
        except OSError:
            pass  # the worker may close first
        self.assertEqual(p.wait_exit(), 1)

    def test_invalid_json_is_a_protocol_error(self):
        p = self.spawn()
        p.send_bytes(b"{not json}\n")
        self.assertEqual(p.wait_exit(), 1)


class RunLoop(Spawning):
    """Worker::run() / Worker.run(): the libraries' own loop, for the simplest workers."""

    def test_run_serves_connections_and_messages_and_returns_on_disconnect(self):
        p = self.spawn()
        body = b"run() worker 7\n"
        for _ in range(5):
            self.assertEqual(raw_exchange(p.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").split(b"\r\n\r\n", 1)[1], body)
        replies = []
        threads = [threading.Thread(target=lambda: replies.append(raw_exchange(p.port, b"GET / HTTP/1.0\r\n\r\n")))
                   for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual([r.split(b"\r\n\r\n", 1)[1] for r in replies], [body] * 10)
        p.send({"n": 1})
        p.wait_for(lambda m: m == {"echo": {"n": 1}}, what="echo")
        p.disconnect()
        p.wait_act("close")
        p.wait_closed()
        self.assertEqual(p.wait_exit(), 0)
        self.assertRulesKept(p)


class CppRunRoundRobin(RunLoop, unittest.TestCase):
    KIND, MODE = "cpp-run", "rr"


class CppRunShared(RunLoop, unittest.TestCase):
    KIND, MODE = "cpp-run", "shared"


class PythonRunRoundRobin(RunLoop, unittest.TestCase):
    KIND, MODE = "python-run", "rr"


class PythonRunShared(RunLoop, unittest.TestCase):
    KIND, MODE = "python-run", "shared"


class NodeRoundRobin(WorkerContract, unittest.TestCase):
    KIND, MODE = "node", "rr"


class NodeShared(WorkerContract, unittest.TestCase):
    KIND, MODE = "node", "shared"


class CppRoundRobin(WorkerContract, LibraryExtras, unittest.TestCase):
    KIND, MODE = "cpp", "rr"


class CppShared(WorkerContract, LibraryExtras, unittest.TestCase):
    KIND, MODE = "cpp", "shared"


class PythonRoundRobin(WorkerContract, LibraryExtras, unittest.TestCase):
    KIND, MODE = "python", "rr"


class PythonShared(WorkerContract, LibraryExtras, unittest.TestCase):
    KIND, MODE = "python", "shared"


if __name__ == "__main__":
    unittest.main()
