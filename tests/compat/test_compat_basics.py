"""The compatibility suite's first rows: an unmodified cluster worker serves
the same way under a real Node primary and under musterd (docs/compatibility.md,
"HTTP server on a port")."""

import unittest

import compat_support as cs
from compat_support import ns


class HttpServerOnAPort(cs.TestCase):
    def serve_under_node(self, port, policy):
        p = self.node_primary(ns.script("hello.js"), instances=2, policy=policy,
                              env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"})
        p.wait_events("listening", 2)
        return sorted({ns.worker_of(body) for body in self.bodies(port)})

    def serve_under_musterd(self, port, policy):
        d = self.daemon()
        d.start(ns.node_app("web", "hello.js", instances=2, scheduling=policy,
                            env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 2)
        return sorted({ns.worker_of(body) for body in self.bodies(port)})

    def bodies(self, port):
        results = ns.get_many(("127.0.0.1", port), 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        return ns.answered(results)

    def test_round_robin_spreads_connections_over_both_workers_under_both(self):
        port = ns.free_port()
        node = self.serve_under_node(port, "rr")
        port = ns.free_port()
        musterd = self.serve_under_musterd(port, "rr")
        self.assertEqual(len(node), 2)
        self.assertEqual(len(musterd), 2)


if __name__ == "__main__":
    unittest.main()
