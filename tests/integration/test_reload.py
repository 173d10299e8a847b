"""Rolling reload (`musterctl reload APP`, control verb `reload`): per slot a
new worker starts and the old one is disconnected only once the new one is
ready, at most `reload_surge` new workers at a time, so a real client under
load sees no failed request; a reload whose new workers cannot get ready stops,
leaves the old workers serving and fails loudly; `--no-wait`; a stopped app.

Load comes from a pool of client threads, each making sequential GETs with
`Connection: close` and recording every request's result. Everything is
awaited with deadlines (harness.Poll); nothing sleeps and hopes."""

import json
import os
import threading
import time

import harness
import node_support as ns
from client_support import Load, ok
from node_support import socket_table

HERE = os.path.dirname(os.path.abspath(__file__))
GATED_HELLO = os.path.join(HERE, "reload_workers", "gated_hello.js")
HELLO_CC = os.path.join(harness.BUILD_DIR, "muster-hello")

WARMUP_ANSWERS = 30      # answered before the reload starts
AFTERWARDS_ANSWERS = 30  # answered after it finished
CC_ROUNDS = 5            # reloads in a row of the C++ app under load


class TestCase(ns.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing worker is an error, not a skip: a green run must mean tested.
        if not os.access(HELLO_CC, os.X_OK):
            raise RuntimeError(f"{HELLO_CC} is not built (set MUSTER_BUILD_DIR)")


# --- apps ----------------------------------------------------------------------

def node_hello(d, instances=2, scheduling="rr", env=None, **keys):
    """Starts a daemon running reload_workers/gated_hello.js (hello.js unless its
    gate is shut) on an ephemeral port; returns (port, workers by slot)."""
    d.start(socket_table("web") +
            harness.app("web", ns.NODE, args=[GATED_HELLO], protocol="node",
                        instances=instances, sockets=["web"], scheduling=scheduling,
                        env=env or {}, **keys))
    workers = ns.wait_listening(d, "web", instances)
    return ns.bound_port(d, "web"), workers


def cc_hello(d, instances=2, scheduling="rr"):
    """Starts a daemon running build/muster-hello (the C++ worker library's HTTP
    hello) on a declared socket; returns (port, workers by slot)."""
    port = ns.free_port()
    # muster-hello is ready within a millisecond or two: a whole reload could
    # fall between two status samples (the poller then proves nothing, and the
    # test failed about 1 run in 20 under load). The worker starts 50 ms late
    # (sh execs it: same pid, same channel fd), so each slot's roll-over is
    # long enough to be seen.
    script = f'sleep 0.05; exec "$0" {port} 127.0.0.1'
    d.start(socket_table("web", f"127.0.0.1:{port}") +
            harness.app("web", "/bin/sh", args=["-c", script, HELLO_CC], protocol="node",
                        instances=instances, sockets=["web"], scheduling=scheduling))
    return port, ns.wait_listening(d, "web", instances)


def served_by(body):
    """The worker id in a hello body: "hello from worker N" (hello.js) or
    "Hello from worker N" (muster-hello)."""
    prefix = "hello from worker "
    assert body.lower().startswith(prefix), f"not a hello response: {body!r}"
    return int(body[len(prefix):].strip())


# --- load ----------------------------------------------------------------------

# --- status sampling -------------------------------------------------------------

class StatusWatcher:
    """Polls `status` of APP every few milliseconds in a thread; keeps every
    sample (the app's status dict)."""

    def __init__(self, test, d, app="web", interval=0.003):
        self.samples = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(d, app, interval), daemon=True)
        self._thread.start()
        test.addCleanup(self.stop)

    def _run(self, d, app, interval):
        while not self._stop.is_set():
            try:
                reply = d.request({"verb": "status", "app": app}, timeout=5)
                self.samples += [a for a in reply["apps"] if a["name"] == app]
            except Exception as e:  # noqa: BLE001 - reported by stop()
                self.errors.append(e)
            time.sleep(interval)

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "status watcher did not stop"
        assert not self.errors, f"status failed while watching: {self.errors[:3]}"
        return self.samples


def not_leaving(sample):
    """A status sample's workers that are not on their way out: the slots'
    workers and the reload's new (not yet ready) ones."""
    return [w for w in sample["workers"] if w["state"] != "disconnecting"]


def extra_workers(sample):
    """How many more workers than slots a status sample shows, leaving ones
    aside: the reload's new workers not yet ready."""
    return len(not_leaving(sample)) - sample["instances"]


def serving(sample):
    """Ready workers in a status sample that are not leaving."""
    return [w for w in not_leaving(sample) if w["ready"]]


def unserved_slots(sample):
    """The slots of a status sample without a ready worker that is not leaving:
    during a rolling reload there should never be one."""
    return sorted(set(range(sample["instances"])) - {w["instance"] for w in serving(sample)})


# --- checks ----------------------------------------------------------------------

def reload_events(d, phase=None):
    match = {"event": "reload", "app": "web"}
    if phase:
        match["phase"] = phase
    return d.events(**match)


