"""Messages up to the worker channel's bound, 1 MiB as JSON, in both
directions (docs/control-protocol.md, "send" and Framing): `musterctl send`
delivers one to a Node worker, a worker's process.send() arrives in
`musterctl events`, and one byte more is a clear error."""

import json
import unittest

import node_support as ns
from node_support import node_app

MAX = 1 << 20  # bytes of one message as JSON


def compact(value):
    """`value` as musterd and musterctl write it (Boost.JSON: no spaces, UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_bytes(value):
    return len(compact(value).encode())


def big_request(size, length):
    """hello.js's {cmd: "big", size: SIZE}, padded to `length` bytes as JSON."""
    m = {"cmd": "big", "size": size, "pad": ""}
    m["pad"] = "x" * (length - json_bytes(m))
    assert json_bytes(m) == length
    return m


def big_reply_size(worker_id):
    """The `size` that makes hello.js's {"big":"x...","worker":ID} exactly MAX."""
    return MAX - json_bytes({"big": "", "worker": worker_id})


class MessageSizes(ns.TestCase):
    def start(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js"))
        (w,) = ns.wait_listening(d, "web", 1)
        return d, w["id"]

    def test_musterctl_send_of_almost_1_mib_reaches_the_worker_intact(self):
        d, wid = self.start()
        # Text with escapes and multi-byte UTF-8, as long as hello.js can echo.
        room = MAX - json_bytes({"echo": "", "worker": wid})
        unit = "é\"\\\n✓" + "x" * 1000
        units = (room - 2) // (json_bytes(unit) - 2)
        text = unit * units
        text += "x" * (room - json_bytes(text))
        self.assertEqual(json_bytes(text), room)
        rc, out, err = d.ctl("send", wid, "-", input=json.dumps(text))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "sent to 1 worker(s)\n")
        (echo,) = ns.wait_messages(d, "echo", 1, app="web")
        self.assertEqual(echo["echo"], text)

    def test_a_message_of_exactly_1_mib_is_sent(self):
        d, wid = self.start()
        rc, out, err = d.ctl("send", wid, "-", input=compact(big_request(5, MAX)))
        self.assertEqual((rc, err), (0, ""))
        (big,) = ns.wait_messages(d, "big", 1, app="web")
        self.assertEqual(big["big"], "xxxxx")

    def test_a_message_one_byte_over_1_mib_is_refused_with_the_limit(self):
        d, wid = self.start()
        too_big = big_request(5, MAX + 1)
        rc, out, err = d.ctl("send", wid, "-", input=compact(too_big))
        self.assertEqual(rc, 2, "a usage error, caught before it reaches musterd")
        self.assertIn("the message is 1048577 bytes as JSON; at most 1048576 (1 MiB)", err)
        # musterd refuses it too, and the connection stays usable.
        with d.connect() as c:
            reply = c.request({"verb": "send", "id": wid, "message": too_big})
            self.assertEqual(reply, {"ok": False, "error": "the message is 1048577 bytes as "
                                     "JSON; at most 1048576 (1 MiB) can be sent to a worker"})
            self.assertEqual(c.request({"verb": "ping"}), {"ok": True, "pong": True})
        self.assertEqual(ns.messages(d, "web", "big"), [], "nothing reached the worker")
        self.assertEqual(d.workers("web")[0]["id"], wid)

    def test_worker_messages_of_1_mib_arrive_intact_in_musterctl_events(self):
        d, wid = self.start()
        size = big_reply_size(wid)
        for _ in range(12):  # far more than a control reply may hold (8 MiB)
            self.assertEqual(d.ctl("send", wid, compact({"cmd": "big", "size": size}))[0], 0)
        self.assertEqual(d.ctl("send", wid, '"done"')[0], 0)
        ns.wait_messages(d, "echo", 1, app="web")  # after every big one: they come in order
        rc, out, err = d.ctl("events", "--json")
        self.assertEqual((rc, err), (0, ""))
        events = json.loads(out)["events"]
        bigs = [e for e in events if e["event"] == "message" and "big" in e["message"]]
        self.assertGreaterEqual(len(bigs), 1)
        self.assertEqual(bigs[-1]["message"], {"big": "x" * size, "worker": wid})
        self.assertEqual(json_bytes(bigs[-1]["message"]), MAX)


if __name__ == "__main__":
    unittest.main()
