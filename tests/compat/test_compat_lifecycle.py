"""A worker's life as the operator sees it, under a real Node primary and under
musterd (docs/compatibility.md, "Worker lifecycle"): the exits of kill,
disconnect, the worker's own disconnect, process.exit(0) and a crash, with
exitedAfterDisconnect; a worker that never listens; a held connection during
the worker's own disconnect. The worker is node_workers/lifecycle.js, as in
tests/integration/test_node_lifecycle.py."""

import unittest

import compat_support as cs
from compat_support import ns

SCRIPT = ns.script("lifecycle.js")
DRAIN = 2  # seconds a held connection keeps a disconnecting worker

# What each worker is made to do, in slot order.
WAYS_OUT = ["kill", "disconnect", "own disconnect", "exit 0", "exit 3"]


def as_seen(exit_event):
    return (exit_event["code"], exit_event["signal"], exit_event["exitedAfterDisconnect"])


class WaysOut(cs.TestCase):
    def under_node(self):
        p = self.node_primary(SCRIPT, instances=len(WAYS_OUT))
        ids = [e["id"] for e in p.wait_events("online", len(WAYS_OUT))]
        ids.sort()
        p.command(cmd="kill", id=ids[0], signal="SIGTERM")
        p.command(cmd="disconnect", id=ids[1])
        p.command(cmd="send", id=ids[2], message={"cmd": "disconnect"})
        p.command(cmd="send", id=ids[3], message={"cmd": "exit", "code": 0})
        p.command(cmd="send", id=ids[4], message={"cmd": "exit", "code": 3})
        seen = {}
        for i in ids:
            seen[i] = as_seen(p.wait_events("exit", 1, id=i)[0])
        return [seen[i] for i in ids]

    def under_musterd(self):
        d = self.daemon()
        d.start(ns.node_app("job", "lifecycle.js", instances=len(WAYS_OUT), restart="never"))
        ids = [w["id"] for w in d.wait_workers("job", len(WAYS_OUT))]
        self.assertEqual(d.ctl("kill", ids[0], "--signal", "SIGTERM")[0], 0)
        self.assertEqual(d.ctl("disconnect", ids[1])[0], 0)
        self.assertEqual(d.ctl("send", ids[2], '{"cmd": "disconnect"}')[0], 0)
        self.assertEqual(d.ctl("send", ids[3], '{"cmd": "exit", "code": 0}')[0], 0)
        self.assertEqual(d.ctl("send", ids[4], '{"cmd": "exit", "code": 3}')[0], 0)
        return [as_seen(ns.wait_event(d, event="exit", id=i)) for i in ids]

    def test_exit_code_signal_and_exited_after_disconnect_are_the_same_under_both(self):
        node = self.under_node()
        musterd = self.under_musterd()
        self.assertEqual(dict(zip(WAYS_OUT, musterd)), dict(zip(WAYS_OUT, node)))
        # And what they are, for the record (Node 20).
        self.assertEqual(node, [(None, "SIGTERM", False), (0, None, True), (0, None, True),
                                (0, None, False), (3, None, False)])


class NeverListens(cs.TestCase):
    LIFETIME = 2.5  # seconds past a ready_timeout of 1s

    def test_a_worker_without_a_server_stays_up_under_both(self):
        p = self.node_primary(SCRIPT, instances=1)
        p.wait_events("online", 1)
        d = self.daemon()
        d.start(ns.node_app("job", "lifecycle.js", ready_timeout="1s"))
        (w,) = d.wait_workers("job", 1)
        d.holds(lambda: [x["id"] for x in d.workers("job")] == [w["id"]], self.LIFETIME,
                "the worker to stay up under musterd")
        self.assertEqual([e for e in p.events if e["event"] == "exit"], [])
        self.assertEqual(ns.events(d, event="exit"), [])


class OwnDisconnectWithAHeldConnection(cs.TestCase):
    def node_message(self, p, key):
        def found():
            hits = [e["message"] for e in p.events
                    if e["event"] == "message" and key in e["message"]]
            return hits[0] if hits else None
        return cs.harness.Poll.until(found, 10, f"a message with {key!r} from the worker")

    def drain_under_node(self):
        p = self.node_primary(SCRIPT, instances=1, env={"LIFE_SERVER": "1"})
        port = self.node_message(p, "listening")["listening"]
        worker = self.node_message(p, "listening")["worker"]
        client = ns.connect(("127.0.0.1", port), 10)
        self.addCleanup(client.close)
        client.sendall(ns.request_bytes("/hold"))
        self.node_message(p, "held")
        p.command(cmd="send", id=worker, message={"cmd": "disconnect"})
        cs.harness.Poll.holds(lambda: not [e for e in p.events if e["event"] == "exit"],
                              DRAIN, "the worker to drain under Node")
        p.command(cmd="send", id=worker, message={"cmd": "release"})
        client.settimeout(10)
        answer = ns.read_all(client)
        return answer.endswith(b"released\n"), as_seen(p.wait_events("exit", 1)[0])

    def drain_under_musterd(self):
        d = self.daemon()
        d.start(ns.node_app("web", "lifecycle.js", env={"LIFE_SERVER": "1"},
                            stop_timeout="1s", restart="never"))
        (w,) = ns.wait_listening(d, "web", 1)
        port = ns.wait_messages(d, "listening", 1, app="web")[0]["listening"]
        client, _ = ns.hold_a_connection(self, d, port)
        self.assertEqual(d.ctl("send", w["id"], '{"cmd": "disconnect"}')[0], 0)
        d.holds(lambda: not ns.events(d, event="exit"), DRAIN,
                "the worker to drain under musterd (past stop_timeout)")
        self.assertEqual(d.ctl("send", w["id"], '{"cmd": "release"}')[0], 0)
        client.settimeout(10)
        answer = ns.read_all(client)
        return answer.endswith(b"released\n"), as_seen(ns.wait_event(d, event="exit", id=w["id"]))

    def test_the_held_request_is_answered_and_the_exit_is_the_same_under_both(self):
        node = self.drain_under_node()
        musterd = self.drain_under_musterd()
        self.assertEqual(musterd, node)
        self.assertEqual(node, (True, (0, None, True)))


if __name__ == "__main__":
    unittest.main()
