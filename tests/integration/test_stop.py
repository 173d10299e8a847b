"""Operator verbs on apps and workers: stop (with SIGKILL escalation), start,
restart, scale and kill."""

import json
import os
import time
import unittest

import harness
from harness import app, pid_alive

# A Python worker that survives SIGTERM, SIGUSR1 and SIGHUP, noting each in
# ./SIGNAME.ID. ./ready.ID appears once its signal handlers are in place.
STUBBORN = f"""#!{harness.PYTHON}
import os, signal, time
wid = os.environ["MUSTER_WORKER_ID"]
def note(signo, frame):
    open(signal.Signals(signo).name + "." + wid, "w").close()
for s in (signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP):
    signal.signal(s, note)
open("ready." + wid, "w").close()
while True:
    time.sleep(1000)
"""


def start_stubborn(test, d, **keys):
    d.write_script("stubborn.py", STUBBORN)
    d.start(app("stubborn", "./stubborn.py", cwd=".", **keys))
    workers = d.wait_workers("stubborn", keys.get("instances", 1))
    for w in workers:
        d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10,
                   f"worker {w['id']} to be ready")
    return workers


class Stop(harness.TestCase):
    def test_stop_escalates_to_sigkill_after_stop_timeout(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d, stop_timeout="500ms")
        began = time.monotonic()
        rc, out, err = d.ctl("stop", "stubborn")
        took = time.monotonic() - began
        self.assertEqual(rc, 0, err)
        self.assertFalse(pid_alive(w["pid"]))
        self.assertGreaterEqual(took, 0.45, "SIGKILL must wait for stop_timeout")
        self.assertLess(took, 2.0)
        (exit_event,) = d.events(event="exit", id=w["id"])
        self.assertEqual((exit_event["signal"], exit_event["code"]), ("SIGKILL", None))

    def test_stop_of_a_worker_that_obeys_sigterm_does_not_wait_for_stop_timeout(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], stop_timeout="10s"))
        d.wait_workers("web", 1)
        began = time.monotonic()
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        self.assertLess(time.monotonic() - began, 3)
        self.assertNotIn("SIGKILL", d.log_text())

    def test_concurrent_stops_are_all_answered_once_the_workers_exited(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d, stop_timeout="400ms")
        with d.connect() as a, d.connect() as b:
            a.send(b'{"verb":"stop","app":"stubborn"}\n')
            b.send(b'{"verb":"stop","app":"stubborn"}\n')
            self.assertEqual(json.loads(a.read_line()), {"ok": True, "app": "stubborn"})
            self.assertEqual(json.loads(b.read_line()), {"ok": True, "app": "stubborn"})
        self.assertFalse(pid_alive(w["pid"]))

    def test_other_clients_are_served_while_a_stop_is_in_progress(self):
        d = self.daemon()
        start_stubborn(self, d, stop_timeout="1s")
        with d.connect() as stopper:
            stopper.send(b'{"verb":"stop","app":"stubborn"}\n')
            d.wait_for(lambda: d.workers("stubborn")[0]["state"] == "disconnecting", 5,
                       "the worker to be disconnecting")
            self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})
            self.assertEqual(json.loads(stopper.read_line())["ok"], True)

    def test_stop_during_a_restart_delay_cancels_the_refill(self):
        d = self.daemon()
        d.write_script("crash.sh", "#!/bin/sh\necho x >> spawns\nexit 1\n")
        d.start(app("crashy", "./crash.sh", cwd=".", restart_delay="500ms"))
        spawns = lambda: len(d.read_file("spawns").splitlines())
        d.wait_for(lambda: spawns() == 1 and d.workers("crashy") == [], 10,
                   "the slot to wait out its restart delay")
        began = time.monotonic()
        self.assertEqual(d.ctl("stop", "crashy")[0], 0)
        self.assertLess(time.monotonic() - began, 0.4, "nothing to wait for")
        d.holds(lambda: spawns() == 1, 0.7, "no refill after stop")
        self.assertEqual(d.app_status("crashy")["state"], "stopped")

    def test_stop_uses_the_configured_stop_signal(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d, stop_signal="SIGUSR1", stop_timeout="300ms")
        self.assertEqual(d.ctl("stop", "stubborn")[0], 0)
        self.assertTrue(os.path.exists(d.path(f"SIGUSR1.{w['id']}")),
                        "the worker got SIGUSR1 before SIGKILL")

    def test_stop_replies_only_after_every_worker_has_exited(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=3))
        pids = [w["pid"] for w in d.wait_workers("web", 3)]
        rc, out, err = d.ctl("stop", "web")
        self.assertEqual(rc, 0, err)
        self.assertEqual([p for p in pids if pid_alive(p)], [])
        status = d.app_status("web")
        self.assertEqual(status["state"], "stopped")
        self.assertEqual(status["workers"], [])

    def test_a_stopped_app_is_not_refilled(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], restart_delay="20ms"))
        d.wait_workers("web", 1)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        d.holds(lambda: d.workers("web") == [], 0.3, "the stopped app to stay empty")

    def test_stop_reply_names_the_app(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        d.wait_workers("web", 1)
        self.assertEqual(d.request({"verb": "stop", "app": "web"}), {"ok": True, "app": "web"})

    def test_start_after_stop_spawns_fresh_workers(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        before = d.wait_workers("web", 2)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        rc, out, err = d.ctl("start", "web")
        self.assertEqual(rc, 0, err)
        # start replies once the workers are spawned.
        after = d.workers("web")
        self.assertEqual([w["instance"] for w in after], [0, 1])
        self.assertGreater(min(w["id"] for w in after), max(w["id"] for w in before))
        self.assertEqual(d.app_status("web")["state"], "running")

    def test_start_of_a_running_app_changes_nothing(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        before = d.wait_workers("web", 2)
        self.assertEqual(d.ctl("start", "web")[0], 0)
        self.assertEqual([w["id"] for w in d.workers("web")], [w["id"] for w in before])

    def test_restart_replaces_every_worker(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        before = d.wait_workers("web", 2)
        rc, out, err = d.ctl("restart", "web")
        self.assertEqual(rc, 0, err)
        after = d.workers("web")
        self.assertEqual(len(after), 2)
        self.assertEqual([p for p in (w["pid"] for w in before) if pid_alive(p)], [])
        self.assertGreater(min(w["id"] for w in after), max(w["id"] for w in before))
        self.assertEqual(d.app_status("web")["state"], "running")

    def test_verbs_on_an_unknown_app_fail(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        for verb in ("start", "stop", "restart"):
            rc, out, err = d.ctl(verb, "wbe")
            self.assertEqual(rc, 1, verb)
            self.assertIn("no app named 'wbe'", err)
        rc, out, err = d.ctl("scale", "wbe", "2")
        self.assertEqual(rc, 1)
        self.assertIn("no app named 'wbe'", err)


class Scale(harness.TestCase):
    def test_scale_up_fills_new_slots(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=1))
        (first,) = d.wait_workers("web", 1)
        reply = d.request({"verb": "scale", "app": "web", "count": 3})
        self.assertEqual({k: reply[k] for k in ("ok", "app", "instances")},
                         {"ok": True, "app": "web", "instances": 3})
        workers = d.wait_workers("web", 3)
        self.assertEqual([w["instance"] for w in workers], [0, 1, 2])
        self.assertEqual(workers[0]["id"], first["id"], "the existing worker is kept")
        self.assertEqual(d.app_status("web")["instances"], 3)

    def test_scale_down_stops_the_highest_slots(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=3))
        before = d.wait_workers("web", 3)
        rc, out, err = d.ctl("scale", "web", "1")
        self.assertEqual(rc, 0, err)
        (kept,) = d.wait_workers("web", 1)
        self.assertEqual(kept["id"], before[0]["id"])
        self.assertEqual(d.app_status("web")["instances"], 1)
        d.wait_for(lambda: not any(pid_alive(w["pid"]) for w in before[1:]), 10,
                   "the removed slots' workers to exit")

    def test_scale_to_zero_leaves_no_workers(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        before = d.wait_workers("web", 2)
        self.assertEqual(d.ctl("scale", "web", "0")[0], 0)
        d.wait_for(lambda: d.workers("web") == [], 10, "no workers")
        self.assertEqual(d.app_status("web")["instances"], 0)
        self.assertFalse(any(pid_alive(w["pid"]) for w in before))

    def test_scale_of_a_stopped_app_spawns_nothing_until_start(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=1))
        d.wait_workers("web", 1)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        self.assertEqual(d.ctl("scale", "web", "2")[0], 0)
        self.assertEqual(d.workers("web"), [])
        self.assertEqual(d.ctl("start", "web")[0], 0)
        d.wait_workers("web", 2)

    def test_scale_rejects_a_negative_count(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        reply = d.request({"verb": "scale", "app": "web", "count": -1})
        self.assertFalse(reply["ok"])
        self.assertIn("'count' must be a non-negative integer", reply["error"])


class Kill(harness.TestCase):
    def test_kill_with_a_signal_reaches_the_worker(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d)
        rc, out, err = d.ctl("kill", w["id"], "--signal", "SIGUSR1")
        self.assertEqual(rc, 0, err)
        d.wait_for(lambda: os.path.exists(d.path(f"SIGUSR1.{w['id']}")), 10,
                   "the worker to handle SIGUSR1")
        self.assertTrue(pid_alive(w["pid"]), "SIGUSR1 does not end this worker")

    def test_kill_reply_names_the_worker_pid_and_signal(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d)
        reply = d.request({"verb": "kill", "id": w["id"], "signal": "SIGUSR1"})
        self.assertEqual(reply, {"ok": True, "id": w["id"], "pid": w["pid"],
                                 "signal": "SIGUSR1"})

    def test_kill_sends_sigterm_by_default(self):
        d = self.daemon()
        (w,) = start_stubborn(self, d)
        reply = d.request({"verb": "kill", "id": w["id"]})
        self.assertEqual(reply["signal"], "SIGTERM")
        d.wait_for(lambda: os.path.exists(d.path(f"SIGTERM.{w['id']}")), 10,
                   "the worker to get SIGTERM")

    def test_kill_of_an_unknown_id_exits_1(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        d.wait_workers("web", 1)
        rc, out, err = d.ctl("kill", "999")
        self.assertEqual(rc, 1)
        self.assertIn("no worker with id 999", err)

    def test_kill_with_an_unknown_signal_is_refused(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        (w,) = d.wait_workers("web", 1)
        reply = d.request({"verb": "kill", "id": w["id"], "signal": "SIGFOO"})
        self.assertFalse(reply["ok"])
        self.assertIn("unknown signal 'SIGFOO'", reply["error"])
        self.assertEqual(d.ctl("kill", w["id"], "--signal", "SIGFOO")[0], 2)
        self.assertTrue(pid_alive(w["pid"]))


if __name__ == "__main__":
    unittest.main()
