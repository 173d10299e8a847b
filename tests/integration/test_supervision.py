"""Supervision in the bad moments (issue #12): crash loops are per slot, a
failed app is retried after failed_retry, restart delays are jittered, status
says why a slot is empty, `start` and `reload-config` never report success for
something that failed, racing stop/start requests each get one reply, and a
large scale never holds the daemon."""

import json
import os
import signal
import socket
import threading
import time
import unittest

import harness
import node_support as ns
from harness import app
from client_support import socket_table

# A worker that crashes once per slot (a shared outage), then runs: the first
# life of each instance leaves a marker and exits 1.
CRASH_ONCE = """#!/bin/sh
if [ ! -e "crashed-$MUSTER_INSTANCE" ]; then
  touch "crashed-$MUSTER_INSTANCE"
  exit 1
fi
exec sleep 1000
"""

# Slot 0 always crashes (exit 3); the others run.
SLOT0_CRASHES = """#!/bin/sh
if [ "$MUSTER_INSTANCE" = 0 ] && [ ! -e healed ]; then exit 3; fi
exec sleep 1000
"""

# Every slot crashes with exit 3 until ./healed exists.
CRASHES_UNTIL_HEALED = """#!/bin/sh
echo "$MUSTER_WORKER_ID" >> spawns
if [ ! -e healed ]; then exit 3; fi
exec sleep 1000
"""


# Takes a second to stop on SIGTERM (once ./trapped-ID exists).
SLOW_STOP = """#!/bin/sh
trap 'sleep 1; exit 0' TERM
echo yes > "trapped-$MUSTER_WORKER_ID"
while :; do sleep 0.1; done
"""


def spawns(d):
    return d.read_file("spawns").split()


class SharedOutage(harness.TestCase):
    def test_twelve_workers_that_crash_once_each_all_come_back(self):
        # Failed on the per-app count: 12 crashes > max_restarts 10 marked the
        # app failed with no worker left.
        d = self.daemon()
        d.write_script("once.sh", CRASH_ONCE)
        d.start(app("web", "./once.sh", cwd=".", instances=12, max_restarts=10,
                    restart_window="60s", restart_delay="20ms", restart_delay_max="200ms"))
        d.wait_workers("web", 12, timeout=15)
        d.holds(lambda: d.app_status("web")["state"] == "running"
                and len(d.workers("web")) == 12, 0.5, "all 12 workers to stay up")
        self.assertEqual(d.events(event="failed", app="web"), [])
        self.assertEqual(d.events(event="crash_loop", app="web"), [])

    def test_a_slot_in_a_crash_loop_waits_while_the_others_serve(self):
        d = self.daemon()
        d.write_script("slot0.sh", SLOT0_CRASHES)
        d.start(app("web", "./slot0.sh", cwd=".", instances=3, max_restarts=2,
                    restart_delay="20ms", restart_delay_max="20ms", failed_retry="1m"))
        d.wait_for(lambda: d.events(event="crash_loop", app="web"), 10,
                      "slot 0 to be found in a crash loop")
        (loop,) = d.events(event="crash_loop", app="web")
        self.assertEqual(loop["instance"], 0)
        self.assertEqual(loop["last_exit"], "exited with code 3")
        status = d.app_status("web")
        self.assertEqual(status["state"], "running")
        self.assertEqual(sorted(w["instance"] for w in status["workers"]), [1, 2])
        (empty,) = status["empty_slots"]
        self.assertEqual(empty["instance"], 0)
        self.assertTrue(empty["crash_loop"])
        self.assertEqual(empty["last_exit"], "exited with code 3")
        self.assertTrue(50_000 < empty["next_try_ms"] <= 60_000, empty)
        rc, out, _ = d.ctl("status", "web")
        self.assertEqual(rc, 0)
        self.assertIn("slot 0: exited with code 3 (crash loop); next try in", out)

    def test_restart_delays_are_jittered_and_capped(self):
        # Failed before jitter: four slots that crashed together all waited
        # exactly restart_delay and came back (and crashed) in lockstep.
        d = self.daemon()
        d.write_script("crash.sh", "#!/bin/sh\nexit 1\n")
        d.start(app("web", "./crash.sh", cwd=".", instances=4, max_restarts=1000,
                    restart_delay="100ms", restart_delay_max="150ms"))
        events = d.wait_for(lambda: (lambda e: e if len(e) >= 12 else None)(
            d.events(event="restart", app="web")), 15, "12 restarts")
        delays = [e["delay_ms"] for e in events]
        self.assertGreater(len(set(delays)), 1, delays)
        for e in events:
            self.assertLessEqual(e["delay_ms"], 150, e)
            self.assertGreaterEqual(e["delay_ms"], 0.8 * e["backoff_ms"] - 1, e)


