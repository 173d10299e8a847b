"""Runs node_workers/listen.js under a real Node primary and under musterd
with the same LISTEN_SPEC and compares what its workers and the clients
observe (../integration/listen_support.py), for test_compat_listen.py and
test_compat_dgram.py."""

import compat_support as cs
from compat_support import harness, ns

import listen_support as ls

POLICIES = ("rr", "none")


def under_node(test, spec, instances=2, policy="rr"):
    """The observation of listen.js with `spec` under Node's own primary."""
    p = test.node_primary(ns.script("listen.js"), instances=instances, policy=policy,
                          env=ls.env(spec, instances))

    def enough():
        got = [e["message"] for e in p.events if e["event"] == "message"
               and ("listening" in e["message"] or "error" in e["message"])]
        return got if len(got) >= instances else None
    reports = harness.Poll.until(enough, 15 * harness.SLOWDOWN,
                                 f"{instances} listen report(s) under Node",
                                 lambda: f"\nevents: {p.events}")
    seen = ls.observe(reports, spec["kind"], spec["port"])
    p.close()
    return seen


def with_port(spec):
    """`spec` on a free port ("PORT" in its args is that port too)."""
    port = ls.free_port()
    args = [port if a == "PORT" else a for a in spec.get("args", [])]
    return {**spec, "port": port, **({"args": args} if args else {})}


class TestCase(cs.TestCase):
    def assert_same_under_both(self, instances=2, **spec):
        """Node's primary and musterd, with each scheduling policy, give the
        same observation; returns Node's (rr) for the test to state too."""
        observed = {}
        for policy in POLICIES:
            with self.subTest(policy=policy):
                node = under_node(self, with_port(spec), instances, policy)
                d, musterd = ls.under_musterd(self, with_port(spec), instances, policy)
                d.close()
                observed[policy] = node
                self.assertEqual(musterd, node, f"musterd (left) vs Node's primary, {policy}")
        return observed["rr"]
