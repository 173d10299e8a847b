"""A Node worker's life as Node's primary sees it (issue #13): workers that
never listen, drains of a worker's own disconnect (drain_timeout), clean exits
versus crashes, and exitedAfterDisconnect on exit events. The worker is
node_workers/lifecycle.js, the same program tests/compat/test_compat_lifecycle.py
runs under a real Node primary."""

import time
import unittest

import harness
import node_support as ns


def lifecycle_app(name="job", server=False, env=None, **keys):
    environ = dict(env or {})
    if server:
        environ["LIFE_SERVER"] = "1"
    return ns.node_app(name, "lifecycle.js", env=environ, **keys)


def send(test, d, worker_id, message):
    rc, _, err = d.ctl("send", worker_id, message)
    test.assertEqual(rc, 0, err)


def exit_of(d, worker_id):
    gone = ns.wait_event(d, event="exit", id=worker_id)
    return gone["code"], gone["signal"], gone["exitedAfterDisconnect"]


def held_port(d, app):
    return ns.wait_messages(d, "listening", 1, app=app)[0]["listening"]


class WorkersThatNeverListen(ns.TestCase):
    def test_a_worker_without_a_server_stays_up_past_ready_timeout_and_counts_ready(self):
        d = self.daemon()
        d.start(lifecycle_app(ready_timeout="1s"))
        (w,) = d.wait_workers("job", 1)
        d.wait_for(lambda: d.workers("job")[0]["ready"], 5, "the worker to count ready")
        d.holds(lambda: [x["id"] for x in d.workers("job")] == [w["id"]], 2,
                "the same worker to stay up")
        self.assertEqual(ns.events(d, event="ready_timeout"), [])
        self.assertEqual(ns.events(d, event="exit"), [])
        self.assertEqual(d.app_status("job")["restarts"], 0)

    def test_without_ready_timeout_passing_it_counts_ready_after_a_quiet_while_online(self):
        d = self.daemon()
        d.start(lifecycle_app())
        (w,) = d.wait_workers("job", 1)
        began = time.monotonic()
        d.wait_for(lambda: d.workers("job")[0]["ready"], 10, "the worker to count ready")
        self.assertLess(time.monotonic() - began, 8, "ready after the quiet while (5s)")
        self.assertEqual(d.workers("job")[0]["id"], w["id"])

    def test_ready_listening_stays_strict_when_the_user_asks_for_it(self):
        d = self.daemon()
        d.start(lifecycle_app(ready="listening", ready_timeout="1s", restart="never"))
        ns.wait_event(d, event="ready_timeout", app="job")


class ReloadWaitsForListening(ns.TestCase):
    def test_a_reload_of_a_slow_listening_app_retires_the_old_worker_only_after_listening(self):
        d = self.daemon()
        d.start(lifecycle_app("web", server=True, env={"LIFE_LISTEN_DELAY": "1500"}))
        (old,) = ns.wait_listening(d, "web", 1)
        rc, _, err = d.ctl("reload", "web")
        self.assertEqual(rc, 0, err)
        (new,) = ns.wait_listening(d, "web", 1)
        self.assertNotEqual(new["id"], old["id"])
        listened = ns.wait_event(d, event="listening", id=new["id"])
        left = ns.wait_event(d, event="exit", id=old["id"])
        self.assertLess(listened["time"], left["time"])


class OwnDisconnectDrains(ns.TestCase):
    def hold(self, d):
        (w,) = ns.wait_listening(d, "web", 1)
        client, holder = ns.hold_a_connection(self, d, held_port(d, "web"))
        self.assertEqual(holder, w["id"])
        return w, client

    def test_a_held_connection_is_answered_before_the_worker_leaves_on_its_own(self):
        d = self.daemon()
        d.start(lifecycle_app("web", server=True, stop_timeout="1s", restart="always"))
        w, client = self.hold(d)
        send(self, d, w["id"], '{"cmd": "disconnect"}')
        d.holds(lambda: not ns.events(d, event="exit"), 2.5,
                "the worker to drain past stop_timeout")
        send(self, d, w["id"], '{"cmd": "release"}')
        client.settimeout(5)
        self.assertTrue(ns.read_all(client).endswith(b"released\n"))
        self.assertEqual(exit_of(d, w["id"]), (0, None, True))
        self.assertTrue(ns.wait_event(d, event="exit", id=w["id"])["voluntary"])
        ns.wait_listening(d, "web", 1)
        self.assertEqual(d.app_status("web")["restarts"], 0)
        self.assertEqual(ns.events(d, event="restart"), [], "refilled at once, no crash")

    def test_drain_timeout_bounds_the_drain_and_the_exit_is_no_crash(self):
        d = self.daemon()
        d.start(lifecycle_app("web", server=True, drain_timeout="1s", stop_timeout="30s",
                              restart="always"))
        w, client = self.hold(d)
        began = time.monotonic()
        send(self, d, w["id"], '{"cmd": "disconnect"}')
        gone = ns.wait_event(d, event="exit", id=w["id"])
        self.assertGreaterEqual(time.monotonic() - began, 0.9)
        self.assertEqual((gone["code"], gone["signal"], gone["voluntary"]),
                         (None, "SIGKILL", True))
        # Node's primary only learns of the disconnect when the drain ends.
        self.assertFalse(gone["exitedAfterDisconnect"])
        client.settimeout(5)
        self.assertEqual(ns.read_all(client), b"")
        (new,) = ns.wait_listening(d, "web", 1)
        self.assertGreater(new["id"], w["id"])
        self.assertEqual(d.app_status("web")["restarts"], 0)
        self.assertEqual(ns.events(d, event="restart"), [], "refilled at once, no crash")

    def test_a_worker_lingering_after_its_own_disconnect_is_not_killed_by_stop_timeout(self):
        d = self.daemon()
        d.start(lifecycle_app(env={"LIFE_LINGER": "1"}, stop_timeout="1s"))
        (w,) = d.wait_workers("job", 1)
        send(self, d, w["id"], '{"cmd": "disconnect"}')
        ns.wait_event(d, event="disconnect", id=w["id"])
        d.holds(lambda: not ns.events(d, event="exit"), 2.5, "the worker to linger, as under Node")
        self.assertEqual(d.workers("job")[0]["state"], "disconnecting")
        # A stop still ends it: its channel is gone, so stop_signal at once,
        # as Node's worker.kill() signals a disconnected worker.
        rc, _, err = d.ctl("stop", "job")
        self.assertEqual(rc, 0, err)
        gone = ns.wait_event(d, event="exit", id=w["id"])
        self.assertEqual((gone["signal"], gone["voluntary"], gone["exitedAfterDisconnect"]),
                         ("SIGTERM", True, True))