class FailedRetry(harness.TestCase):
    def start_failing(self, d, failed_retry, instances=2):
        d.write_script("crash.sh", CRASHES_UNTIL_HEALED)
        d.start(app("web", "./crash.sh", cwd=".", instances=instances, max_restarts=1,
                    restart_delay="20ms", restart_delay_max="20ms",
                    failed_retry=failed_retry), metrics_listen="127.0.0.1:0")
        d.wait_for(lambda: d.app_status("web")["state"] == "failed", 10, "the app to fail")

    def test_a_failed_app_is_started_again_after_failed_retry(self):
        # Failed before failed_retry existed: the app stayed failed for good.
        d = self.daemon()
        self.start_failing(d, "1s")
        (failed,) = d.events(event="failed", app="web")
        self.assertEqual(failed["retry_in_ms"], 1000)
        self.assertEqual([s["last_exit"] for s in failed["slots"]], ["exited with code 3"] * 2)
        status = d.app_status("web")
        self.assertTrue(0 <= status["retry_in_ms"] <= 1000, status)
        self.assertEqual([s["last_exit"] for s in status["empty_slots"]],
                         ["exited with code 3"] * 2)
        rc, out, _ = d.ctl("status")
        self.assertIn("failed: every slot is in a crash loop; started again in", out)
        # Still failing when retried: failed again, and counted each time.
        d.wait_for(lambda: len(d.events(event="failed", app="web")) >= 2, 10,
                   "a second failure after the retry")
        self.assertTrue(d.events(event="retry", app="web"))
        self.assertGreaterEqual(metric(d, "muster_app_failures_total", "web"), 2)
        # The outage ends: the next retry brings the app back without anyone.
        d.write_file("healed", "")
        d.wait_workers("web", 2, timeout=10)
        self.assertEqual(d.app_status("web")["state"], "running")

    def test_failed_retry_zero_means_never(self):
        d = self.daemon()
        self.start_failing(d, "0s")
        count = len(spawns(d))
        d.write_file("healed", "")
        d.holds(lambda: d.app_status("web")["state"] == "failed" and len(spawns(d)) == count,
                1.5, "the app to stay failed")
        self.assertIsNone(d.app_status("web")["retry_in_ms"])
        self.assertIsNone(d.events(event="failed", app="web")[0]["retry_in_ms"])


def metric(d, name, app_name):
    import http.client
    import re
    d.wait_log("metrics at http://")
    host, port = re.search(r"metrics at http://([0-9.]+):(\d+)/metrics", d.log_text()).groups()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith(name + "{") and f'app="{app_name}"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} for {app_name} in:\n{text}")


