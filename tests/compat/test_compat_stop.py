"""Node's stop sequence (docs/compatibility.md, "stop sequence"): a worker
that keeps its loop alive and cleans up in a SIGTERM handler. Under a real
Node primary, worker.kill() signals it and the handler runs: exit 0 at once.
Under musterd, stop, restart, reload and scale-down disconnect it and send
stop_signal once its channel has closed, so the handler runs there too
instead of a SIGKILL at stop_timeout."""

import os
import shutil
import tempfile
import time
import unittest

import compat_support as cs
from compat_support import ns

SCRIPT = ns.script("sigterm.js")
STOP_TIMEOUT = 5  # seconds: what the old sequence took, ended by SIGKILL
QUICK = 2         # seconds: well under it, whatever the box's load


def as_seen(exit_event):
    return (exit_event["code"], exit_event["signal"])


class SigtermHandler(cs.TestCase):
    def note(self, worker_id):
        return os.path.join(self.notes, f"note.{worker_id}")

    def setUp(self):
        super().setUp()
        self.notes = tempfile.mkdtemp(prefix="muster-sigterm-")
        self.addCleanup(shutil.rmtree, self.notes, True)

    def app(self, **keys):
        return ns.node_app("job", "sigterm.js", stop_timeout=f"{STOP_TIMEOUT}s",
                           env={"SIGTERM_NOTE": os.path.join(self.notes, "note"),
                                **keys.pop("env", {})}, **keys)

    def test_worker_kill_under_node_runs_the_handler_at_once(self):
        p = self.node_primary(SCRIPT, instances=1,
                              env={"SIGTERM_NOTE": os.path.join(self.notes, "note")})
        (online,) = p.wait_events("online", 1)
        p.wait_events("message", 1)
        began = time.monotonic()
        p.command(cmd="kill", id=online["id"], signal="SIGTERM")
        (exit_event,) = p.wait_events("exit", 1)
        self.assertLess(time.monotonic() - began, QUICK)
        self.assertEqual(as_seen(exit_event), (0, None))
        self.assertTrue(os.path.exists(self.note(online["id"])), "the handler did not run")

    def stopped_quickly(self, d, worker_id, action):
        """Runs action(); the worker's exit, once it has exited within QUICK s."""
        began = time.monotonic()
        action()
        exit_event = ns.wait_event(d, timeout=STOP_TIMEOUT * 2, event="exit", id=worker_id)
        self.assertLess(time.monotonic() - began, QUICK, "not signalled: SIGKILLed at stop_timeout?")
        return exit_event

    def test_musterctl_stop_runs_the_handler_as_node_does(self):
        d = self.daemon().start(self.app(instances=1))
        (w,) = d.wait_workers("job", 1)
        ns.wait_messages(d, "started", 1)
        e = self.stopped_quickly(d, w["id"], lambda: d.ctl("stop", "job", timeout=STOP_TIMEOUT * 2))
        self.assertEqual(as_seen(e), (0, None))
        self.assertTrue(os.path.exists(self.note(w["id"])), "the handler did not run")

    def test_reload_and_scale_down_run_the_old_workers_handlers(self):
        d = self.daemon().start(self.app(instances=2, env={"LIFE_SERVER": "1"}))
        old = ns.wait_listening(d, "job", 2)
        began = time.monotonic()
        self.assertEqual(d.ctl("reload", "job", timeout=STOP_TIMEOUT * 4)[0], 0)
        for w in old:
            e = ns.wait_event(d, timeout=STOP_TIMEOUT * 2, event="exit", id=w["id"])
            self.assertEqual(as_seen(e), (0, None), "an old worker was not signalled")
            self.assertTrue(os.path.exists(self.note(w["id"])))
        self.assertLess(time.monotonic() - began, STOP_TIMEOUT, "the reload waited for SIGKILLs")
        new = ns.wait_listening(d, "job", 2)
        gone = max(new, key=lambda w: w["instance"])
        self.assertEqual(d.ctl("scale", "job", "1")[0], 0)
        e = ns.wait_event(d, timeout=STOP_TIMEOUT * 2, event="exit", id=gone["id"])
        self.assertEqual(as_seen(e), (0, None))
        self.assertTrue(os.path.exists(self.note(gone["id"])))


if __name__ == "__main__":
    unittest.main()
