"""Handles a worker sends its primary (process.send(msg, handle)): musterd has
no code to give them to, so it closes its copy at once and the `message` event
says what came and that it was closed (docs/control-protocol.md, Events;
docs/compatibility.md, "handle sent to the primary")."""

import json
import unittest

import harness
import node_support as ns
from node_support import node_app


class HandlesSentToThePrimary(ns.TestCase):
    def start_worker(self):
        d = self.daemon()
        d.start(node_app("web", "handles.js"))
        (ready,) = ns.wait_messages(d, "ready", 1, app="web")
        return d, ready["ready"]

    def handle_message(self, d, wid, cmd, key):
        self.assertEqual(d.ctl("send", wid, json.dumps({"cmd": cmd}))[0], 0)
        return ns.wait_event(d, event="message", app="web",
                             where=lambda e: isinstance(e["message"], dict) and key in e["message"])

    def test_a_sent_connection_is_closed_and_the_message_event_says_so(self):
        d, wid = self.start_worker()
        listening = self.handle_message(d, wid, "socket", "socket_server")
        self.assertNotIn("handle", listening, "a message without a handle has no handle field")
        with ns.connect(listening["message"]["socket_server"]) as client:
            event = ns.wait_event(d, event="message", app="web",
                                  where=lambda e: e["message"] == {"socket": True})
            self.assertEqual(event["handle"], {"type": "net.Socket", "closed": True})
            # The worker let go of it after sending, musterd closed its copy:
            # the client sees the end, not a connection held open for ever.
            client.settimeout(10 * harness.SLOWDOWN)
            self.assertEqual(harness.recv_until_eof(client), b"")

    def test_a_sent_server_is_closed_in_musterd_and_keeps_serving_in_the_worker(self):
        d, wid = self.start_worker()
        event = self.handle_message(d, wid, "server", "server")
        self.assertEqual(event["handle"], {"type": "net.Server", "closed": True})
        for _ in range(4):
            with ns.connect(event["message"]["server"]) as client:
                self.assertEqual(harness.recv_until_eof(client), f"from worker {wid}\n".encode())

    def test_a_sent_udp_socket_is_named_as_one(self):
        d, wid = self.start_worker()
        event = self.handle_message(d, wid, "dgram", "dgram")
        self.assertEqual(event["handle"], {"type": "dgram.Socket", "closed": True})
        self.assertEqual(d.workers("web")[0]["id"], wid, "the worker carries on")


if __name__ == "__main__":
    unittest.main()
