"""musterd under a low open-files limit (ulimit -n 64, LimitNOFILE=64): the
fds it passes to node- and systemd-protocol workers are put in place whatever
the limit, and when fds really run out the error says EMFILE and names the
RLIMIT_NOFILE soft limit to raise."""

import contextlib
import os
import resource

import harness
import node_support as ns
import systemd_support as sd
from client_support import socket_table

HELLO_CC = os.path.join(harness.BUILD_DIR, "muster-hello")


@contextlib.contextmanager
def soft_nofile(limit):
    """This process's soft RLIMIT_NOFILE is `limit` inside the block, so a
    musterd started there inherits it (as from `ulimit -n`); the hard limit is
    left alone, so the old soft limit can be restored without privileges."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def musterd_limit(d):
    return resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)[0]


def hard_limit(d):
    return resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)[1]


class LowLimit(sd.TestCase):
    def test_a_node_protocol_worker_comes_up_and_serves_with_ulimit_n_64(self):
        d = self.daemon()
        port = ns.free_port()
        with soft_nofile(64):
            d.start(socket_table("web", f"127.0.0.1:{port}") +
                    harness.app("web", HELLO_CC, args=[str(port), "127.0.0.1"],
                                protocol="node", instances=2, sockets=["web"]))
        self.assertEqual(musterd_limit(d), 64)
        ns.wait_listening(d, "web", 2)
        status, body = sd.http_request(port)
        self.assertEqual(status, 200)
        self.assertIn("from worker", body.lower())

    def test_a_systemd_protocol_worker_comes_up_and_serves_with_ulimit_n_64(self):
        d = self.daemon()
        with soft_nofile(64):
            d.start(socket_table("web") + socket_table("admin") +
                    sd.sd_server_app(sockets=["admin", "web"], instances=2))
        self.assertEqual(musterd_limit(d), 64)
        pids = {w["pid"] for w in sd.wait_ready(d, "web", 2)}
        for name in ("admin", "web"):  # fds 3 and 4 both in place
            status, body = sd.http_request(sd.bound_port(d, name))
            self.assertEqual(status, 200)
            self.assertIn(sd.pid_of(body), pids)


class OutOfFds(harness.TestCase):
    def test_a_spawn_that_runs_out_of_fds_names_emfile_and_the_soft_limit(self):
        d = self.daemon()
        port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{port}") +
                harness.app("web", HELLO_CC, args=[str(port), "127.0.0.1"],
                            protocol="node", sockets=["web"], max_restarts=1000))
        ns.wait_listening(d, "web", 1)
        # The control connection is accepted first: once musterd is at its
        # limit it can accept no other, but answers on this one.
        with d.connect() as c:
            self.assertTrue(c.request({"verb": "ping"})["pong"])
            # Every fd musterd has now is below the limit; each new worker
            # needs about three more for good, so some of 30 cannot start
            # even where earlier closes left holes.
            limit = max(harness.open_fds(d.proc.pid)) + 1
            soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (limit, hard_limit(d)))
            try:
                self.assertTrue(c.request({"verb": "scale", "app": "web", "count": 30})["ok"])

                def spawn_failures():
                    events = c.request({"verb": "events"})["events"]
                    return [e.get("reason", "") for e in events
                            if "spawn failed" in e.get("reason", "")]
                reasons = d.wait_for(spawn_failures, 10, "a failed spawn")
            finally:  # room again for teardown
                resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
        self.assertIn("Too many open files (EMFILE: RLIMIT_NOFILE soft limit %d)" % limit,
                      reasons[0])


if __name__ == "__main__":
    import unittest
    unittest.main()
