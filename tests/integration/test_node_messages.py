"""User messages between musterd and Node cluster workers: process.send() as
`message` events, `musterctl send` into process.on('message'), and workers
that flood or break their channel."""

import json
import time
import unittest

import harness
import node_support as ns
from node_support import node_app, socket_table

# Payloads of every JSON kind, with text that needs escaping.
PAYLOADS = [
    {"kind": "greeting", "nested": {"list": [1, 2.5, None, True], "text": "héllo ✓ \"q\"\n\t"}},
    {"cmd": "user-command-not-internal"},
    "a plain string",
    42,
    [1, "two", {"three": 3}],
    None,
    False,
]


class FromWorkers(ns.TestCase):
    def test_process_send_becomes_a_message_event_carrying_the_payload(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js", env={"HELLO_GREETINGS": json.dumps(PAYLOADS)}))
        (w,) = ns.wait_listening(d, "web", 1)

        def greetings_and_report():
            got = ns.events(d, event="message", app="web")
            return got if len(got) > len(PAYLOADS) else None
        got = d.wait_for(greetings_and_report, 10, "the greetings and the listening report")
        self.assertEqual([e["message"] for e in got[:len(PAYLOADS)]], PAYLOADS)
        for e in got:
            self.assertEqual((e["id"], e["pid"]), (w["id"], w["pid"]))

    def test_the_listening_report_arrives_as_a_message_event(self):
        d = self.daemon()
        d.start(socket_table("web") + node_app("web", "hello.js", sockets=["web"]))
        (w,) = ns.wait_listening(d, "web", 1)
        (report,) = ns.wait_messages(d, "listening", 1, app="web")
        self.assertEqual(report, {"listening": ns.bound_port(d, "web"), "worker": w["id"]})

    def test_a_handle_sent_by_a_worker_is_acknowledged_and_later_messages_still_arrive(self):
        # Node queues every message after a handle until the primary ACKs it.
        d = self.daemon()
        d.start(node_app("web", "hello.js"))
        (w,) = ns.wait_listening(d, "web", 1)
        self.assertEqual(d.ctl("send", w["id"], '{"cmd": "send-handle"}')[0], 0)
        (with_handle,) = ns.wait_messages(d, "with_handle", 1, app="web")
        self.assertEqual(with_handle, {"with_handle": True, "worker": w["id"]})
        ns.wait_messages(d, "after_handle", 1, app="web")
        self.assertEqual(d.ctl("send", w["id"], '"still there"')[0], 0)
        (echo,) = ns.wait_messages(d, "echo", 1, app="web")
        self.assertEqual(echo["echo"], "still there")
        self.assertEqual(d.workers("web")[0]["id"], w["id"])


class ToWorkers(ns.TestCase):
    def start_two(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js", instances=2))
        return d, ns.wait_listening(d, "web", 2)

    def test_send_to_a_worker_id_arrives_in_process_on_message(self):
        d, (a, b) = self.start_two()
        payload = {"to": "one", "n": [1, 2, 3], "text": "ünïcode"}
        rc, out, err = d.ctl("send", a["id"], json.dumps(payload))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "sent to 1 worker(s)\n")
        (echo,) = ns.wait_messages(d, "echo", 1, app="web")
        self.assertEqual(echo, {"echo": payload, "worker": a["id"]})
        # The other worker got nothing: a marker sent to it afterwards is the
        # only thing it echoes.
        self.assertEqual(d.ctl("send", b["id"], '"marker"')[0], 0)
        echoes = ns.wait_messages(d, "echo", 2, app="web")
        self.assertEqual(sorted((m["worker"], json.dumps(m["echo"])) for m in echoes),
                         sorted([(a["id"], json.dumps(payload)), (b["id"], '"marker"')]))

    def test_send_to_an_app_arrives_in_every_worker(self):
        d, workers = self.start_two()
        rc, out, err = d.ctl("--json", "send", "web", '{"to": "all"}')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"ok": True, "sent": 2})
        echoes = ns.wait_messages(d, "echo", 2, app="web")
        self.assertEqual(sorted(m["worker"] for m in echoes), sorted(w["id"] for w in workers))
        self.assertTrue(all(m["echo"] == {"to": "all"} for m in echoes), echoes)

    def test_messages_to_one_worker_arrive_in_order(self):
        d, (a, _) = self.start_two()
        with d.connect() as c:
            for i in range(100):
                self.assertEqual(c.request({"verb": "send", "id": a["id"], "message": i}),
                                 {"ok": True, "sent": 1})
        echoes = ns.wait_messages(d, "echo", 100, app="web")
        self.assertEqual([m["echo"] for m in echoes], list(range(100)))


