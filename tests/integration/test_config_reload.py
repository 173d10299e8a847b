"""Config reload (`musterctl reload-config`, control verb `reload-config`,
SIGHUP): musterd re-reads the file it was started with and applies the
difference. New apps start; removed apps stop and leave status; apps whose
worker-facing settings changed (exec, args, env, sockets, ... or a socket they
use moved) are rolling-reloaded (new worker ids, no failed request); apps with
only policy changes (restart*, max_restarts, instances, ...) take them without
a restart (same worker ids). Sockets, broken files, SIGHUP and an unchanged
file: test_config_reload_files.py.

Each test rewrites the daemon's own config file (harness: Daemon.config_path,
written in place by Daemon.write_config) and asks for a reload. Everything is
awaited with deadlines; nothing sleeps and hopes."""

import json
import os
import signal
import time
import unittest

import harness
import node_support as ns
from client_support import Load, ok
from node_support import socket_table
from config_reload_support import (
    sleeper, hello, reload_config, ids, pids, identities, cmdline, wait_gone, fork_events,
    TestCase)


# --- apps added, removed ---------------------------------------------------------

class AppsAddedAndRemoved(TestCase):
    def test_a_new_app_starts_and_the_others_are_left_alone(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        a = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2) + sleeper("b", instances=2))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_added=["b"])
        b = d.wait_workers("b", 2)
        self.assertEqual([w["instance"] for w in b], [0, 1])
        self.assertTrue(min(ids(b)) > max(ids(a)), (a, b))
        self.assertEqual(d.app_status("b")["state"], "running")
        self.assertEqual(identities(d.workers("a")), identities(a))
        self.assertEqual(len(fork_events(d, "a")), 2)

    def test_a_removed_app_stops_and_leaves_status(self):
        d = self.daemon()
        d.start(sleeper("a") + sleeper("b", instances=2))
        a = d.wait_workers("a", 1)
        b = d.wait_workers("b", 2)

        d.write_config(sleeper("a"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_removed=["b"])
        wait_gone(d, pids(b))
        d.wait_for(lambda: "b" not in [x["name"] for x in d.status()["apps"]], 10,
                   "app b to leave status")
        # Stopped by musterd (voluntary exits), not crashed, and not restarted.
        exits = d.events(event="exit", app="b")
        self.assertEqual(sorted(e["id"] for e in exits), sorted(ids(b)))
        self.assertTrue(all(e["voluntary"] for e in exits), exits)
        self.assertEqual(len(fork_events(d, "b")), 2)
        self.assertEqual(identities(d.workers("a")), identities(a))
        # The name is gone for the control verbs too.
        self.assertIs(d.request({"verb": "status", "app": "b"}).get("ok"), False)

    def test_a_removed_app_comes_back_as_a_new_app(self):
        d = self.daemon()
        d.start(sleeper("a") + sleeper("b"))
        (old_b,) = d.wait_workers("b", 1)
        d.write_config(sleeper("a"))
        self.assert_changes(d, reload_config(d), apps_removed=["b"])
        d.wait_for(lambda: "b" not in [x["name"] for x in d.status()["apps"]], 10,
                   "app b to leave status")
        d.write_config(sleeper("a") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_added=["b"])
        (new_b,) = d.wait_workers("b", 1)
        self.assertGreater(new_b["id"], old_b["id"])

    def test_an_app_re_added_while_its_old_workers_stop_is_the_one_controlled(self):
        """Removed, then added back before its old worker has exited: the
        control verbs must act on the new app, not on the one going away."""
        d = self.daemon()
        # It notes when it ignores SIGTERM: before that, a stop would end it.
        d.write_script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\ntouch \"$0.ready\"\n"
                                      "while :; do sleep 0.1; done\n")
        b = harness.app("b", d.path("stubborn.sh"), stop_timeout="8s")
        d.start(sleeper("a") + b)
        (old,) = d.wait_workers("b", 1)
        d.wait_for(lambda: os.path.exists(d.path("stubborn.sh.ready")), 10,
                   "the worker to ignore SIGTERM")
        d.write_config(sleeper("a"))
        self.assert_changes(d, reload_config(d), apps_removed=["b"])
        d.write_config(sleeper("a") + b)
        self.assert_changes(d, reload_config(d), apps_added=["b"])
        self.assertTrue(harness.pid_alive(old["pid"]), "the old worker left too early")

        reply = d.request({"verb": "scale", "app": "b", "count": 2})
        self.assertIs(reply.get("ok"), True, reply)

        def running_b():
            apps = [x for x in d.status()["apps"] if x["name"] == "b"]
            return (len(apps) == 1 and apps[0]["state"] == "running" and
                    len(apps[0]["workers"]) == 2 and old["pid"] not in pids(apps[0]["workers"]))
        d.wait_for(running_b, 15, "one app b, running, scaled to 2 workers")


