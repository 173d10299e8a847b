"""scheduling = "reuseport" with protocol = "systemd": one SO_REUSEPORT socket
per instance slot, owned by musterd and handed to whichever worker fills the
slot; the kernel spreads connections over the slots, a slot's queue outlives
its worker, and scaling down takes the slot's socket away."""

import collections
import os
import signal

import harness
import systemd_support as sd
from systemd_support import sd_hello_app, socket_table


def socket_inode(pid, fd=3):
    """The inode of a worker's fd (its "socket:[N]" link): one kernel socket."""
    return harness.open_fds(pid)[fd]


class Reuseport(sd.TestCase):
    def start(self, instances=2, **keys):
        d = self.daemon()
        d.start(socket_table("web") +
                sd_hello_app(instances=instances, scheduling="reuseport", **keys))
        workers = sd.wait_ready(d, "web", instances)
        return d, workers

    def test_each_slot_has_its_own_socket_on_one_port(self):
        d, workers = self.start()
        self.assertEqual(sd.socket_names(d), ["web#0", "web#1"])
        self.assertEqual(sd.bound_port(d, "web#0"), sd.bound_port(d, "web#1"))
        self.assertNotEqual(socket_inode(workers[0]["pid"]), socket_inode(workers[1]["pid"]))

    def test_status_shows_scheduling_reuseport(self):
        d, _ = self.start()
        self.assertEqual(d.app_status("web")["scheduling"], "reuseport")

    def test_both_workers_serve(self):
        d, workers = self.start()
        # Each new connection has a new source port, hashed over the slots.
        results = sd.get_many(sd.bound_port(d, "web#0"), 100, concurrency=4)
        self.assertEqual(sd.failures(results), [])
        served = collections.Counter(sd.pid_of(b) for b in sd.answered(results))
        self.assertEqual(set(served), {w["pid"] for w in workers}, f"per-pid share {dict(served)}")

    def test_a_replacement_gets_its_slots_socket(self):
        d, (w0, w1) = self.start()
        before = socket_inode(w0["pid"])
        os.kill(w0["pid"], signal.SIGKILL)
        new = sd.wait_replaced(d, "web", w0["id"], instance=0, ready=True)
        self.assertEqual(socket_inode(new["pid"]), before)
        self.assertNotEqual(socket_inode(new["pid"]), socket_inode(w1["pid"]))
        self.assertEqual(sd.socket_names(d), ["web#0", "web#1"])

    def test_a_slots_queued_connections_survive_its_workers_sigkill(self):
        # A crash waits restart_delay before the slot is refilled: meanwhile its
        # socket stays open in musterd and the kernel queues what hashes to it.
        d, (w0, w1) = self.start(restart_delay="1500ms")
        port = sd.bound_port(d, "web#0")
        os.kill(w0["pid"], signal.SIGKILL)
        sd.wait_event(d, event="restart", app="web", where=lambda e: e["instance"] == 0)
        with sd.OpenClients(port, 20) as clients:
            # Still within the delay: slot 0 has no worker yet.
            forks = d.events(event="fork", app="web")
            self.assertEqual([e["instance"] for e in forks], [0, 1],
                             "slot 0 was refilled before all clients connected; "
                             "the test needs a longer restart_delay")
            results = clients.results(deadline_s=10)
        self.assertEqual(sd.failures(results), [])
        served = collections.Counter(sd.pid_of(b) for b in sd.answered(results))
        self.assertEqual(sum(served.values()), 20)
        (new,) = [w for w in d.workers("web") if w["instance"] == 0]
        self.assertNotEqual(new["id"], w0["id"])
        # The kernel hashed some of the 20 to slot 0 (all 20 to slot 1 has a
        # chance of 2^-20): they waited in slot 0's queue for the replacement.
        self.assertIn(new["pid"], served, f"per-pid share {dict(served)}")
        self.assertLessEqual(set(served), {new["pid"], w1["pid"]})

    def test_connections_made_while_the_app_is_stopped_are_served_after_start(self):
        # stop keeps the sockets: what arrives meanwhile waits in the slots' queues.
        d, _ = self.start()
        port = sd.bound_port(d, "web#0")
        code, _, err = d.ctl("stop", "web")
        self.assertEqual(code, 0, err)
        self.assertEqual(d.workers("web"), [])
        self.assertEqual(sd.socket_names(d), ["web#0", "web#1"])
        with sd.OpenClients(port, 20) as clients:
            self.assertEqual(d.ctl("start", "web")[0], 0)
            results = clients.results(deadline_s=10)
        self.assertEqual(sd.failures(results), [])
        workers = sd.wait_ready(d, "web", 2)
        served = collections.Counter(sd.pid_of(b) for b in sd.answered(results))
        self.assertEqual(set(served), {w["pid"] for w in workers}, f"per-pid share {dict(served)}")

    def test_scale_down_removes_the_slot_socket_after_its_worker_exits(self):
        d, (w0, w1) = self.start()
        code, _, err = d.ctl("scale", "web", 1)
        self.assertEqual(code, 0, err)
        sd.wait_event(d, event="exit", app="web", id=w1["id"])
        d.wait_for(lambda: sd.socket_names(d) == ["web#0"], 5, "web#1 to leave status")
        self.assertEqual([w["id"] for w in d.workers("web")], [w0["id"]])

    def test_after_scale_down_every_connection_goes_to_the_remaining_worker(self):
        # A slot socket left open after its worker is gone would still get a
        # share of the connections from the kernel, and nobody would accept them.
        d, (w0, w1) = self.start()
        port = sd.bound_port(d, "web#0")
        self.assertEqual(d.ctl("scale", "web", 1)[0], 0)
        sd.wait_event(d, event="exit", app="web", id=w1["id"])
        results = sd.get_many(port, 40, concurrency=4, timeout=5)
        self.assertEqual(sd.failures(results), [])
        self.assertEqual({sd.pid_of(b) for b in sd.answered(results)}, {w0["pid"]})

    def test_scale_up_adds_a_slot_socket_on_the_same_port(self):
        d, (w0, w1) = self.start()
        port = sd.bound_port(d, "web#0")
        self.assertEqual(d.ctl("scale", "web", 3)[0], 0)
        workers = sd.wait_ready(d, "web", 3)
        self.assertEqual(sd.socket_names(d), ["web#0", "web#1", "web#2"])
        self.assertEqual(sd.bound_port(d, "web#2"), port)
        results = sd.get_many(port, 150, concurrency=4)
        self.assertEqual(sd.failures(results), [])
        served = {sd.pid_of(b) for b in sd.answered(results)}
        self.assertEqual(served, {w["pid"] for w in workers})

    def test_scaling_to_zero_and_back_keeps_the_ephemeral_port(self):
        # SPEC: port 0 = an ephemeral port chosen once and kept for the daemon's life.
        d, (w0, w1) = self.start()
        port = sd.bound_port(d, "web#0")
        self.assertEqual(d.ctl("scale", "web", 0)[0], 0)
        d.wait_for(lambda: d.workers("web") == [], 5, "no workers left")
        self.assertEqual(d.ctl("scale", "web", 2)[0], 0)
        sd.wait_ready(d, "web", 2)
        self.assertEqual(sd.bound_port(d, "web#0"), port)
        self.assertIn(sd.pid_of(sd.http_request(port)[1]), {w["pid"] for w in d.workers("web")})


if __name__ == "__main__":
    import unittest
    unittest.main()
