"""Round-robin connections that arrive while no worker can take them are held
by the daemon (bounded by max_pending and pending_timeout) and delivered when
a worker returns: none is lost."""

import os
import signal
import time
import unittest

import node_support as ns
from node_support import node_app, socket_table

HELD = 20


def start_hello(test, instances=1, **keys):
    d = test.daemon()
    d.start(socket_table("web") + node_app("web", "hello.js", instances=instances,
                                           sockets=["web"], scheduling="rr", **keys))
    ns.wait_listening(d, "web", instances)
    return d, ns.bound_port(d, "web")


def stop(test, d):
    rc, _, err = d.ctl("stop", "web")
    test.assertEqual(rc, 0, err)
    test.assertEqual(d.workers("web"), [])


def wait_pending(d, count, timeout=5):
    return d.wait_for(lambda: d.app_status("web")["pending"] == count, timeout,
                      f"{count} held connection(s) in status")


class HeldWhileDown(ns.TestCase):
    def test_connections_held_while_the_app_is_stopped_are_all_served_after_start(self):
        d, port = start_hello(self, instances=2)
        stop(self, d)
        with ns.OpenClients(port, HELD) as clients:
            wait_pending(d, HELD)
            rc, _, err = d.ctl("start", "web")
            self.assertEqual(rc, 0, err)
            results = clients.results(deadline_s=10)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len(ns.answered(results)), HELD)
        new_ids = {w["id"] for w in ns.wait_listening(d, "web", 2)}
        self.assertTrue({ns.worker_of(b) for b in ns.answered(results)} <= new_ids)
        self.assertEqual(d.app_status("web")["pending"], 0)

    def test_status_pending_counts_held_connections(self):
        d, port = start_hello(self)
        self.assertEqual(d.app_status("web")["pending"], 0)
        stop(self, d)
        with ns.OpenClients(port, 3) as first:
            wait_pending(d, 3)
            with ns.OpenClients(port, 4) as second:
                wait_pending(d, 7)
                self.assertEqual(d.ctl("start", "web")[0], 0)
                wait_pending(d, 0)
                results = first.results() + second.results()
        self.assertEqual(ns.failures(results), [])

    def test_connections_held_while_the_only_worker_restarts_after_sigkill_are_all_served(self):
        d, port = start_hello(self, restart="always", restart_delay="1500ms")
        (w,) = d.workers("web")
        os.kill(w["pid"], signal.SIGKILL)
        gone = ns.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual(gone["signal"], "SIGKILL")
        with ns.OpenClients(port, HELD) as clients:
            # All of them are in the daemon's hands while the slot is empty.
            wait_pending(d, HELD)
            self.assertEqual(d.workers("web"), [])
            results = clients.results(deadline_s=10)
        self.assertEqual(ns.failures(results), [])
        (new,) = ns.wait_listening(d, "web", 1)
        self.assertEqual({ns.worker_of(b) for b in ns.answered(results)}, {new["id"]})
        self.assertEqual(len(ns.answered(results)), HELD)

    def stop_on_demand(self):
        """An app with no declared socket (its listen(0) is bound on demand),
        stopped; returns (daemon, port)."""
        d = self.daemon()
        d.start(node_app("web", "hello.js", scheduling="rr", env={"HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 1)
        (report,) = ns.wait_messages(d, "listening", 1, app="web")
        stop(self, d)
        return d, report["listening"]

    def test_connections_held_on_an_on_demand_socket_are_served_after_start(self):
        d, port = self.stop_on_demand()
        with ns.OpenClients(port, 5) as clients:
            self.assertEqual(d.ctl("start", "web")[0], 0)
            results = clients.results(deadline_s=10)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len(ns.answered(results)), 5)

    def test_status_pending_counts_connections_held_on_an_on_demand_socket(self):
        d, port = self.stop_on_demand()
        with ns.OpenClients(port, 5):
            wait_pending(d, 5, timeout=3)


class Limits(ns.TestCase):
    def test_pending_timeout_closes_connections_held_too_long(self):
        d, port = start_hello(self, pending_timeout="1s")
        stop(self, d)
        with ns.OpenClients(port, 3) as clients:
            began = time.monotonic()
            wait_pending(d, 3)
            for s in clients.socks:
                s.settimeout(5)
                self.assertEqual(ns.read_all(s), b"", "a held connection must be closed")
            took = time.monotonic() - began
        self.assertGreaterEqual(took, 0.8, "closed before pending_timeout")
        self.assertLess(took, 3, "not closed at pending_timeout")
        self.assertEqual(d.app_status("web")["pending"], 0)
        d.wait_log("held longer than pending_timeout")

    def test_max_pending_bounds_what_is_held_and_the_rest_waits_in_the_backlog(self):
        d, port = start_hello(self, max_pending=5)
        stop(self, d)
        with ns.OpenClients(port, 12) as clients:
            wait_pending(d, 5)
            d.holds(lambda: d.app_status("web")["pending"] == 5, 0.3, "at most 5 held")
            self.assertEqual(d.ctl("start", "web")[0], 0)
            results = clients.results(deadline_s=10)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len(ns.answered(results)), 12)


if __name__ == "__main__":
    unittest.main()
