"""musterctl status as an operator sees it: ready/total per app, CPU % per
worker, states coloured on a terminal (not with --no-color or NO_COLOR, and
never into a pipe), and no line ending in a space."""

import os
import re
import unittest

import harness
from harness import app
from test_operator_reads import ctl_on_pty

GREEN, YELLOW, RED = b"\x1b[32m", b"\x1b[33m", b"\x1b[31m"
# Burns CPU for 4 s (no child processes: their time is not the worker's),
# then idles: a CPU figure well above zero meanwhile.
BURN = "import time\nend = time.monotonic() + 4\nwhile time.monotonic() < end: pass\ntime.sleep(1000)"


class StatusView(harness.TestCase):
    def start(self):
        d = self.daemon()
        d.start(app("busy", "python3", args=["-c", BURN]) +
                app("broken", "false", max_restarts=0, failed_retry="0s"))
        d.wait_workers("busy", 1)
        d.wait_for(lambda: d.app_status("broken")["state"] == "failed", 10, "broken to fail")
        return d

    def test_json_has_ready_counts_and_cpu_percent(self):
        d = self.start()
        (w,) = d.wait_for(lambda: [w for w in d.workers("busy")
                                   if w["cpu_percent"] is not None] or None, 10,
                          "a CPU figure (two samples, 2 s apart)")
        # A busy loop gets most of a core on an idle 2-core box, but far less
        # beside a loaded build (17.8% seen at load 25); an idle worker's is ~0.
        self.assertGreater(w["cpu_percent"], 5.0, w)
        self.assertEqual(d.app_status("busy")["ready"], 1)
        self.assertEqual(d.app_status("broken")["ready"], 0)
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"busy +running +none +1/1 +1 ")
        self.assertRegex(out, r"broken +failed +none +0/1 +1 ")
        self.assertRegex(out, r"\d+\.\d%")
        self.assertNotIn("\x1b", out, "no colour into a pipe")
        self.assertEqual([l for l in out.splitlines() if l.endswith(" ")], [])

    def test_states_are_coloured_on_a_terminal_unless_told_not_to(self):
        d = self.start()
        rc, out, err = ctl_on_pty(d, "status")
        self.assertEqual(rc, 0, err)
        self.assertIn(GREEN + b"running\x1b[0m", out)
        self.assertIn(RED + b"failed\x1b[0m", out)
        self.assertRegex(out, re.escape(GREEN) + rb"(online|listening)\x1b\[0m")
        self.assertEqual([l for l in out.splitlines() if l.endswith(b" ")], [])

        for args, env in ((["--no-color", "status"], None),
                          (["status"], dict(os.environ, NO_COLOR="1"))):
            rc, plain, err = ctl_on_pty(d, *args, env=env)
            self.assertEqual(rc, 0, err)
            self.assertNotIn(b"\x1b[", plain, args)
            self.assertRegex(plain, rb"busy +running")
        # An empty NO_COLOR is as if unset (no-color.org).
        rc, out, err = ctl_on_pty(d, "status", env=dict(os.environ, NO_COLOR=""))
        self.assertIn(GREEN + b"running", out)


if __name__ == "__main__":
    unittest.main()
