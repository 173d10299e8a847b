"""Node's disconnect: `musterctl disconnect ID` (the primary's
worker.disconnect()), the worker's own cluster.worker.disconnect(), the
stop_timeout escalation, `musterctl kill ID`, and workers that never answer a
newconn (or ACK a handle) while connections are handed out."""

import json
import os
import time
import unittest

import harness
import node_support as ns
from node_support import node_app, socket_table


def start_hello(test, instances=1, **keys):
    d = test.daemon()
    d.start(socket_table("web") + node_app("web", "hello.js", instances=instances,
                                           sockets=["web"], **keys))
    return d, ns.wait_listening(d, "web", instances)


def hold_a_connection(test, d, worker_id):
    return ns.hold_a_connection(test, d, ns.bound_port(d, "web"), worker_id)[0]


class OperatorDisconnect(ns.TestCase):
    def test_disconnect_makes_the_worker_leave_voluntarily(self):
        d, (w,) = start_hello(self)
        rc, out, err = d.ctl("disconnect", w["id"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, f"disconnecting worker {w['id']} (pid {w['pid']})\n")
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]), (0, None, True))
        self.assertEqual(len(ns.events(d, event="disconnect", id=w["id"])), 1)
        self.assertNotIn("SIGKILL", d.log_text())

    def test_with_restart_always_the_disconnected_workers_slot_is_refilled(self):
        d, (w,) = start_hello(self, restart="always")
        self.assertEqual(d.ctl("disconnect", w["id"])[0], 0)
        ns.wait_event(d, event="exit", app="web", id=w["id"])
        (new,) = ns.wait_listening(d, "web", 1)
        self.assertGreater(new["id"], w["id"])
        self.assertEqual(new["instance"], w["instance"])
        self.assertEqual(d.app_status("web")["restarts"], 0, "a voluntary exit is no crash")
        self.assertEqual(ns.http_request(ns.bound_port(d, "web"))[1],
                         f"hello from worker {new['id']}\n")

    def test_with_restart_on_failure_the_disconnected_worker_is_not_replaced(self):
        d, (w,) = start_hello(self, restart="on-failure")
        self.assertEqual(d.ctl("disconnect", w["id"])[0], 0)
        ns.wait_event(d, event="exit", app="web", id=w["id"])
        d.holds(lambda: d.workers("web") == [], 0.5, "the slot to stay empty")
        self.assertEqual(d.app_status("web")["state"], "running")
        self.assertEqual(ns.events(d, event="restart"), [])

    def test_disconnect_with_an_open_connection_escalates_to_sigkill_after_stop_timeout(self):
        d, (w,) = start_hello(self, stop_timeout="1s")
        client = hold_a_connection(self, d, w["id"])
        began = time.monotonic()
        self.assertEqual(d.ctl("disconnect", w["id"])[0], 0)
        self.assertEqual(d.workers("web")[0]["state"], "disconnecting")
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        took = time.monotonic() - began
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]),
                         (None, "SIGKILL", True))
        self.assertGreaterEqual(took, 0.9, "SIGKILL must wait for stop_timeout")
        self.assertLess(took, 5)
        # The held connection died with the worker.
        client.settimeout(5)
        self.assertEqual(ns.read_all(client), b"")

    def test_a_disconnecting_worker_is_given_no_new_connections(self):
        d, (a, b) = start_hello(self, instances=2, stop_timeout="2s")
        hold_a_connection(self, d, a["id"])
        self.assertEqual(d.ctl("disconnect", a["id"])[0], 0)
        results = ns.get_many(ns.bound_port(d, "web"), 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual({ns.worker_of(body) for body in ns.answered(results)}, {b["id"]})
        self.assertEqual({w["id"]: w["state"] for w in d.workers("web")}[a["id"]],
                         "disconnecting")


class OperatorKill(ns.TestCase):
    def test_kill_id_ends_the_worker_and_its_slot_is_refilled_at_once(self):
        d, (w,) = start_hello(self, restart="always", restart_delay="10s")
        rc, _, err = d.ctl("kill", w["id"])
        self.assertEqual(rc, 0, err)
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]),
                         (None, "SIGTERM", True))
        (new,) = ns.wait_listening(d, "web", 1, timeout=5)
        self.assertGreater(new["id"], w["id"])
        self.assertEqual(d.app_status("web")["restarts"], 0)


