"""Restart policy: exponential backoff and its reset, crash-loop detection, and
the restart modes always / on-failure / never."""

import os
import signal
import unittest

import harness
from harness import app

# A worker that notes "ID NANOSECONDS" in ./spawns when it starts, then runs
# the rest of the script. Times are taken by the worker itself, so the gaps
# between lines are the daemon's restart delays plus spawn latency.
SPAWN_LOG = """#!/bin/sh
echo "start $MUSTER_WORKER_ID $(date +%s%N)" >> spawns
"""

# How much later than its restart delay a refill may come on a busy machine.
SLACK_S = 1.0


def spawn_events(d):
    """[(event, worker id, seconds)] from ./spawns."""
    events = []
    for line in d.read_file("spawns").splitlines():
        kind, wid, ns = line.split()
        events.append((kind, int(wid), int(ns) / 1e9))
    return events


def starts(d):
    return [e for e in spawn_events(d) if e[0] == "start"]


def restart_delays(d, app):
    """The backoff_ms (the delay before jitter) of the daemon's restart events
    for `app`, in order; checks that each delay_ms is that backoff jittered by
    at most ±20 % and never above restart_delay_max."""
    events = d.events(event="restart", app=app)
    for e in events:
        assert 0.8 * e["backoff_ms"] - 1 <= e["delay_ms"] <= 1.2 * e["backoff_ms"] + 1, e
    return [e["backoff_ms"] for e in events]


class Backoff(harness.TestCase):
    def test_the_delay_before_a_refill_doubles_with_each_consecutive_crash(self):
        d = self.daemon()
        d.write_script("crash.sh", SPAWN_LOG + "exit 1\n")
        d.start(app("crashy", "./crash.sh", cwd=".", restart_delay="100ms",
                    restart_delay_max="10s", min_uptime="5s", max_restarts=10))
        spawns = d.wait_for(lambda: len(starts(d)) >= 5 and starts(d), 10, "5 spawns")
        gaps = [b[2] - a[2] for a, b in zip(spawns, spawns[1:5])]
        expected = [0.1, 0.2, 0.4, 0.8]
        for gap, want in zip(gaps, expected):
            # ±20 % jitter on each delay.
            self.assertGreaterEqual(gap, want * 0.8 * 0.95,
                                    f"gaps {gaps}, expected about {expected}")
            self.assertLess(gap, want + SLACK_S, f"gaps {gaps}, expected about {expected}")
        ids = [s[1] for s in spawns]
        self.assertEqual(ids, sorted(ids), "each refill has a higher id")
        self.assertEqual(restart_delays(d, "crashy")[:4], [100, 200, 400, 800])

    def test_the_delay_stops_doubling_at_restart_delay_max(self):
        d = self.daemon()
        d.write_script("crash.sh", SPAWN_LOG + "exit 1\n")
        d.start(app("crashy", "./crash.sh", cwd=".", restart_delay="50ms",
                    restart_delay_max="100ms", min_uptime="5s", max_restarts=10))
        spawns = d.wait_for(lambda: len(starts(d)) >= 5 and starts(d), 10, "5 spawns")
        gaps = [b[2] - a[2] for a, b in zip(spawns, spawns[1:5])]
        for gap, want in zip(gaps, [0.05, 0.1, 0.1, 0.1]):
            self.assertGreaterEqual(gap, want * 0.8 * 0.95, f"gaps {gaps}")
            self.assertLess(gap, want + SLACK_S, f"gaps {gaps}")
        self.assertEqual(restart_delays(d, "crashy")[:4], [50, 100, 100, 100])

    def test_the_delay_resets_after_a_worker_lived_min_uptime(self):
        # Lives 1-3 crash at once (delays 100, 200, 400ms); life 4 runs 600ms,
        # longer than min_uptime, then crashes: its refill must come after the
        # first delay again (100ms), not after 800ms. Life 5 stays up.
        d = self.daemon()
        d.write_script("crash.sh", SPAWN_LOG + """
n=$(wc -l < spawns)
if [ "$n" -le 3 ]; then exit 1; fi
if [ "$n" -eq 4 ]; then
  sleep 0.6
  echo "exit $MUSTER_WORKER_ID $(date +%s%N)" >> spawns
  exit 1
fi
exec sleep 1000
""")
        d.start(app("crashy", "./crash.sh", cwd=".", restart_delay="100ms",
                    restart_delay_max="10s", min_uptime="300ms", max_restarts=10))
        d.wait_for(lambda: len(starts(d)) >= 5, 10, "the fifth life")
        events = spawn_events(d)
        (exit4,) = [e for e in events if e[0] == "exit"]
        start5 = starts(d)[4]
        self.assertLess(start5[2] - exit4[2], 0.1 + SLACK_S,
                        f"refill after a long life took {start5[2] - exit4[2]:.3f}s: {events}")
        self.assertEqual(restart_delays(d, "crashy"), [100, 200, 400, 100])
        self.assertEqual(d.app_status("crashy")["state"], "running")