def wait_reload_event(d, phase, timeout=15):
    return ns.wait_event(d, timeout, event="reload", app="web", phase=phase)


def wait_gone(d, pids, timeout=10):
    d.wait_for(lambda: not any(harness.pid_alive(p) for p in pids), timeout,
               f"old worker processes {sorted(pids)} to exit")


class Checks:
    """Assertions shared by the tests (mixed into the TestCases)."""

    def assert_rolled_over(self, d, before, instances):
        """After a successful reload: the same slots, each with a new worker
        (a new id), the old workers gone (voluntary exits, not crashes), and
        per slot the old worker left only after its replacement listened."""
        after = ns.wait_listening(d, "web", instances)
        old_ids = {w["id"] for w in before}
        self.assertEqual([w["instance"] for w in after], [w["instance"] for w in before])
        self.assertFalse(old_ids & {w["id"] for w in after}, f"before {before}\nafter {after}")
        self.assertTrue(all(w["id"] > max(old_ids) for w in after), after)
        wait_gone(d, {w["pid"] for w in before})
        self.assertEqual(d.app_status("web")["state"], "running")

        # The event history: each new worker listened before its slot's old
        # worker left. (`disconnect` is checked where it was published: for
        # muster-hello the daemon often publishes only `exit`; see the report.)
        events = d.events(app="web")
        index = {}
        for i, e in enumerate(events):
            index.setdefault((e["event"], e.get("id")), i)
        for old, new in zip(before, after):
            listening = index.get(("listening", new["id"]))
            self.assertIsNotNone(listening, f"no listening event of new worker {new['id']}")
            self.assertIsNotNone(index.get(("exit", old["id"])),
                                 f"no exit event of old worker {old['id']}")
            for leaving in ("disconnect", "exit"):
                left = index.get((leaving, old["id"]))
                if left is not None:
                    self.assertLess(listening, left,
                                    f"slot {old['instance']}: old worker {old['id']} left "
                                    f"({leaving}) before new worker {new['id']} listened")
        exits = [e for e in events if e["event"] == "exit" and e["id"] in old_ids]
        self.assertTrue(all(e["voluntary"] for e in exits), exits)
        return after

    def assert_no_failed_request(self, results, windows, ids):
        """Zero failed requests; some were in flight during each reload (a
        (start, end) in `windows`); every answer came from one of `ids`."""
        failed = [(round(s, 3), r) for s, _, r in results if not ok(r)]
        self.assertEqual(failed, [], f"{len(failed)} of {len(results)} requests failed "
                                     f"(reloads: {[(round(a, 3), round(b, 3)) for a, b in windows]})")
        for started, ended in windows:
            during = [r for s, e, r in results if e >= started and s <= ended]
            self.assertTrue(during, f"no request overlapped the reload from {started:.3f} to "
                                    f"{ended:.3f}: the load proves nothing")
        served = {served_by(r[1]) for _, _, r in results}
        self.assertLessEqual(served, ids)
        return served

    def assert_rolling(self, samples, surge):
        """Status samples taken during a reload: it was seen running, never more
        than `surge` new workers at once, and every slot always had a ready
        worker that was not leaving. Returns the most new workers seen at once."""
        self.assertIn("reloading", {s["state"] for s in samples},
                      "the status poller never saw the reload")
        most = max(extra_workers(s) for s in samples)
        self.assertLessEqual(most, surge, [s["workers"] for s in samples
                                           if extra_workers(s) > surge][:1])
        gaps = [(unserved_slots(s), s["workers"]) for s in samples if unserved_slots(s)]
        self.assertEqual(gaps, [], "a slot without a ready worker during the reload")
        return most

    def reload_under_load(self, d, port, before, instances=2, rounds=1):
        """Reloads `web` `rounds` times, one after the other, over the control
        socket while Load runs and status is polled; checks every request
        succeeded and each time the slots rolled over one at a time. Returns
        the workers after the last round."""
        load = Load(self, port)
        load.wait_answered(WARMUP_ANSWERS)
        generations, windows = [before], []
        for _ in range(rounds):
            watcher = StatusWatcher(self, d)
            started = time.monotonic()
            reply = d.request({"verb": "reload", "app": "web"}, timeout=25)
            windows.append((started, time.monotonic()))
            samples = watcher.stop()
            self.assertEqual(reply, {"ok": True, "app": "web"}, d.log_tail())
            self.assert_rolling(samples, surge=1)
            load.wait_answered(load.answered() + AFTERWARDS_ANSWERS)
            generations.append(self.assert_rolled_over(d, generations[-1], instances))
        results = load.stop()
        ids = {w["id"] for g in generations for w in g}
        served = self.assert_no_failed_request(results, windows, ids)
        # The first and the last generation both answered.
        self.assertTrue(served & {w["id"] for w in before}, served)
        self.assertTrue(served & {w["id"] for w in generations[-1]}, served)
        self.assertEqual([e["replaced"] for e in reload_events(d, "done")], [instances] * rounds)
        self.assertEqual([e["instances"] for e in reload_events(d, "start")],
                         [instances] * rounds)
        return generations[-1]


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