class WorkerDisconnect(ns.TestCase):
    def test_cluster_worker_disconnect_is_a_voluntary_exit(self):
        # A long stop_timeout: the worker must leave on its own, not be killed.
        d, (w,) = start_hello(self, stop_timeout="10s", restart="on-failure")
        began = time.monotonic()
        self.assertEqual(d.ctl("send", w["id"], '{"cmd": "disconnect"}')[0], 0)
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertLess(time.monotonic() - began, 5)
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]), (0, None, True))
        self.assertEqual(d.app_status("web")["restarts"], 0)
        d.holds(lambda: d.workers("web") == [], 0.3, "no refill of a voluntary exit")


# A protocol = "node" worker that is not Node. Instance 0 announces itself,
# asks for the app's port-0 socket, says it listens, and then never reads its
# channel again: a newconn handed to it is never acked nor answered. Other
# instances run the real hello.js.
NEVER_ACKS = f"""#!{harness.PYTHON}
import json, os, socket, time
if os.environ["MUSTER_INSTANCE"] != "0":
    os.execv({ns.NODE!r}, [{ns.NODE!r}, {ns.script("hello.js")!r}])
channel = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
def send(message):
    channel.sendall((json.dumps(message) + "\\n").encode())
query = {{"index": 0, "data": None, "address": None, "port": 0, "addressType": 4,
          "backlog": 511}}
send({{"cmd": "NODE_CLUSTER", "act": "online", "seq": 0}})
send(dict(query, cmd="NODE_CLUSTER", act="queryServer", seq=1))
reply = b""
while b"\\n" not in reply:
    reply += channel.recv(65536)
port = json.loads(reply.split(b"\\n")[0])["sockname"]["port"]
send(dict(query, cmd="NODE_CLUSTER", act="listening", port=port, seq=2))
while True:
    time.sleep(1000)
"""


class NeverAcks(ns.TestCase):
    def test_a_worker_that_never_answers_a_newconn_does_not_stall_the_others(self):
        d = self.daemon()
        d.write_script("never_acks.py", NEVER_ACKS)
        d.start(socket_table("web") +
                harness.app("web", "./never_acks.py", cwd=".", protocol="node", instances=2,
                            sockets=["web"], stop_timeout="500ms"))
        stuck, healthy = ns.wait_listening(d, "web", 2)
        results = ns.get_many(ns.bound_port(d, "web"), 30, concurrency=4, timeout=2)
        bodies = ns.answered(results)
        # The stuck worker takes (and keeps) at most the one connection it was
        # handed while it was free; every other one reaches the healthy worker.
        self.assertGreaterEqual(len(bodies), 29, ns.failures(results))
        self.assertEqual({ns.worker_of(b) for b in bodies}, {healthy["id"]})
        for failure in ns.failures(results):
            self.assertIsInstance(failure, TimeoutError)
        by_id = {w["id"]: w for w in d.workers("web")}
        self.assertEqual(by_id[stuck["id"]]["connections"], 0)
        self.assertEqual(by_id[stuck["id"]]["state"], "listening")
        self.assertEqual(by_id[healthy["id"]]["connections"], len(bodies))
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})


