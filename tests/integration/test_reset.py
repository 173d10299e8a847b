"""musterctl reset APP: an app's restart counts, crash-loop history and
backoff start again from zero (as pm2 reset does), and nothing starts or
stops because of it."""

import os
import signal
import time
import unittest

import harness
from harness import app

# Crashes its first 3 starts (./count counts them), then stays up.
CRASH_THRICE = """#!/bin/sh
n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count
[ "$n" -le 3 ] && exit 1
exec sleep 1000
"""


def backoffs(d, name):
    return [e["backoff_ms"] for e in d.events(event="restart", app=name)]


class Reset(harness.TestCase):
    def test_reset_zeroes_the_restart_count_and_the_next_crash_waits_restart_delay(self):
        d = self.daemon()
        d.write_script("crash3.sh", CRASH_THRICE)
        d.start(app("web", "./crash3.sh", cwd=".", restart_delay="100ms",
                    restart_delay_max="10s", min_uptime="60s", max_restarts=10) +
                app("other", "sleep", args=["1000"]))
        d.wait_for(lambda: [w["restarts"] for w in d.workers("web")
                            if w["state"] == "online"] == [3], 10,
                   "web's worker up after 3 crashes")
        self.assertEqual(backoffs(d, "web"), [100, 200, 400])
        (before,) = d.workers("web")

        rc, out, err = d.ctl("reset", "web")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "web: restart counts and crash history reset\n")
        (after,) = d.workers("web")
        self.assertEqual((after["pid"], after["restarts"]), (before["pid"], 0),
                         "the same worker, its count zeroed")

        # A crash now is the first again: restart_delay, not 800 ms.
        os.kill(after["pid"], signal.SIGKILL)
        d.wait_for(lambda: len(backoffs(d, "web")) == 4, 10, "the refill after the kill")
        self.assertEqual(backoffs(d, "web")[3], 100)
        d.wait_for(lambda: [w["restarts"] for w in d.workers("web")
                            if w["state"] == "online"] == [1], 10, "web's new worker")

        rc, out, err = d.ctl("reset", "all")
        self.assertEqual((rc, out), (0, "web, other: restart counts and crash history reset\n"),
                         err)
        self.assertEqual([w["restarts"] for w in d.workers("web")], [0])

    def test_reset_starts_nothing_and_an_unknown_app_is_an_error(self):
        d = self.daemon()
        d.start(app("loop", "false", max_restarts=1, restart_delay="50ms",
                    failed_retry="0s"))
        d.wait_for(lambda: d.app_status("loop")["state"] == "failed", 10, "loop to fail")
        spawns = len(d.events(event="fork", app="loop"))
        rc, out, err = d.ctl("reset", "loop")
        self.assertEqual(rc, 0, err)
        d.holds(lambda: d.app_status("loop")["state"] == "failed" and
                len(d.events(event="fork", app="loop")) == spawns, 1.0,
                "the failed app to stay failed, with no new worker")

        rc, out, err = d.ctl("reset", "nosuch")
        self.assertEqual(rc, 1)
        self.assertIn("nosuch", err)


if __name__ == "__main__":
    unittest.main()
