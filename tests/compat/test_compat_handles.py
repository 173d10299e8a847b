"""A handle a worker sends its primary (process.send(msg, handle)), under a
real Node primary and under musterd (docs/compatibility.md, "handle sent to the
primary"). Both deliver the message; Node wraps the handle for 'message'
listeners and, with nobody using it, keeps it open for good; musterd has no
code to give it to, closes its copy, and says so in the event."""

import json
import socket
import unittest

import compat_support as cs
from compat_support import harness, ns

HELD_OPEN_FOR = 1.0  # seconds a connection must stay silent to count as held open


def with_key(key):
    return lambda e: isinstance(e["message"], dict) and key in e["message"]


class UnderNode:
    def __init__(self, test):
        self.p = test.node_primary(ns.script("handles.js"), instances=1)
        self.p.wait_events("message", 1)

    def command(self, cmd):
        self.p.command(cmd="send", id=1, message={"cmd": cmd})

    def message(self, key):
        return self.p.wait_events("message", 1, where=with_key(key))[0]


class UnderMusterd:
    def __init__(self, test):
        self.d = test.daemon()
        self.d.start(ns.node_app("web", "handles.js"))
        (ready,) = ns.wait_messages(self.d, "ready", 1, app="web")
        self.id = ready["ready"]

    def command(self, cmd):
        assert self.d.ctl("send", self.id, json.dumps({"cmd": cmd}))[0] == 0

    def message(self, key):
        return ns.wait_event(self.d, event="message", app="web", where=with_key(key))


class HandleSentToThePrimary(cs.TestCase):
    def sent_connection(self, primary):
        """The message event of a connection the worker sent, and what its
        client then sees: b"" for the end, None if it is held open."""
        primary.command("socket")
        port = primary.message("socket_server")["message"]["socket_server"]
        with ns.connect(port) as client:
            event = primary.message("socket")
            client.settimeout(HELD_OPEN_FOR * harness.SLOWDOWN)
            try:
                seen = harness.recv_until_eof(client)
            except socket.timeout:
                seen = None
        return event, seen

    def test_a_sent_connection_is_held_open_by_node_and_closed_by_musterd(self):
        node_event, node_seen = self.sent_connection(UnderNode(self))
        musterd_event, musterd_seen = self.sent_connection(UnderMusterd(self))
        self.assertEqual(node_event["message"], musterd_event["message"])
        self.assertEqual(node_event["handle"], "Socket")
        self.assertEqual(musterd_event["handle"], {"type": "net.Socket", "closed": True})
        self.assertIsNone(node_seen, "Node's primary keeps the connection, unused")
        self.assertEqual(musterd_seen, b"", "musterd closes it: the client sees the end")

    def sent_handle(self, primary, cmd):
        primary.command(cmd)
        return primary.message(cmd)

    def test_a_sent_server_and_udp_socket_are_reported_under_both(self):
        node, musterd = UnderNode(self), UnderMusterd(self)
        for cmd, node_name, musterd_type in (("server", "Server", "net.Server"),
                                             ("dgram", "Socket", "dgram.Socket")):
            node_event = self.sent_handle(node, cmd)
            musterd_event = self.sent_handle(musterd, cmd)
            self.assertEqual(node_event["handle"], node_name)
            self.assertEqual(musterd_event["handle"], {"type": musterd_type, "closed": True})
            self.assertEqual(node_event["message"].keys(), musterd_event["message"].keys())


if __name__ == "__main__":
    unittest.main()
