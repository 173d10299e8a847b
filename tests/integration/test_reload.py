"""Rolling reload (`musterctl reload APP`, control verb `reload`): per slot a
new worker starts and the old one is disconnected only once the new one is
ready, so a real client under load sees no failed request; a reload whose new
workers cannot get ready stops, leaves the old workers serving and fails
loudly. Surge, `--no-wait`, other commands meeting a reload and a stopped
app: test_reload_control.py.

Load comes from a pool of client threads, each making sequential GETs with
`Connection: close` and recording every request's result. Everything is
awaited with deadlines (harness.Poll); nothing sleeps and hopes."""

import time

import harness
import node_support as ns
from client_support import Load
from reload_support import (
    WARMUP_ANSWERS, AFTERWARDS_ANSWERS, CC_ROUNDS, TestCase, node_hello, cc_hello, served_by,
    reload_events, wait_gone, Checks)


# --- the tests -------------------------------------------------------------------

class ReloadUnderLoad(TestCase, Checks):
    def test_node_app_reloads_under_load_with_zero_failed_requests(self):
        d = self.daemon()
        port, before = node_hello(d, instances=2, scheduling="rr")
        self.reload_under_load(d, port, before, rounds=2)
        # Retired old workers are not crashes.
        self.assertEqual(d.app_status("web")["restarts"], 0)

    def test_cc_app_reloads_under_load_with_zero_failed_requests_round_robin(self):
        d = self.daemon()
        port, before = cc_hello(d, instances=2, scheduling="rr")
        self.assertEqual(d.app_status("web")["scheduling"], "rr")
        # A C++ worker is ready within milliseconds: several reloads give the
        # load more chances to meet one.
        self.reload_under_load(d, port, before, rounds=CC_ROUNDS)

    def test_cc_app_reloads_under_load_with_zero_failed_requests_shared_socket(self):
        d = self.daemon()
        port, before = cc_hello(d, instances=2, scheduling="none")
        self.assertEqual(d.app_status("web")["scheduling"], "none")
        self.reload_under_load(d, port, before, rounds=CC_ROUNDS)

    def test_musterctl_reload_waits_until_done(self):
        d = self.daemon()
        _, before = node_hello(d, instances=2)
        rc, out, err = d.ctl("reload", "web")
        self.assertEqual((rc, out), (0, "web: reloaded\n"), err)
        # When it returned, the reload was over: every slot has its new worker.
        self.assertEqual([e["replaced"] for e in reload_events(d, "done")], [2])
        self.assertEqual(d.app_status("web")["state"], "running")
        self.assert_rolled_over(d, before, 2)