class HonestStart(harness.TestCase):
    def failed_app(self):
        """A daemon whose app `web` has failed (every worker exits 3), with no retry."""
        d = self.daemon()
        d.write_script("crash.sh", CRASHES_UNTIL_HEALED)
        d.start(app("web", "./crash.sh", cwd=".", max_restarts=1, restart_delay="20ms",
                    restart_delay_max="20ms", failed_retry="0s"))
        d.wait_for(lambda: d.app_status("web")["state"] == "failed", 10, "the app to fail")
        return d

    def test_start_of_an_app_that_fails_at_once_exits_1_with_the_reason(self):
        # Failed before: `start` printed "started" and exited 0.
        d = self.failed_app()
        rc, out, err = d.ctl("start", "web")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("exited with code 3", err)
        self.assertNotIn("started", out)

    def test_start_no_wait_answers_at_once(self):
        d = self.failed_app()
        rc, out, err = d.ctl("start", "--no-wait", "web")
        self.assertEqual(rc, 0, err)

    def test_start_of_a_healthy_app_waits_for_its_workers(self):
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"], instances=3))
        d.wait_workers("web", 3)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        rc, out, err = d.ctl("start", "web")
        self.assertEqual((rc, out), (0, "web: started\n"), err)
        self.assertEqual(len(d.workers("web")), 3)
        self.assertTrue(all(w["ready"] for w in d.workers("web")))

    def test_all_names_every_app(self):
        d = self.daemon()
        d.start(app("a", "sleep", args=["1000"]) + app("b", "sleep", args=["1000"]))
        d.wait_workers("a", 1)
        d.wait_workers("b", 1)
        reply = d.request({"verb": "stop", "app": "all"}, timeout=20)
        self.assertEqual(reply, {"ok": True, "apps": ["a", "b"]})
        self.assertEqual([d.app_status(n)["state"] for n in "ab"], ["stopped"] * 2)
        reply = d.request({"verb": "start", "app": "all"}, timeout=20)
        self.assertEqual(reply, {"ok": True, "apps": ["a", "b"]})
        reply = d.request({"verb": "restart", "app": "all"}, timeout=20)
        self.assertEqual(reply, {"ok": True, "apps": ["a", "b"]})
        reply = d.request({"verb": "reload", "app": "all"}, timeout=20)
        self.assertEqual(reply, {"ok": True, "apps": ["a", "b"]})


class FailedReloadConfig(ns.TestCase):
    def test_a_reload_config_whose_rolling_reload_fails_exits_1_and_keeps_the_old_settings(self):
        # Failed before: reload-config said ok at once, and every later refill
        # of a slot used the port that could not be bound.
        d = self.daemon()
        port = ns.free_port()
        d.start(ns.node_app("web", "hello.js", instances=2, env={"HELLO_PORT": str(port)}))
        before = ns.wait_listening(d, "web", 2)
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        try:
            d.write_config(ns.node_app("web", "hello.js", instances=2,
                                       env={"HELLO_PORT": str(taken), "HELLO_HOST": "127.0.0.1"}))
            rc, out, err = d.ctl("reload-config", timeout=60)
            self.assertEqual(rc, 1, out + err)
            self.assertIn("web:", err)
            self.assertIn("keeps its previous settings", err)
            # A later refill of a slot runs with the settings that were running.
            pid = d.workers("web")[0]["pid"]
            os.kill(pid, signal.SIGKILL)
            d.wait_for(lambda: len([w for w in d.workers("web")
                                    if w["pid"] != pid and w["state"] == "listening"]) == 2,
                       15, "the killed worker to be replaced")
            for w in d.workers("web"):
                self.assertEqual(harness.proc_environ(w["pid"]).get("HELLO_PORT"), str(port), w)
            # The same file again is still a change (the old settings are in force).
            rc, out, err = d.ctl("reload-config", timeout=60)
            self.assertEqual(rc, 1, out + err)
        finally:
            busy.close()
        self.assertEqual(len(before), 2)