class CrashLoop(harness.TestCase):
    def start_crash_loop(self, d, max_restarts=3):
        d.write_script("crash.sh", SPAWN_LOG + """
if [ -e healed ]; then exec sleep 1000; fi
exit 1
""")
        d.start(app("crashy", "./crash.sh", cwd=".", restart_delay="20ms",
                    restart_delay_max="20ms", min_uptime="5s",
                    max_restarts=max_restarts, restart_window="60s"))
        d.wait_for(lambda: d.app_status("crashy")["state"] == "failed", 10,
                   "the app to be marked failed")

    def test_more_crashes_than_max_restarts_mark_the_app_failed(self):
        d = self.daemon()
        self.start_crash_loop(d, max_restarts=3)
        status = d.app_status("crashy")
        self.assertEqual(status["workers"], [])
        self.assertEqual(len(starts(d)), 1 + 3, "the first life and max_restarts refills")
        self.assertEqual(len(d.events(event="failed", app="crashy")), 1)

    def test_a_failed_app_spawns_no_more_workers(self):
        d = self.daemon()
        self.start_crash_loop(d)
        count = len(starts(d))
        d.holds(lambda: len(starts(d)) == count and d.app_status("crashy")["state"] == "failed",
                0.5, "no more spawns of the failed app")

    def test_start_recovers_a_failed_app(self):
        d = self.daemon()
        self.start_crash_loop(d)
        d.write_file("healed", "")
        rc, out, err = d.ctl("start", "crashy")
        self.assertEqual(rc, 0, err)
        (w,) = d.wait_workers("crashy", 1)
        self.assertEqual(d.app_status("crashy")["state"], "running")
        self.assertGreater(w["id"], max(s[1] for s in starts(d)[:-1]))

    def test_restart_recovers_a_failed_app(self):
        d = self.daemon()
        self.start_crash_loop(d)
        d.write_file("healed", "")
        rc, out, err = d.ctl("restart", "crashy")
        self.assertEqual(rc, 0, err)
        d.wait_workers("crashy", 1)
        self.assertEqual(d.app_status("crashy")["state"], "running")

    def test_a_recovered_app_gets_a_fresh_crash_budget(self):
        d = self.daemon()
        self.start_crash_loop(d, max_restarts=2)
        first_loop = len(starts(d))
        self.assertEqual(d.ctl("start", "--no-wait", "crashy")[0], 0)
        d.wait_for(lambda: d.app_status("crashy")["state"] == "failed"
                   and len(starts(d)) > first_loop, 10, "the app to fail again")
        self.assertEqual(len(starts(d)), 2 * first_loop)


class RestartModes(harness.TestCase):
    def test_on_failure_does_not_refill_after_a_clean_exit(self):
        d = self.daemon()
        d.write_script("done.sh", SPAWN_LOG + "exit 0\n")
        d.start(app("job", "./done.sh", cwd=".", restart="on-failure", restart_delay="20ms"))
        d.wait_for(lambda: len(starts(d)) == 1 and d.workers("job") == [], 10,
                   "the worker to run and exit")
        d.holds(lambda: len(starts(d)) == 1 and d.workers("job") == [], 0.4,
                "the slot to stay empty")

    def test_on_failure_refills_after_a_non_zero_exit(self):
        d = self.daemon()
        d.write_script("fail-once.sh", SPAWN_LOG + """
if [ "$(wc -l < spawns)" -eq 1 ]; then exit 1; fi
exec sleep 1000
""")
        d.start(app("job", "./fail-once.sh", cwd=".", restart="on-failure",
                    restart_delay="20ms"))
        d.wait_for(lambda: [w for w in d.workers("job") if w["id"] == 2], 10,
                   "worker 2 to replace the failed worker 1")

    def test_on_failure_refills_after_a_worker_is_killed_by_a_signal(self):
        d = self.daemon().start(app("job", "sleep", args=["1000"], restart="on-failure",
                                    restart_delay="20ms"))
        (w,) = d.wait_workers("job", 1)
        os.kill(w["pid"], signal.SIGKILL)
        d.wait_for(lambda: [x for x in d.workers("job") if x["id"] > w["id"]], 10,
                   "a replacement")

    def test_always_refills_after_a_clean_exit(self):
        d = self.daemon()
        d.write_script("done.sh", SPAWN_LOG + "exit 0\n")
        d.start(app("job", "./done.sh", cwd=".", restart="always", restart_delay="20ms",
                    restart_delay_max="20ms"))
        d.wait_for(lambda: len(starts(d)) >= 3, 10, "the slot to be refilled repeatedly")

    def test_never_leaves_the_slot_empty_after_a_crash(self):
        d = self.daemon()
        d.write_script("crash.sh", SPAWN_LOG + "exit 1\n")
        d.start(app("job", "./crash.sh", cwd=".", restart="never", restart_delay="20ms"))
        d.wait_for(lambda: len(starts(d)) == 1 and d.workers("job") == [], 10,
                   "the worker to run and exit")
        d.holds(lambda: len(starts(d)) == 1 and d.workers("job") == [], 0.4,
                "the slot to stay empty")


if __name__ == "__main__":
    unittest.main()
