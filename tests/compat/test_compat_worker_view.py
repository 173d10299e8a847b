"""What an unmodified cluster worker sees of itself (cluster.isWorker,
cluster.worker.id and its NODE_UNIQUE_ID, isConnected(), process.send, the
channel and its serialization, its argv and execArgv) is the same under a real
Node primary and under musterd (docs/compatibility.md, "The worker's view of
itself")."""

import os
import unittest

import compat_support as cs
from compat_support import ns, harness

SCRIPT = os.path.join(cs.HERE, "workers", "introspect.js")


def first_view(messages):
    views = [m["view"] for m in messages if isinstance(m, dict) and "view" in m]
    return views[0] if views else None


class WorkerView(cs.TestCase):
    def view_under_node(self):
        p = self.node_primary(SCRIPT, instances=1, args=["--flag", "x"])
        (msg,) = p.wait_events("message", 1)
        return msg["message"]["view"]

    def view_under_musterd(self):
        d = self.daemon()
        d.start(harness.app("w", ns.NODE, args=[SCRIPT, "--flag", "x"], protocol="node",
                            ready="online"))
        msgs = d.wait_for(lambda: [e for e in d.events(event="message", app="w")] or None, 15,
                          "the worker's view")
        return msgs[0]["message"]["view"]

    def test_the_worker_sees_the_same_cluster_api_under_both(self):
        node, musterd = self.view_under_node(), self.view_under_musterd()
        self.assertEqual(musterd, node)


if __name__ == "__main__":
    unittest.main()
