"""Big user messages under a real Node primary and under musterd
(docs/compatibility.md, "messages up to 1 MiB" and "messages over 1 MiB"): a
message of up to 1 MiB as JSON makes the same round trip under both; beyond
that Node delivers and musterd refuses (a send) or ends the worker (a
process.send), each with a clear error."""

import json
import unittest

import compat_support as cs
from compat_support import ns

MAX = 1 << 20


def json_bytes(value):
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def text_of(length):
    """A string of `length` bytes as JSON, with escapes and multi-byte UTF-8."""
    unit = "é\"\\\n✓" + "x" * 1000
    text = unit * ((length - 2) // (json_bytes(unit) - 2))
    return text + "x" * (length - json_bytes(text))


def with_key(key):
    return lambda e: isinstance(e["message"], dict) and key in e["message"]


class BigMessages(cs.TestCase):
    def round_trip_under_node(self, message):
        p = self.node_primary(ns.script("hello.js"), instances=1,
                              env={"HELLO_HOST": "127.0.0.1"})
        p.wait_events("listening", 1)
        p.command(cmd="send", id=1, message=message)
        return p.wait_events("message", 1, where=with_key("echo"))[0]["message"]["echo"]

    def start_musterd(self):
        d = self.daemon()
        d.start(ns.node_app("web", "hello.js", env={"HELLO_HOST": "127.0.0.1"}))
        (w,) = ns.wait_listening(d, "web", 1)
        return d, w["id"]

    def test_a_message_just_under_1_mib_makes_the_same_round_trip_under_both(self):
        # As big as hello.js's echo of it may be: {"echo":M,"worker":1} is 1 MiB.
        message = text_of(MAX - json_bytes({"echo": "", "worker": 1}))
        node_echo = self.round_trip_under_node(message)
        d, wid = self.start_musterd()
        self.assertEqual(wid, 1)
        rc, _, err = d.ctl("send", wid, "-", input=json.dumps(message))
        self.assertEqual((rc, err), (0, ""))
        (musterd_echo,) = ns.wait_messages(d, "echo", 1, app="web")
        self.assertEqual(node_echo, message)
        self.assertEqual(musterd_echo["echo"], message)

    def test_a_message_over_1_mib_is_delivered_by_node_and_refused_by_musterd_both_ways(self):
        message, size = text_of(2 * MAX), 2 * MAX
        p = self.node_primary(ns.script("hello.js"), instances=1,
                              env={"HELLO_HOST": "127.0.0.1"})
        p.wait_events("listening", 1)
        p.command(cmd="send", id=1, message=message)
        p.command(cmd="send", id=1, message={"cmd": "big", "size": size})
        self.assertEqual(p.wait_events("message", 1, where=with_key("echo"))[0]["message"]["echo"],
                         message)
        (node_big,) = p.wait_events("message", 1, where=with_key("big"))
        self.assertEqual(len(node_big["message"]["big"]), size)
        # musterd: a send is refused before it reaches the worker...
        d, wid = self.start_musterd()
        rc, _, err = d.ctl("send", wid, "-", input=json.dumps(message))
        self.assertEqual(rc, 2)
        self.assertIn("at most 1048576 (1 MiB) can be sent to a worker", err)
        # ...and a worker sending one breaks the protocol: killed and replaced.
        self.assertEqual(d.ctl("send", wid, json.dumps({"cmd": "big", "size": size}))[0], 0)
        ns.wait_event(d, event="exit", app="web", id=wid)
        self.assertIn(f"web[{wid}] broke the IPC protocol (worker sent a message over 1 MiB",
                      d.log_text())
        self.assertEqual(ns.messages(d, "web", "big"), [])

if __name__ == "__main__":
    unittest.main()