class ReloadThatCannotFinish(TestCase, Checks):
    """New workers that cannot get ready: the reload stops, the old workers
    keep serving (the load sees no failure), the caller gets the reason."""

    def failing_reload(self, mode, instances=2, fail_from_candidate=0, **keys):
        """Starts gated_hello.js, shuts the gate for new workers from the
        reload's candidate number `fail_from_candidate` (0 = the first) and
        reloads under load; returns (daemon, reply, workers before, after)."""
        d = self.daemon()
        gate = d.path("gate")
        port, before = node_hello(d, instances=instances, env={"GATE_FILE": gate,
                                                               "GATE_MODE": mode}, **keys)
        first_new_id = max(w["id"] for w in before) + 1
        with open(gate, "w") as f:
            f.write(str(first_new_id + fail_from_candidate))
        load = Load(self, port)
        load.wait_answered(WARMUP_ANSWERS)
        started = time.monotonic()
        reply = d.request({"verb": "reload", "app": "web"}, timeout=25)
        ended = time.monotonic()
        load.wait_answered(load.answered() + AFTERWARDS_ANSWERS)
        results = load.stop()
        self.assertIs(reply.get("ok"), False, reply)
        after = ns.wait_listening(d, "web", instances)
        ids = {w["id"] for w in before} | {w["id"] for w in after}
        self.assert_no_failed_request(results, [(started, ended)], ids)
        self.assertEqual(d.app_status("web")["state"], "running")
        return d, reply, before, after

    def assert_failed_event(self, d, reply, replaced):
        (failed,) = reload_events(d, "failed")
        self.assertEqual(failed["replaced"], replaced, failed)
        self.assertTrue(failed.get("reason"), failed)
        self.assertIn(failed["reason"], reply["error"])
        self.assertEqual(reload_events(d, "done"), [])
        return failed

    def test_new_workers_that_exit_at_start_leave_the_old_ones_serving(self):
        d, reply, before, after = self.failing_reload("exit")
        self.assertEqual(after, [{**w, **{k: a[k] for k in ("uptime_ms", "rss_bytes",
                                                              "connections")}}
                                 for w, a in zip(before, after)],
                         "the old workers (same ids, same pids) still fill the slots")
        self.assertIn("reload of 'web' failed", reply["error"])
        self.assertIn("exited with code 1", reply["error"])
        failed = self.assert_failed_event(d, reply, replaced=0)
        self.assertIn("slot 0", failed["reason"])
        # They serve: answers come from the old workers only.
        bodies = ns.answered(ns.get_many(ns.bound_port(d, "web"), 10, concurrency=2))
        self.assertEqual(len(bodies), 10)
        self.assertLessEqual({served_by(b) for b in bodies}, {w["id"] for w in before})
        # The failed new worker is gone, and was not taken for a crash of the app.
        (candidate,) = d.events(event="fork", app="web", id=max(w["id"] for w in before) + 1)
        self.assertFalse(harness.pid_alive(candidate["pid"]))
        self.assertEqual(d.app_status("web")["restarts"], 0)

    def test_new_workers_that_never_listen_fail_the_reload_at_ready_timeout(self):
        d, reply, before, after = self.failing_reload("hang", ready_timeout="1s")
        self.assertEqual([w["id"] for w in after], [w["id"] for w in before])
        self.assertEqual([w["pid"] for w in after], [w["pid"] for w in before])
        candidate = max(w["id"] for w in before) + 1
        ns.wait_event(d, event="ready_timeout", app="web", id=candidate)
        failed = self.assert_failed_event(d, reply, replaced=0)
        self.assertIn("slot 0", failed["reason"])

    def test_a_reload_failed_at_ready_timeout_says_so(self):
        d = self.daemon()
        gate = d.path("gate")
        node_hello(d, env={"GATE_FILE": gate, "GATE_MODE": "hang"}, ready_timeout="1s")
        with open(gate, "w") as f:
            f.write("0")  # no new worker ever listens
        reply = d.request({"verb": "reload", "app": "web"}, timeout=25)
        self.assertIs(reply["ok"], False, reply)
        (failed,) = reload_events(d, "failed")
        # The daemon killed it for missing ready_timeout; "killed by SIGKILL"
        # alone would send an operator looking for the OOM killer.
        for said in (reply["error"], failed["reason"]):
            self.assertIn("ready_timeout", said)

    def test_a_reload_that_fails_midway_keeps_the_slots_already_replaced(self):
        # The first new worker is fine, the second exits at start.
        d, reply, before, after = self.failing_reload("exit", fail_from_candidate=1)
        first_new_id = max(w["id"] for w in before) + 1
        self.assertEqual([(w["instance"], w["id"]) for w in after],
                         [(0, first_new_id), (1, before[1]["id"])])
        wait_gone(d, {before[0]["pid"]})
        failed = self.assert_failed_event(d, reply, replaced=1)
        self.assertIn("slot 1", failed["reason"])

    def test_musterctl_reload_exits_1_with_the_reason(self):
        d = self.daemon()
        gate = d.path("gate")
        _, before = node_hello(d, env={"GATE_FILE": gate})
        with open(gate, "w") as f:
            f.write("0")  # every new worker exits at start
        rc, out, err = d.ctl("reload", "web")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("reload of 'web' failed", err)
        self.assertIn("exited with code 1", err)
        self.assertEqual([w["id"] for w in ns.wait_listening(d, "web", 2)],
                         [w["id"] for w in before])