# --- worker-facing changes: rolling reload ----------------------------------------

class WorkerFacingChanges(TestCase):
    def test_an_env_change_rolling_reloads_a_node_app_with_zero_failed_requests(self):
        d = self.daemon()
        d.start(socket_table("web") + hello(env={"GENERATION": "1"}))
        before = ns.wait_listening(d, "web", 2)
        port = ns.bound_port(d, "web")
        load = Load(self, port, threads=3, pause=0.005)  # light load
        load.wait_answered(20)

        d.write_config(socket_table("web") + hello(env={"GENERATION": "2"}))
        started = time.monotonic()
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["web"])
        self.wait_reload_done(d, "web")
        ended = time.monotonic()
        after = ns.wait_listening(d, "web", 2)
        load.wait_answered(load.answered() + 20)
        results = load.stop()

        self.assertEqual([w["instance"] for w in after], [0, 1])
        self.assertTrue(min(ids(after)) > max(ids(before)), (before, after))
        wait_gone(d, pids(before))
        for w in after:
            self.assertEqual(harness.proc_environ(w["pid"]).get("GENERATION"), "2", w)
        # Zero failed requests; some were in flight during the reload, and
        # both generations answered.
        failed = [(round(s, 3), r) for s, _, r in results if not ok(r)]
        self.assertEqual(failed, [], f"{len(failed)} of {len(results)} requests failed "
                                     f"(reload from {started:.3f} to {ended:.3f})")
        during = [r for s, e, r in results if e >= started and s <= ended]
        self.assertTrue(during, "no request overlapped the reload: the load proves nothing")
        served = {ns.worker_of(r[1]) for _, _, r in results}
        self.assertTrue(served & set(ids(before)), served)
        self.assertTrue(served & set(ids(after)), served)
        self.assertLessEqual(served, set(ids(before)) | set(ids(after)))
        # The old workers were retired, not crashed.
        exits = [e for e in d.events(event="exit", app="web") if e["id"] in ids(before)]
        self.assertTrue(exits and all(e["voluntary"] for e in exits), exits)
        self.assertEqual(d.app_status("web")["restarts"], 0)

    def test_an_args_change_rolling_reloads_a_plain_app(self):
        d = self.daemon()
        d.start(sleeper("a", "600", instances=2) + sleeper("b"))
        before = d.wait_workers("a", 2)
        b = d.wait_workers("b", 1)
        self.assertEqual(cmdline(before[0]["pid"])[1:], ["600"])

        d.write_config(sleeper("a", "601", instances=2) + sleeper("b"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["a"])
        self.wait_reload_done(d, "a")
        after = d.wait_workers("a", 2)
        self.assertEqual([w["instance"] for w in after], [0, 1])
        self.assertTrue(min(ids(after)) > max(ids(before)), (before, after))
        for w in after:
            self.assertEqual(cmdline(w["pid"])[1:], ["601"], w)
        wait_gone(d, pids(before))
        self.assertEqual(identities(d.workers("b")), identities(b))


    def test_a_change_made_during_a_rolling_reload_reaches_every_worker(self):
        d = self.daemon()
        d.start(socket_table("web") + hello(env={"GENERATION": "1"}))
        ns.wait_listening(d, "web", 2)
        d.write_config(socket_table("web") + hello(env={"GENERATION": "2"}))
        # reload-config answers once its rolling reload is over: the first
        # request is left waiting while the second one is made.
        with d.connect(timeout=20) as first:
            first.send(json.dumps({"verb": "reload-config"}) + "\n")
            d.wait_for(lambda: d.app_status("web")["state"] == "reloading", 5,
                       "the first rolling reload")
            d.write_config(socket_table("web") + hello(env={"GENERATION": "3"}))
            self.assert_changes(d, reload_config(d), apps_reloaded=["web"])
            self.assertIs(json.loads(first.read_line()).get("ok"), True)

        seen = []

        def all_third():
            app = d.app_status("web")
            seen[:] = [(w["id"], w["state"], harness.proc_environ(w["pid"]).get("GENERATION"))
                       for w in app["workers"]]
            return (app["state"] == "running" and
                    [(state, g) for _, state, g in seen] == [("listening", "3")] * 2)
        try:
            d.wait_for(all_third, 5, "both workers to run with GENERATION=3")
        except AssertionError as e:
            raise AssertionError(f"{e}\nworkers (id, state, GENERATION): {seen}") from None


# --- policy-only changes: applied in place ----------------------------------------

class PolicyChanges(TestCase):
    def test_restart_never_takes_effect_without_restarting_workers(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        first = d.wait_workers("a", 2)
        # Under the old policy (restart = "always") a crashed worker is replaced.
        os.kill(first[0]["pid"], signal.SIGKILL)
        d.wait_for(lambda: [w for w in d.workers("a") if w["instance"] == 0
                            and w["id"] != first[0]["id"]], 10, "slot 0 to be refilled")
        before = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2, restart="never", max_restarts=3))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_updated=["a"])
        self.assertEqual(identities(d.workers("a")), identities(before))
        self.assertEqual(d.events(event="reload", app="a"), [])

        # Now a crash leaves the slot empty.
        forks = len(fork_events(d, "a"))
        os.kill(before[0]["pid"], signal.SIGKILL)
        ns.wait_event(d, event="exit", app="a", id=before[0]["id"])
        d.wait_log("slot 0 stays empty (restart = never)")
        d.holds(lambda: identities(d.workers("a")) == identities(before[1:]), 1.0,
                "slot 0 to stay empty")
        self.assertEqual(len(fork_events(d, "a")), forks)
        self.assertEqual(d.app_status("a")["instances"], 2)

    def test_a_new_restart_delay_applies_to_the_next_crash(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        before = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2, restart_delay="1500ms",
                               max_restarts=5, restart_window="30s"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_updated=["a"])
        self.assertEqual(identities(d.workers("a")), identities(before))

        os.kill(before[1]["pid"], signal.SIGKILL)
        restart = ns.wait_event(d, event="restart", app="a", instance=1)
        self.assertEqual(restart["backoff_ms"], 1500, restart)
        d.wait_workers("a", 2)
        self.assertEqual(identities(d.workers("a"))[0], identities(before)[0])

    def test_an_instances_change_scales_and_a_runtime_scale_stands_otherwise(self):
        d = self.daemon()
        d.start(sleeper("a", instances=1) + sleeper("b"))
        (first,) = d.wait_workers("a", 1)
        b = d.wait_workers("b", 1)

        # Up: the existing worker stays, two new slots are filled.
        d.write_config(sleeper("a", instances=3) + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        three = d.wait_workers("a", 3)
        self.assertEqual(identities(three)[0], identities([first])[0])
        self.assertEqual([w["instance"] for w in three], [0, 1, 2])
        self.assertEqual(d.events(event="reload", app="a"), [])

        # A runtime scale stands across a reload that leaves instances alone...
        rc, out, err = d.ctl("scale", "a", "2")
        self.assertEqual(rc, 0, err)
        two = d.wait_workers("a", 2)
        d.write_config(sleeper("a", instances=3, restart_delay="70ms") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        d.holds(lambda: identities(d.workers("a")) == identities(two), 0.5,
                "the runtime scale (2) to stand")
        self.assertEqual(d.app_status("a")["instances"], 2)

        # ... but not across one that changes it: down to the file's 1.
        d.write_config(sleeper("a", instances=1, restart_delay="70ms") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        (one,) = d.wait_workers("a", 1)
        self.assertEqual(identities([one]), identities(two[:1]))
        wait_gone(d, [two[1]["pid"]])
        self.assertEqual(d.app_status("a")["instances"], 1)
        self.assertEqual(identities(d.workers("b")), identities(b))


if __name__ == "__main__":
    unittest.main()
