"""muster's worker libraries end to end under the real musterd (protocol = "node"):
the C++ header (include/muster/worker.hpp, through build/muster-hello and
build/lib_run_worker) and the Python module (python/muster_worker.py, through
examples/workers/hello_http.py and lib_workers/greeter.py). HTTP under
round-robin and shared scheduling, messages both ways, `musterctl disconnect`,
a worker leaving on its own, and a worker started outside musterd."""

import collections
import concurrent.futures
import json
import os
import socket
import subprocess
import unittest

import harness
import node_support as ns
from node_support import socket_table

REPO = os.path.abspath(os.path.join(harness.HERE, "..", ".."))
HELLO_CC = os.path.join(harness.BUILD_DIR, "muster-hello")
RUN_WORKER_CC = os.path.join(harness.BUILD_DIR, "lib_run_worker")
HELLO_PY = os.path.join(REPO, "examples", "workers", "hello_http.py")
GREETER_PY = os.path.join(harness.HERE, "lib_workers", "greeter.py")

CLOSE_REQUESTS = 60          # one request per connection, Connection: close
KEEP_ALIVE_CONNECTIONS = 4   # each carries KEEP_ALIVE_REQUESTS requests
KEEP_ALIVE_REQUESTS = 10     # 60 + 4 * 10 = 100 requests in all