class RacingRequests(harness.TestCase):
    def slow_stopping_app(self):
        """A daemon whose app `web` has one worker that takes 1s to stop."""
        d = self.daemon()
        d.write_script("slow-stop.sh", SLOW_STOP)
        d.start(app("web", "./slow-stop.sh", cwd=".", stop_timeout="5s"))
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: d.read_file(f"trapped-{w['id']}"), 5, "the worker's TERM trap")
        return d

    def stop_begun(self, d):
        d.wait_for(lambda: d.workers("web") and
                   d.workers("web")[0]["state"] == "disconnecting", 5, "the stop to begin")

    def test_a_start_while_the_app_is_stopping_is_refused_and_the_stop_is_answered(self):
        # Failed before: the start made the stop wait forever (no reply).
        d = self.slow_stopping_app()
        with d.connect(timeout=20) as stopper:
            stopper.send(json.dumps({"verb": "stop", "app": "web"}) + "\n")
            self.stop_begun(d)
            reply = d.request({"verb": "start", "app": "web"}, timeout=20)
            self.assertFalse(reply["ok"], reply)
            self.assertIn("is stopping", reply["error"])
            self.assertEqual(json.loads(stopper.read_line()), {"ok": True, "app": "web"})
        self.assertEqual(d.app_status("web")["state"], "stopped")

    def test_a_stop_during_a_restart_wins(self):
        d = self.slow_stopping_app()
        with d.connect(timeout=20) as restarter, d.connect(timeout=20) as stopper:
            restarter.send(json.dumps({"verb": "restart", "app": "web"}) + "\n")
            self.stop_begun(d)
            stopper.send(json.dumps({"verb": "stop", "app": "web"}) + "\n")
            replies = [json.loads(restarter.read_line()), json.loads(stopper.read_line())]
        self.assertFalse(replies[0]["ok"], replies)
        self.assertIn("stopped again", replies[0]["error"])
        self.assertEqual(replies[1], {"ok": True, "app": "web"})
        d.holds(lambda: d.app_status("web")["state"] == "stopped" and not d.workers("web"),
                0.5, "the app to stay stopped")


    def test_a_restart_whose_app_is_removed_while_it_stops_says_so(self):
        # ARCHITECTURE.md "Lifetimes": the restart held a raw App* across the
        # asynchronous stop; reload-config removing the app freed it.
        d = self.slow_stopping_app()
        with d.connect(timeout=20) as restarter:
            restarter.send(json.dumps({"verb": "restart", "app": "web"}) + "\n")
            self.stop_begun(d)
            d.write_config(app("other", "sleep", args=["1000"]))
            self.assertTrue(d.request({"verb": "reload-config"}, timeout=20)["ok"])
            reply = json.loads(restarter.read_line())
        self.assertEqual(reply, {"ok": False,
                                 "error": "app 'web' was removed while it was stopping"})
        self.assertTrue(d.request({"verb": "ping"})["pong"])
        d.wait_workers("other", 1)


class LargeScale(harness.TestCase):
    def test_scale_answers_at_once_and_the_daemon_keeps_answering(self):
        # Failed before: scale forked every worker before replying.
        d = self.daemon()
        d.start(app("many", "sleep", args=["1000"], instances=1))
        d.wait_workers("many", 1)
        latencies = []
        stop = threading.Event()

        def ping():
            while not stop.is_set():
                t0 = time.monotonic()
                d.request({"verb": "ping"}, timeout=10)
                latencies.append(time.monotonic() - t0)
                time.sleep(0.005)
        pinger = threading.Thread(target=ping)
        pinger.start()
        try:
            t0 = time.monotonic()
            reply = d.request({"verb": "scale", "app": "many", "count": 400}, timeout=30)
            took = time.monotonic() - t0
            self.assertTrue(reply["ok"], reply)
            d.wait_workers("many", 400, timeout=60)
        finally:
            stop.set()
            pinger.join()
        self.assertLess(took, 0.2 * harness.SLOWDOWN, f"scale took {took:.3f}s")
        self.assertLess(max(latencies), 0.25 * harness.SLOWDOWN,
                        f"slowest ping {max(latencies):.3f}s of {len(latencies)}")
        d.request({"verb": "scale", "app": "many", "count": 1}, timeout=30)
        d.wait_for(lambda: len(d.workers("many")) == 1, 30, "scaling back down")

    def test_scale_above_the_bound_is_refused(self):
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"]))
        reply = d.request({"verb": "scale", "app": "web", "count": 4097})
        self.assertEqual(reply, {"ok": False, "error": "at most 4096 instances per app"})
        self.assertEqual(d.app_status("web")["instances"], 1)


if __name__ == "__main__":
    unittest.main()
