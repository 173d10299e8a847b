"""`musterctl restart ID` (control: restart with "id"): one worker replaced
gracefully, the new one first as in a reload; answered once the new one is
ready, or with the failure while the old one keeps serving (issue #12)."""

import os
import threading
import unittest

import harness
from harness import app

# A systemd-protocol worker (ready = notify): READY=1 unless a file named
# "broken" exists, in which case it exits before it is ready.
NOTIFIER = f"""#!{harness.PYTHON}
import os, socket, sys, time
if os.path.exists("broken"):
    sys.exit(3)
if os.path.exists("slow"):
    time.sleep(1.5)
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", addr)
time.sleep(1000)
"""


class RestartWorker(harness.TestCase):
    def start(self, instances=2):
        d = self.daemon()
        d.write_script("notifier.py", NOTIFIER)
        d.start(app("web", "./notifier.py", cwd=".", protocol="systemd", instances=instances,
                    ready_timeout="5s", restart="always"))
        return d, self.wait_ready(d, instances)

    def wait_ready(self, d, count):
        """The app's `count` workers once all are ready (by slot)."""
        def ready():
            workers = d.workers("web")
            return len(workers) == count and all(w["ready"] for w in workers) and workers
        return d.wait_for(ready, 10, f"{count} ready workers")

    def test_restart_id_replaces_that_worker_only_and_names_the_new_one(self):
        d, (w0, w1) = self.start()
        rc, out, err = d.ctl("restart", str(w1["id"]))
        self.assertEqual(rc, 0, err)
        after = self.wait_ready(d, 2)
        self.assertEqual(after[0]["id"], w0["id"], "the other slot is untouched")
        new = after[1]
        self.assertNotIn(new["id"], (w0["id"], w1["id"]))
        self.assertTrue(new["ready"])
        self.assertEqual(out, f"worker {w1['id']} of web replaced by worker {new['id']} "
                              f"(pid {new['pid']})\n")
        d.wait_for(lambda: not harness.pid_alive(w1["pid"]), 10, "the old worker to leave")
        # New worker first: it was forked before the old one exited.
        order = [(e["event"], e["id"]) for e in d.events() if e["event"] in ("fork", "exit")]
        self.assertLess(order.index(("fork", new["id"])), order.index(("exit", w1["id"])),
                        order)

    def test_the_reply_over_the_socket_has_the_old_and_new_ids(self):
        d, (w0,) = self.start(instances=1)
        reply = d.request({"verb": "restart", "id": w0["id"]})
        (new,) = self.wait_ready(d, 1)
        self.assertEqual(reply, {"ok": True, "app": "web", "id": w0["id"],
                                 "replaced_by": new["id"], "pid": new["pid"]})

    def test_a_replacement_that_cannot_get_ready_fails_and_the_old_worker_keeps_serving(self):
        d, (w0, w1) = self.start()
        d.write_file("broken", "")
        rc, out, err = d.ctl("restart", str(w0["id"]))
        self.assertEqual(rc, 1, out)
        self.assertIn(f"restart of worker {w0['id']} failed", err)
        self.assertIn("before it was ready", err)
        self.assertEqual([(w["id"], w["pid"]) for w in d.workers("web")],
                         [(w0["id"], w0["pid"]), (w1["id"], w1["pid"])])

    def restart_in_background(self, d, worker_id):
        """Sends restart ID from a thread; returns the thread's reply list."""
        replies = []
        thread = threading.Thread(target=lambda: replies.append(
            d.request({"verb": "restart", "id": worker_id}, timeout=20)), daemon=True)
        thread.start()
        self.addCleanup(thread.join, 20)
        return thread, replies

    def wait_candidate(self, d, old_ids):
        """The new worker on its way (listed, not ready), once it is."""
        def candidate():
            new = [w for w in d.workers("web") if w["id"] not in old_ids]
            return new[0] if new else None
        return d.wait_for(candidate, 10, "the replacement to be spawned")

    def test_a_second_restart_of_the_same_worker_joins_the_first(self):
        d, (w0,) = self.start(instances=1)
        d.write_file("slow", "")
        first, replies = self.restart_in_background(d, w0["id"])
        new = self.wait_candidate(d, {w0["id"]})
        self.assertFalse(new["ready"])
        second = d.request({"verb": "restart", "id": w0["id"]}, timeout=20)
        first.join(20)
        self.assertEqual(replies, [second])
        self.assertEqual(second, {"ok": True, "app": "web", "id": w0["id"],
                                  "replaced_by": new["id"], "pid": new["pid"]})
        # One replacement, not two: no other worker was forked for the slot.
        forks = [e["id"] for e in d.events() if e["event"] == "fork"]
        self.assertEqual(forks, [w0["id"], new["id"]])
        self.assertEqual([w["id"] for w in self.wait_ready(d, 1)], [new["id"]])

    def test_a_replacement_not_ready_yet_cannot_be_restarted(self):
        d, (w0,) = self.start(instances=1)
        d.write_file("slow", "")
        first, replies = self.restart_in_background(d, w0["id"])
        new = self.wait_candidate(d, {w0["id"]})
        rc, out, err = d.ctl("restart", str(new["id"]))
        self.assertEqual(rc, 1, out)
        self.assertIn(f"worker {new['id']} is a replacement that is not ready yet", err)
        first.join(20)
        self.assertEqual(replies[0]["replaced_by"], new["id"], replies)

    def test_an_unknown_or_dead_id_is_an_error(self):
        d, (w0,) = self.start(instances=1)
        rc, out, err = d.ctl("restart", "999")
        self.assertEqual(rc, 1)
        self.assertIn("no worker with id 999", err)
        d.ctl("restart", str(w0["id"]))
        d.wait_for(lambda: not harness.pid_alive(w0["pid"]), 10, "the old worker to exit")
        rc, out, err = d.ctl("restart", str(w0["id"]))
        self.assertEqual(rc, 1)
        self.assertIn(f"no worker with id {w0['id']}", err)

    def test_restart_takes_either_an_app_or_an_id(self):
        d, _ = self.start(instances=1)
        reply = d.request({"verb": "restart", "app": "web", "id": 1})
        self.assertEqual(reply, {"ok": False, "error": "restart takes either 'app' or 'id'"})
        reply = d.request({"verb": "restart"})
        self.assertEqual(reply["ok"], False)
        # An app name is still a whole-app restart.
        rc, out, err = d.ctl("restart", "web")
        self.assertEqual((rc, out), (0, "web: restarted\n"), err)


if __name__ == "__main__":
    unittest.main()