class TestCase(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing worker is an error, not a skip: a green run must mean tested.
        for exe in (HELLO_CC, RUN_WORKER_CC):
            if not os.access(exe, os.X_OK):
                raise RuntimeError(f"{exe} is not built (set MUSTER_BUILD_DIR)")


def hello_command(lang, port):
    """(exec, args) of the hello worker in LANG ("cc" or "py") on 127.0.0.1:PORT."""
    if lang == "cc":
        return HELLO_CC, [str(port), "127.0.0.1"]
    return harness.PYTHON, [HELLO_PY, str(port), "127.0.0.1"]


def start_hello(test, lang, instances=2, scheduling="rr", **keys):
    """A daemon running the LANG hello worker on a declared socket on a free port;
    returns (daemon, port, workers) once every worker listens."""
    d = test.daemon()
    port = ns.free_port()
    exe, args = hello_command(lang, port)
    d.start(socket_table("web", f"127.0.0.1:{port}") +
            harness.app("web", exe, args=args, protocol="node", instances=instances,
                        sockets=["web"], scheduling=scheduling, **keys))
    return d, port, ns.wait_listening(d, "web", instances)


def hello_worker(body):
    """The worker id in a hello response body ("Hello from worker N\\n")."""
    prefix = "Hello from worker "
    assert body.startswith(prefix) and body.endswith("\n"), f"not a hello response: {body!r}"
    return int(body[len(prefix):-1])


def keep_alive_session(port, count, timeout=10):
    """COUNT requests one after another on one HTTP/1.1 keep-alive connection:
    the list of (status, body)."""
    out, buf = [], b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        for _ in range(count):
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            response, buf = ns.read_response(s, buf)
            out.append(response)
    return out


def mixed_load(port):
    """CLOSE_REQUESTS Connection: close requests, 8 at a time, alongside
    KEEP_ALIVE_CONNECTIONS keep-alive connections: (list of per-connection
    results, failures). A result is the list of (status, body) one connection got."""
    def keep_alive(_):
        try:
            return keep_alive_session(port, KEEP_ALIVE_REQUESTS)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            return e
    with concurrent.futures.ThreadPoolExecutor(KEEP_ALIVE_CONNECTIONS) as pool:
        sessions = pool.map(keep_alive, range(KEEP_ALIVE_CONNECTIONS))
        closes = ns.get_many(port, CLOSE_REQUESTS, concurrency=8)
        sessions = list(sessions)
    connections, failures = [], []
    for r in closes:
        (connections if isinstance(r, tuple) and r[0] == 200 else failures).append(r)
    connections = [[r] for r in connections]
    for s in sessions:
        if isinstance(s, list) and all(status == 200 for status, _ in s):
            connections.append(s)
        else:
            failures.append(s)
    return connections, failures


def answered_by(connections):
    """Counter: worker id -> connections it answered (every response of a
    connection must come from one worker)."""
    served = collections.Counter()
    for responses in connections:
        ids = {hello_worker(body) for _, body in responses}
        assert len(ids) == 1, f"one connection answered by several workers: {responses}"
        served[ids.pop()] += 1
    return served


def total_requests(connections):
    return sum(len(c) for c in connections)


class CppHello(TestCase):
    def test_round_robin_answers_every_request_from_both_workers_and_counts_connections(self):
        d, port, workers = start_hello(self, "cc")
        self.assertEqual([w["connections"] for w in workers], [0, 0])
        connections, failures = mixed_load(port)
        self.assertEqual(failures, [])
        self.assertEqual(total_requests(connections),
                         CLOSE_REQUESTS + KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS)
        served = answered_by(connections)
        self.assertEqual(set(served), {w["id"] for w in workers}, f"per-worker share {served}")
        # A worker acks its newconn before serving it; the ack may reach the
        # daemon a moment after the client's response.
        d.wait_for(lambda: {w["id"]: w["connections"] for w in d.workers("web")} == served,
                   5, f"status connections to equal the per-worker share {dict(served)}")

    def test_shared_scheduling_answers_every_request(self):
        d, port, _ = start_hello(self, "cc", scheduling="none")
        self.assertEqual(d.app_status("web")["scheduling"], "none")
        connections, failures = mixed_load(port)
        self.assertEqual(failures, [])
        self.assertEqual(total_requests(connections),
                         CLOSE_REQUESTS + KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS)
        answered_by(connections)  # every body is a hello, one worker per connection

    def test_the_run_loop_worker_answers_under_round_robin(self):
        # lib_run_worker: Worker::run() drives the channel, no loop of its own.
        d = self.daemon()
        port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{port}") +
                harness.app("web", RUN_WORKER_CC, protocol="node", instances=2,
                            sockets=["web"], scheduling="rr", env={"PORT": str(port)}))
        workers = ns.wait_listening(d, "web", 2)
        results = ns.get_many(port, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        prefix = "run() worker "
        ids = {int(body[len(prefix):]) for body in ns.answered(results)
               if body.startswith(prefix)}
        self.assertEqual(ids, {w["id"] for w in workers}, ns.answered(results))


class PythonHello(TestCase):
    def test_round_robin_answers_every_request_from_both_workers(self):
        d, port, workers = start_hello(self, "py")
        connections, failures = mixed_load(port)
        self.assertEqual(failures, [])
        self.assertEqual(total_requests(connections),
                         CLOSE_REQUESTS + KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS)
        served = answered_by(connections)
        self.assertEqual(set(served), {w["id"] for w in workers}, f"per-worker share {served}")

    def test_shared_scheduling_answers_every_request(self):
        d, port, _ = start_hello(self, "py", scheduling="none")
        self.assertEqual(d.app_status("web")["scheduling"], "none")
        connections, failures = mixed_load(port)
        self.assertEqual(failures, [])
        self.assertEqual(total_requests(connections),
                         CLOSE_REQUESTS + KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS)
        answered_by(connections)


class Messages(TestCase):
    def check_echo(self, lang):
        d, _, (a, b) = start_hello(self, lang)
        rc, out, err = d.ctl("send", a["id"], '{"x":1}')
        self.assertEqual((rc, out), (0, "sent to 1 worker(s)\n"), err)
        event = ns.wait_event(d, event="message", app="web")
        self.assertEqual(event["message"], {"echo": {"x": 1}})
        self.assertEqual((event["id"], event["pid"]), (a["id"], a["pid"]))

    def test_send_to_the_cpp_worker_comes_back_as_a_message_event(self):
        self.check_echo("cc")

    def test_send_to_the_python_worker_comes_back_as_a_message_event(self):
        self.check_echo("py")

    def test_a_message_the_python_worker_sends_unasked_becomes_a_message_event(self):
        greetings = [{"greeting": "héllo ✓", "n": [1, 2.5, None, True]}, "plain", 42, None]
        d = self.daemon()
        d.start(harness.app("greeter", harness.PYTHON, args=[GREETER_PY], protocol="node",
                            env={"GREETINGS": json.dumps(greetings)}))
        (w,) = d.wait_workers("greeter", 1)

        def all_greetings():
            got = ns.events(d, event="message", app="greeter")
            return got if len(got) >= len(greetings) else None
        got = d.wait_for(all_greetings, 10, "the greetings")
        self.assertEqual([e["message"] for e in got], greetings)
        self.assertEqual({(e["id"], e["pid"]) for e in got}, {(w["id"], w["pid"])})


class Disconnect(TestCase):
    def check_operator_disconnect(self, lang):
        d, port, (w,) = start_hello(self, lang, instances=1, restart="always")
        rc, out, err = d.ctl("disconnect", w["id"])
        self.assertEqual(rc, 0, err)
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]), (0, None, True), gone)
        (new,) = ns.wait_listening(d, "web", 1)
        self.assertGreater(new["id"], w["id"])
        self.assertEqual(new["instance"], w["instance"])
        self.assertEqual(d.app_status("web")["restarts"], 0, "a voluntary exit is no crash")
        self.assertEqual(ns.http_request(port), (200, f"Hello from worker {new['id']}\n"))

    def test_disconnecting_the_cpp_worker_is_a_voluntary_exit_and_its_slot_is_refilled(self):
        self.check_operator_disconnect("cc")

    def test_disconnecting_the_python_worker_is_a_voluntary_exit_and_its_slot_is_refilled(self):
        self.check_operator_disconnect("py")

    def check_own_disconnect(self, lang):
        # The hello workers call disconnect() on the message "disconnect"; a
        # long stop_timeout shows they leave on their own.
        d, _, (w,) = start_hello(self, lang, instances=1, restart="on-failure",
                                 stop_timeout="10s")
        self.assertEqual(d.ctl("send", w["id"], '"disconnect"')[0], 0)
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"], timeout=5)
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]), (0, None, True), gone)
        d.holds(lambda: d.workers("web") == [], 0.3, "no refill of a voluntary exit")

    def test_the_cpp_worker_disconnecting_itself_is_a_voluntary_exit(self):
        self.check_own_disconnect("cc")

    def test_the_python_worker_disconnecting_itself_is_a_voluntary_exit(self):
        self.check_own_disconnect("py")


class OutsideMusterd(TestCase):
    def check_alone(self, lang, name):
        port = ns.free_port()
        exe, args = hello_command(lang, port)
        env = {k: v for k, v in os.environ.items()
               if k not in ("NODE_CHANNEL_FD", "NODE_UNIQUE_ID")}
        r = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{name}: not running under musterd", r.stderr)
        self.assertIn("NODE_CHANNEL_FD", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_the_cpp_worker_started_alone_explains_and_exits_2(self):
        self.check_alone("cc", "muster-hello")

    def test_the_python_worker_started_alone_explains_and_exits_2(self):
        self.check_alone("py", "hello_http.py")


if __name__ == "__main__":
    unittest.main()
