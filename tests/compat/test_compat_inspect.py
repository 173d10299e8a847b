"""Inspector ports per worker, under a real Node primary and under musterd
(docs/compatibility.md, "inspectPort"). `node --inspect=HOST:PORT primary.js`
gives each fork the next port after the primary's, PORT+1, PORT+2, ..., and a
fork that replaces a dead worker yet another one (Node's
lib/internal/cluster/primary.js counts debugPortOffset up per fork). musterd's
`inspect = "HOST:PORT"` gives instance n PORT+n and the same port to every
worker that refills its slot. Both give each worker its own inspector, which
answers /json/list. The worker is node_workers/inspect.js."""

import os
import signal
import unittest

import compat_support as cs
from compat_support import ns

import test_node_inspect as inspect_test  # noqa: E402 (../integration, on sys.path)

SCRIPT = ns.script("inspect.js")


class InspectorPortPerWorker(cs.TestCase):
    def under_node(self, port):
        """The debug ports of two forks, then of the fork replacing the first."""
        p = self.node_primary(SCRIPT, instances=2, node_args=[f"--inspect=127.0.0.1:{port}"])
        first = [e["message"]["inspect"] for e in p.wait_events("message", 2)]
        for report in first:
            self.assertIsNotNone(inspect_test.targets(report["debugPort"]),
                                 "each fork's inspector answers")
        os.kill(first[0]["pid"], signal.SIGKILL)
        p.wait_events("exit", 1)
        p.command(cmd="fork")
        (third,) = [e["message"]["inspect"] for e in p.wait_events("message", 3)][2:]
        return sorted(r["debugPort"] for r in first), third["debugPort"]

    def under_musterd(self, port):
        """The same under musterd: the ports of the two slots, then of slot 0's refill."""
        d = self.daemon()
        d.start(ns.node_app("web", "inspect.js", instances=2, inspect=f"127.0.0.1:{port}"))
        workers = d.wait_workers("web", 2)
        first = [inspect_test.wait_report(d, w["pid"]) for w in workers]
        for report in first:
            inspect_test.wait_target(d, report["debugPort"])
        os.kill(workers[0]["pid"], signal.SIGKILL)
        again = d.wait_for(
            lambda: [w for w in d.workers("web")
                     if w["instance"] == 0 and w["id"] != workers[0]["id"] and w["pid"]], 15,
            "slot 0 refilled")[0]
        return sorted(r["debugPort"] for r in first), inspect_test.wait_report(
            d, again["pid"])["debugPort"]

    def test_node_counts_ports_up_per_fork_and_musterd_keeps_each_slots_port(self):
        port = inspect_test.free_ports(4)
        node_ports, node_refill = self.under_node(port)
        self.assertEqual(node_ports, [port + 1, port + 2], "Node: the primary's port + 1, + 2")
        self.assertEqual(node_refill, port + 3, "Node: a new fork, a new port")
        muster_ports, muster_refill = self.under_musterd(port)
        self.assertEqual(muster_ports, [port, port + 1], "musterd: PORT + instance")
        self.assertEqual(muster_refill, port, "musterd: the slot keeps its port")


if __name__ == "__main__":
    unittest.main()