# A protocol = "node" worker that is not Node, listening on two sockets
# ($PORT_A, $PORT_B; round-robin). It never ACKs the first newconn handle it
# gets, so the daemon must queue a second one (Node's rule: one handle in
# flight). On the daemon's `disconnect` it waits for ./go, ACKs, and notes in
# ./after.json the peer address of every connection it is sent from then on
# (up to the ack of an exitedAfterDisconnect it sends after its ACK).
TWO_SOCKETS = ns.RAW_WORKER + f"""
def peer_of(fd):
    with socket.socket(fileno=fd) as s:
        host, port = s.getpeername()
    return f"{{host}}:{{port}}"
send({{"cmd": "NODE_CLUSTER", "act": "online", "seq": 0}})
for seq, port in ((1, int(os.environ["PORT_A"])), (2, int(os.environ["PORT_B"]))):
    query = {{"cmd": "NODE_CLUSTER", "index": 0, "data": None, "address": None,
              "port": port, "addressType": 4, "backlog": 511}}
    send(dict(query, act="queryServer", seq=seq))
    assert receive()["ack"] == seq
    send(dict(query, act="listening", seq=seq + 2))
note("ready", "")
handles = []
while True:
    message = receive()
    if message.get("cmd") == "NODE_HANDLE":
        handles.append(peer_of(fds.pop(0)))
        note("handles", "\\n".join(handles))
    elif message.get("act") == "disconnect":
        break
while not os.path.exists("go"):
    time.sleep(0.01)
send({{"cmd": "NODE_HANDLE_ACK"}})
send({{"cmd": "NODE_CLUSTER", "act": "exitedAfterDisconnect", "seq": 10}})
late = []
while True:
    message = receive()
    if message.get("cmd") == "NODE_HANDLE":
        late.append(peer_of(fds.pop(0)))
    elif message.get("ack") == 10:
        break
note("after.json", json.dumps({{"late": late, "before": handles}}))
"""


class QueuedHandles(ns.TestCase):
    def test_a_connection_queued_for_a_disconnected_worker_is_never_sent_as_another(self):
        d = self.daemon()
        d.write_script("two_sockets.py", TWO_SOCKETS)
        port_a, port_b = ns.free_port(), ns.free_port()
        d.start(socket_table("a", f"127.0.0.1:{port_a}") +
                socket_table("b", f"127.0.0.1:{port_b}") +
                harness.app("web", "./two_sockets.py", cwd=".", protocol="node",
                            sockets=["a", "b"], restart="never", stop_timeout="5s",
                            env={"PORT_A": str(port_a), "PORT_B": str(port_b)}))
        d.wait_for(lambda: os.path.exists(d.path("ready")), 10, "the worker to listen")
        (w,) = d.workers("web")
        first = ns.connect(port_a)
        self.addCleanup(first.close)
        d.wait_for(lambda: d.read_file("handles"), 5, "the first newconn")
        # The second connection is accepted and queued behind the unacked
        # first handle (the daemon holds one more socket: the connection,
        # which the channel borrows until the handle is ACKed).
        before = ns.socket_fds(d.proc.pid)
        second = ns.connect(port_b)
        self.addCleanup(second.close)
        d.wait_for(lambda: ns.socket_fds(d.proc.pid) >= before + 1, 5, "the second accept")
        self.assertEqual(d.ctl("disconnect", w["id"])[0], 0)
        # A third connection arrives while no worker can take it: held.
        third = ns.connect(port_b)
        self.addCleanup(third.close)
        d.wait_for(lambda: d.app_status("web")["pending"] == 1, 5, "the third to be held")
        d.write_file("go", "")

        def outcome():
            if text := d.read_file("after.json"):
                return text
            return "exited" if ns.events(d, event="exit", id=w["id"]) else None
        after = d.wait_for(outcome, 10, "the worker's report or its exit")
        third_address = "127.0.0.1:%d" % third.getsockname()[1]
        if after == "exited":
            self.fail("the worker was cut off after it ACKed the first handle (the queued "
                      "newconn's descriptor was no longer open?)" + d.log_tail(6))
        report = json.loads(after)
        self.assertNotIn(third_address, report["late"],
                         f"a held connection was sent to a disconnected worker: {report}")
        self.assertEqual(d.app_status("web")["pending"], 1, "the held one is still held")


if __name__ == "__main__":
    unittest.main()
