"""Control requests with a repeated key are refused: musterd does not guess
which of the values was meant (issue #12)."""

import unittest

import harness
from harness import app

SLEEPER = app("web", "sleep", args=["1000"])


class DuplicateKeys(harness.TestCase):
    def test_a_ping_with_a_second_verb_shutdown_is_refused_and_shuts_nothing_down(self):
        d = self.daemon().start(SLEEPER)
        (w,) = d.wait_workers("web", 1)
        with d.connect() as c:
            reply = c.request(b'{"verb":"ping","verb":"shutdown"}')
            self.assertEqual(reply, {"ok": False, "error": "duplicate key 'verb'"})
            self.assertEqual(c.request({"verb": "ping"}), {"ok": True, "pong": True})
        self.assertIsNone(d.proc.poll(), "musterd is still running")
        self.assertEqual([x["pid"] for x in d.workers("web")], [w["pid"]])
        self.assertNotIn("shutdown", d.log_text())

    def test_a_repeated_app_or_count_changes_nothing(self):
        d = self.daemon().start(SLEEPER + app("jobs", "sleep", args=["1000"]))
        d.wait_workers("web", 1)
        d.wait_workers("jobs", 1)
        for line in (b'{"verb":"stop","app":"jobs","app":"web"}',
                     b'{"verb":"scale","app":"web","count":1,"count":3}'):
            with self.subTest(line=line):
                self.assertIs(d.request(line)["ok"], False)
        d.holds(lambda: len(d.workers("web")) == 1 and len(d.workers("jobs")) == 1, 0.5,
                "both apps to keep their one worker")

    def test_a_repeated_key_inside_a_send_message_is_refused(self):
        d = self.daemon().start(SLEEPER)
        (w,) = d.wait_workers("web", 1)
        reply = d.request(b'{"verb":"send","app":"web","message":{"a":1,"a":2}}')
        self.assertEqual(reply, {"ok": False, "error": "duplicate key 'a' in 'message'"})
        # musterctl checks the message itself, before anything is sent.
        rc, out, err = d.ctl("send", "web", '{"x":{"a":1,"a":2}}')
        self.assertEqual(rc, 2, out + err)
        self.assertIn("duplicate key 'a' in 'x'", err)


if __name__ == "__main__":
    unittest.main()
