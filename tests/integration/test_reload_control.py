"""Rolling reload, continued (under load and failing: test_reload.py): at most
`reload_surge` new workers at a time, `--no-wait`, a second reload or a stop
meeting one, a stopped or unknown app.

Everything is awaited with deadlines (harness.Poll); nothing sleeps and hopes."""

import json

import harness
import node_support as ns
from reload_support import (
    TestCase, node_hello, StatusWatcher, extra_workers, reload_events, wait_reload_event, Checks)


class ReloadSurge(TestCase, Checks):
    def test_reload_surge_2_starts_at_most_two_new_workers_at_once(self):
        d = self.daemon()
        # Each worker takes a while to listen, so each step of the reload lasts
        # long enough for the status poller to see it.
        port, before = node_hello(d, instances=4, reload_surge=2,
                                  env={"LISTEN_DELAY_MS": "300"})
        watcher = StatusWatcher(self, d)
        reply = d.request({"verb": "reload", "app": "web"}, timeout=25)
        samples = watcher.stop()
        self.assertEqual(reply, {"ok": True, "app": "web"}, d.log_tail())
        # At most 2 new workers at once, and 2 were seen together.
        self.assertEqual(self.assert_rolling(samples, surge=2), 2)
        not_ready = max(sum(not w["ready"] for w in s["workers"]) for s in samples)
        self.assertEqual(not_ready, 2)
        self.assert_rolled_over(d, before, 4)
        (done,) = reload_events(d, "done")
        self.assertEqual(done["replaced"], 4)
        self.assertEqual(len(ns.answered(ns.get_many(port, 8, concurrency=2))), 8)

    def test_default_surge_replaces_one_slot_at_a_time(self):
        d = self.daemon()
        _, before = node_hello(d, instances=3, env={"LISTEN_DELAY_MS": "150"})
        watcher = StatusWatcher(self, d)
        reply = d.request({"verb": "reload", "app": "web"}, timeout=25)
        samples = watcher.stop()
        self.assertEqual(reply, {"ok": True, "app": "web"}, d.log_tail())
        self.assertEqual(self.assert_rolling(samples, surge=1), 1)
        self.assert_rolled_over(d, before, 3)


class ReloadNoWait(TestCase, Checks):
    def test_no_wait_returns_at_once_and_the_reload_completes_later(self):
        d = self.daemon()
        _, before = node_hello(d, instances=2, env={"LISTEN_DELAY_MS": "400"})
        reply = d.request({"verb": "reload", "app": "web", "wait": False}, timeout=5)
        self.assertEqual(reply, {"ok": True, "app": "web", "started": True})
        # Each new worker takes 400ms to listen: the reload is still running.
        self.assertEqual(d.app_status("web")["state"], "reloading")
        self.assertEqual(reload_events(d, "done"), [])
        done = wait_reload_event(d, "done")
        self.assertEqual(done["replaced"], 2)
        self.assert_rolled_over(d, before, 2)

    def test_musterctl_no_wait(self):
        d = self.daemon()
        _, before = node_hello(d, instances=2, env={"LISTEN_DELAY_MS": "400"})
        rc, out, err = d.ctl("reload", "web", "--no-wait")
        self.assertEqual((rc, out), (0, "web: reload started\n"), err)
        self.assertEqual(d.app_status("web")["state"], "reloading")
        self.assertEqual(wait_reload_event(d, "done")["replaced"], 2)
        self.assert_rolled_over(d, before, 2)


class ReloadMeetsOtherCommands(TestCase, Checks):
    def test_a_second_reload_while_one_runs_joins_it(self):
        d = self.daemon()
        _, before = node_hello(d, instances=2, env={"LISTEN_DELAY_MS": "300"})
        first = d.request({"verb": "reload", "app": "web", "wait": False})
        self.assertEqual(first, {"ok": True, "app": "web", "started": True})
        second = d.request({"verb": "reload", "app": "web"}, timeout=25)
        self.assertEqual(second, {"ok": True, "app": "web"})
        # One reload, not two: each slot replaced once.
        self.assertEqual([e["phase"] for e in reload_events(d)], ["start", "done"])
        self.assert_rolled_over(d, before, 2)

    def test_stopping_the_app_during_a_reload_fails_the_reload_and_stops_everything(self):
        d = self.daemon()
        node_hello(d, instances=2, env={"LISTEN_DELAY_MS": "500"})
        with d.connect(timeout=25) as waiting:
            waiting.send('{"verb": "reload", "app": "web"}\n')
            d.wait_for(lambda: d.app_status("web")["state"] == "reloading", 5,
                       "the reload to run")
            d.wait_for(lambda: extra_workers(d.app_status("web")) == 1, 5,
                       "the reload's first new worker")
            rc, _, err = d.ctl("stop", "web")
            self.assertEqual(rc, 0, err)
            reply = json.loads(waiting.read_line())
        self.assertIs(reply["ok"], False, reply)
        self.assertIn("stopped", reply["error"])
        (failed,) = reload_events(d, "failed")
        self.assertEqual(failed["replaced"], 0)
        # stop returned once every worker, the new one too, had exited.
        self.assertEqual(d.workers("web"), [])
        self.assertEqual(d.app_status("web")["state"], "stopped")
        forked = [e["pid"] for e in d.events(event="fork", app="web")]
        self.assertEqual(len(forked), 3)
        self.assertFalse([p for p in forked if harness.pid_alive(p)])


class ReloadRefused(TestCase):
    def test_reload_of_a_stopped_app_fails_with_a_clear_error(self):
        d = self.daemon()
        node_hello(d, instances=1)
        rc, _, err = d.ctl("stop", "web")
        self.assertEqual(rc, 0, err)
        reply = d.request({"verb": "reload", "app": "web"})
        self.assertIs(reply["ok"], False, reply)
        self.assertIn("'web' is stopped", reply["error"])
        self.assertIn("start it first", reply["error"])
        rc, out, err = d.ctl("reload", "web")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("'web' is stopped", err)
        # Nothing was started, nothing announced.
        self.assertEqual(reload_events(d), [])
        self.assertEqual(d.app_status("web")["state"], "stopped")
        self.assertEqual(d.workers("web"), [])

    def test_reload_no_wait_of_a_stopped_app_fails_too(self):
        d = self.daemon()
        node_hello(d, instances=1)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        reply = d.request({"verb": "reload", "app": "web", "wait": False})
        self.assertEqual(reload_events(d), [])
        self.assertEqual(d.workers("web"), [])
        # Nothing was started, so "started": true would be a lie.
        self.assertIs(reply["ok"], False, reply)
        self.assertIn("'web' is stopped", reply["error"])
        rc, out, err = d.ctl("reload", "web", "--no-wait")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("'web' is stopped", err)

    def test_reload_of_an_unknown_app_fails(self):
        d = self.daemon()
        node_hello(d, instances=1)
        reply = d.request({"verb": "reload", "app": "nope"})
        self.assertIs(reply["ok"], False, reply)
        self.assertIn("nope", reply["error"])
        self.assertEqual(reload_events(d), [])
