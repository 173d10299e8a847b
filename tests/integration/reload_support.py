"""What the rolling reload tests share (test_reload.py, test_reload_control.py):
the apps, a status watcher, the reload events and the Checks mixed into
the TestCases."""

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