class CleanExits(ns.TestCase):
    def test_process_exit_0_under_always_is_refilled_without_counting_toward_a_crash_loop(self):
        d = self.daemon()
        d.start(lifecycle_app(restart="always", max_restarts=1, restart_window="60s",
                              restart_delay="20ms"))
        for _ in range(3):
            (w,) = d.wait_workers("job", 1)
            send(self, d, w["id"], '{"cmd": "exit", "code": 0}')
            self.assertEqual(exit_of(d, w["id"]), (0, None, False))
            d.wait_for(lambda: [x for x in d.workers("job") if x["id"] > w["id"]], 10,
                       "a new worker in the slot")
        status = d.app_status("job")
        self.assertEqual(status["state"], "running")
        self.assertEqual(status["restarts"], 0)
        self.assertEqual(ns.events(d, event="crash_loop"), [])
        restarts = ns.events(d, event="restart")
        self.assertEqual(len(restarts), 3)
        self.assertTrue(all(r["crash"] is False for r in restarts), restarts)

    def test_a_clean_exit_is_still_refilled_after_a_delay(self):
        d = self.daemon()
        d.start(lifecycle_app(restart="always", restart_delay="500ms",
                              restart_delay_max="500ms"))
        (w,) = d.wait_workers("job", 1)
        send(self, d, w["id"], '{"cmd": "exit", "code": 0}')
        restart = ns.wait_event(d, event="restart")
        self.assertGreaterEqual(restart["delay_ms"], 400)

    def test_process_exit_0_under_on_failure_leaves_the_slot_empty(self):
        d = self.daemon()
        d.start(lifecycle_app(restart="on-failure", restart_delay="20ms"))
        (w,) = d.wait_workers("job", 1)
        send(self, d, w["id"], '{"cmd": "exit", "code": 0}')
        self.assertEqual(exit_of(d, w["id"]), (0, None, False))
        d.holds(lambda: d.workers("job") == [], 0.5, "the slot to stay empty")
        self.assertEqual(d.app_status("job")["restarts"], 0)

    def test_a_non_zero_exit_is_a_crash(self):
        d = self.daemon()
        d.start(lifecycle_app(restart="always", restart_delay="20ms"))
        (w,) = d.wait_workers("job", 1)
        send(self, d, w["id"], '{"cmd": "exit", "code": 3}')
        self.assertEqual(exit_of(d, w["id"]), (3, None, False))
        restart = ns.wait_event(d, event="restart")
        self.assertTrue(restart["crash"])
        self.assertEqual(d.app_status("job")["restarts"], 1)


class ExitedAfterDisconnect(ns.TestCase):
    def test_each_way_out_carries_nodes_exited_after_disconnect(self):
        d = self.daemon()
        d.start(lifecycle_app(instances=4, restart="never"))
        killed, disconnected, left, crashed = [w["id"] for w in d.wait_workers("job", 4)]
        self.assertEqual(d.ctl("kill", killed)[0], 0)
        self.assertEqual(d.ctl("disconnect", disconnected)[0], 0)
        send(self, d, left, '{"cmd": "disconnect"}')
        send(self, d, crashed, '{"cmd": "exit", "code": 3}')
        # As Node 20's primary computes it: worker.kill() signals at once
        # (false), worker.disconnect() and the worker's own disconnect set it.
        self.assertEqual(exit_of(d, killed), (None, "SIGTERM", False))
        self.assertEqual(exit_of(d, disconnected), (0, None, True))
        self.assertEqual(exit_of(d, left), (0, None, True))
        self.assertEqual(exit_of(d, crashed), (3, None, False))


if __name__ == "__main__":
    unittest.main()