# A protocol = "node" worker that is not Node: its first life writes $GARBAGE
# to its channel (and would then idle); later lives run the real hello.js, so
# the replacement is a healthy worker.
GARBAGE = f"""#!{harness.PYTHON}
import os, time
if not os.path.exists("garbage-sent"):
    open("garbage-sent", "w").close()
    os.write(int(os.environ["NODE_CHANNEL_FD"]), os.environ["GARBAGE"].encode())
    while True:
        time.sleep(1000)
os.execv({ns.NODE!r}, [{ns.NODE!r}, {ns.script("hello.js")!r}])
"""


def daemon_rss_bytes(d):
    with open(f"/proc/{d.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for musterd")


class BadWorkers(ns.TestCase):
    def garbage_kills_and_is_replaced(self, garbage, complaint):
        d = self.daemon()
        d.write_script("garbage.py", GARBAGE)
        d.start(socket_table("web") +
                node_app("other", "hello.js", sockets=["web"]) +
                harness.app("bad", "./garbage.py", cwd=".", protocol="node",
                            env={"GARBAGE": garbage}))
        (other,) = ns.wait_listening(d, "other", 1)
        first = ns.wait_event(d, event="fork", app="bad")
        gone = ns.wait_event(d, event="exit", app="bad", id=first["id"])
        self.assertEqual(gone["signal"], "SIGKILL")
        self.assertFalse(gone["voluntary"])
        self.assertIn(f"bad[{first['id']}] broke the IPC protocol ({complaint}", d.log_text())
        (replacement,) = ns.wait_listening(d, "bad", 1)
        self.assertGreater(replacement["id"], first["id"])
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})
        self.assertEqual(d.workers("other")[0]["id"], other["id"])
        self.assertEqual(ns.http_request(ns.bound_port(d, "web"))[0], 200)

    def test_a_worker_writing_garbage_to_its_channel_is_killed_and_replaced(self):
        self.garbage_kills_and_is_replaced("not json\n", "worker sent invalid JSON")

    def test_a_worker_writing_a_blank_line_to_its_channel_is_killed_and_replaced(self):
        self.garbage_kills_and_is_replaced("\n", "worker sent invalid JSON")

    def test_a_worker_sending_node_handle_without_a_descriptor_is_killed_and_replaced(self):
        line = json.dumps({"cmd": "NODE_HANDLE", "type": "net.Native",
                           "msg": {"cmd": "NODE_CLUSTER", "act": "online", "seq": 0}})
        self.garbage_kills_and_is_replaced(line + "\n", "worker sent NODE_HANDLE without")

    def test_a_worker_acking_a_handle_never_sent_is_killed_and_replaced(self):
        self.garbage_kills_and_is_replaced('{"cmd":"NODE_HANDLE_ACK"}\n',
                                           "worker acknowledged a handle that was never sent")

    def test_a_worker_sending_a_line_over_1_mib_is_killed_and_replaced(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js"))
        (w,) = ns.wait_listening(d, "web", 1)
        self.assertEqual(d.ctl("send", w["id"], json.dumps({"cmd": "big", "size": 2 << 20}))[0], 0)
        ns.wait_event(d, event="exit", app="web", id=w["id"])
        # Killed, unless (its channel closed under it) it died on its own first.
        self.assertIn(f"web[{w['id']}] broke the IPC protocol (worker sent a message over 1 MiB",
                      d.log_text())
        (replacement,) = ns.wait_listening(d, "web", 1)
        self.assertGreater(replacement["id"], w["id"])
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})

    def test_a_message_just_under_1_mib_is_delivered(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js"))
        (w,) = ns.wait_listening(d, "web", 1)
        size = (1 << 20) - 1024
        self.assertEqual(d.ctl("send", w["id"], json.dumps({"cmd": "big", "size": size}))[0], 0)
        (big,) = ns.wait_messages(d, "big", 1, app="web")
        self.assertEqual(len(big["big"]), size)
        self.assertEqual(d.workers("web")[0]["id"], w["id"])

    def test_a_worker_flooding_messages_does_not_hurt_the_daemon(self):
        d = self.daemon()
        d.start(node_app("flood", "flood.js") +
                socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"]))
        ns.wait_listening(d, "web", 2)
        port = ns.bound_port(d, "web")
        (flooder,) = d.wait_workers("flood", 1)

        def flooded():
            counts = ns.messages(d, "flood", "flood")
            return counts[-1]["flood"] if counts else 0

        d.wait_for(lambda: flooded() >= 5000, 10, "the flood to be under way")
        during_from = flooded()
        # While it floods: status stays prompt and the other workers serve.
        slowest = 0.0
        for _ in range(20):
            began = time.monotonic()
            d.status()
            slowest = max(slowest, time.monotonic() - began)
        results = ns.get_many(port, 100, concurrency=4)
        during_to = flooded()
        self.assertLess(slowest, 0.5 * harness.SLOWDOWN, "status took too long during the flood")
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len({ns.worker_of(b) for b in ns.answered(results)}), 2)
        self.assertGreater(during_to, during_from, "the flood went on during the checks")

        d.wait_for(lambda: flooded() >= 30000, 20, "tens of thousands of messages")
        self.assertEqual(d.ctl("send", "flood", '{"cmd": "stop"}')[0], 0)
        (done,) = ns.wait_messages(d, "flood_done", 1, app="flood", timeout=15)
        self.assertGreaterEqual(done["flood_done"], 30000)
        # Not killed for it, and the daemon kept no backlog of it.
        self.assertEqual(d.workers("flood")[0]["id"], flooder["id"])
        self.assertEqual(ns.events(d, event="exit"), [])
        harness.assert_rss_below(self, daemon_rss_bytes(d), 200 << 20)


    def test_an_events_follower_gets_every_flooded_message_in_order(self):
        d = self.daemon().start(node_app("flood", "flood.js"))
        with d.connect(timeout=20 * harness.SLOWDOWN) as follower:
            self.assertEqual(follower.request({"verb": "events", "follow": True}),
                             {"ok": True, "follow": True})
            # Read as fast as a client can: big gulps, only counting lines
            # (parsing comes after), since a follower that falls 8 MiB behind
            # is dropped.
            chunks = [follower._buffer]
            lines = 0
            stopped = False
            tail = chunks[0]  # enough to see the marker across a chunk boundary
            while b'"flood_done"' not in tail:
                chunk = follower.sock.recv(1 << 20)
                self.assertNotEqual(chunk, b"", f"the daemon closed a follower that reads as "
                                    f"fast as it can, after {lines} event lines")
                chunks.append(chunk)
                tail = tail[-16:] + chunk
                lines += chunk.count(b"\n")
                if lines >= 20000 and not stopped:
                    self.assertEqual(d.request({"verb": "send", "app": "flood",
                                                "message": {"cmd": "stop"}})["sent"], 1)
                    stopped = True
            # The last chunk may end mid-line: read on to its end.
            while not chunks[-1].endswith(b"\n"):
                chunks.append(follower.sock.recv(1 << 20))
                self.assertNotEqual(chunks[-1], b"", "the daemon closed the follower mid-line")
        seen = []
        done = None
        for line in b"".join(chunks).split(b"\n"):
            if not line:
                continue
            event = json.loads(line)
            message = event.get("message")
            if event["event"] != "message" or not isinstance(message, dict):
                continue
            if "flood" in message:
                seen.append(message["flood"])
            elif "flood_done" in message:
                done = message["flood_done"]
        self.assertIsNotNone(done)
        self.assertGreaterEqual(len(seen), 19900)  # 20000 lines, a few of them not floods
        self.assertEqual(done, seen[-1])
        self.assertEqual(seen, list(range(seen[0], seen[-1] + 1)), "lost or reordered")

    def test_an_events_follower_that_does_not_read_a_flood_is_dropped(self):
        d = self.daemon().start(node_app("flood", "flood.js"))
        with d.connect() as stalled:
            stalled.send(b'{"verb":"events","follow":true}\n')
            d.wait_for(lambda: (ns.messages(d, "flood", "flood") or [{"flood": 0}])[-1]["flood"]
                       >= 40000, 20, "40000 flooded messages")
            began = time.monotonic()
            d.status()
            self.assertLess(time.monotonic() - began, 0.5 * harness.SLOWDOWN)
            # More than 8 MiB of event lines (40000 of ~230 bytes) went its way: the daemon
            # has closed it (reading what is buffered ends at EOF).
            stalled.sock.settimeout(5)
            stalled.read_until_closed()
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})


if __name__ == "__main__":
    unittest.main()
