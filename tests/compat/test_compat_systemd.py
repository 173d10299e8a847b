"""The systemd socket-activation rows of docs/compatibility.md: the plainest
socket-activated server (workers/plain_server.py: a blocking accept() loop,
no muster code) under systemd-socket-activate, the reference, and under
musterd with protocol = "systemd". What the server observes at start (each
passed fd's number, O_NONBLOCK and close-on-exec flags, family and type; the
LISTEN_* variables) and what clients get are compared."""

import json
import os

import compat_support as cs
from compat_support import harness, ns

PLAIN_SERVER = os.path.join(cs.HERE, "workers", "plain_server.py")


def observed(body):
    """What the server saw, without what differs by nature (pids, ports)."""
    seen = json.loads(body)
    env = dict(seen["env"])
    env["LISTEN_PID"] = "own pid" if env["LISTEN_PID"] == str(seen["pid"]) else env["LISTEN_PID"]
    fds = [{k: v for k, v in fd.items() if k != "port"} for fd in seen["fds"]]
    return {"env": env, "fds": fds}


class SocketActivation(cs.TestCase):
    def under_reference(self, names, fdnames=True):
        ports = [ns.free_port() for _ in names]
        self.socket_activate([f"127.0.0.1:{p}" for p in ports], [harness.PYTHON, PLAIN_SERVER],
                             fdnames=names if fdnames else None)
        return ports

    def under_musterd(self, names):
        d = self.daemon()
        ports = [ns.free_port() for _ in names]
        sockets = "".join(harness.toml_table(f"sockets.{n}", {"listen": f"127.0.0.1:{p}"})
                          for n, p in zip(names, ports))
        d.start(sockets + harness.app("plain", harness.PYTHON, args=[PLAIN_SERVER],
                                      protocol="systemd", sockets=list(names)))
        d.wait_for(lambda: [w for w in d.workers("plain") if w["ready"]], 10,
                   "the plain server's READY=1")
        return ports

    def bodies(self, port, count):
        results = ns.get_many(("127.0.0.1", port), count, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        return ns.answered(results)

    def test_a_blocking_accept_server_serves_every_client_under_both(self):
        for ports in (self.under_reference(["web"]), self.under_musterd(["web"])):
            bodies = self.bodies(ports[0], 40)
            # One process served them all, in turn: it never died of EAGAIN.
            self.assertEqual(len({json.loads(b)["pid"] for b in bodies}), 1)
            self.assertEqual(max(json.loads(b)["served"] for b in bodies), 40)

    def test_the_server_sees_one_socket_the_same_way_under_both(self):
        reference = observed(self.bodies(self.under_reference(["web"])[0], 1)[0])
        musterd = observed(self.bodies(self.under_musterd(["web"])[0], 1)[0])
        self.assertEqual(reference, musterd)
        self.assertEqual(musterd["fds"], [{"fd": 3, "nonblocking": False, "cloexec": False,
                                           "family": "ipv4", "type": "stream"}])
        self.assertEqual(musterd["env"], {"LISTEN_FDS": "1", "LISTEN_FDNAMES": "web",
                                          "LISTEN_PID": "own pid"})

    def test_two_sockets_arrive_as_fds_3_and_4_with_their_names_under_both(self):
        reference = observed(self.bodies(self.under_reference(["web", "admin"])[1], 1)[0])
        musterd = observed(self.bodies(self.under_musterd(["web", "admin"])[1], 1)[0])
        self.assertEqual(reference, musterd)
        self.assertEqual([fd["fd"] for fd in musterd["fds"]], [3, 4])
        self.assertEqual(musterd["env"]["LISTEN_FDNAMES"], "web:admin")

    def test_unnamed_sockets_differ_musterd_always_names_them(self):
        # systemd-socket-activate without --fdname sets no LISTEN_FDNAMES
        # (sd_listen_fds_with_names(3) then says "unknown"; a .socket unit
        # would name it after the unit); musterd passes the [sockets.NAME].
        reference = observed(self.bodies(self.under_reference(["web"], fdnames=False)[0], 1)[0])
        musterd = observed(self.bodies(self.under_musterd(["web"])[0], 1)[0])
        self.assertIsNone(reference["env"]["LISTEN_FDNAMES"])
        self.assertEqual(musterd["env"]["LISTEN_FDNAMES"], "web")
        self.assertEqual(reference["fds"], musterd["fds"])


if __name__ == "__main__":
    import unittest
    unittest.main()
