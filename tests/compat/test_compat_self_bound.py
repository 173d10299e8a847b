"""Workers that bind their own socket (docs/compatibility.md, "self-bound
workers"): listen({exclusive: true}) and Node 23's reusePort never ask the
primary, so Node's primary hears no `listening`. musterd sees such a worker
listen in the kernel (its fds against the listening sockets) and counts it
ready then, so a reload of self-bound workers takes about as long as one of
rr workers, with no failed request and no SIGKILL.

The reload's workers close their own server on SIGTERM (listen.js's
LISTEN_CLOSE_ON_TERM), as README tells reusePort apps to: a connection a
worker has accepted at the instant SIGTERM's default action ends it is lost
(the worker holds it, not the primary), and CI once caught that instant."""

import subprocess
import sys
import threading
import time
import unittest

import compat_support as cs
from compat_support import harness, ns

import listen_support as ls

QUICK = 2  # seconds: well under the 5 s quiet rule and ready_timeout


def node_version():
    out = subprocess.run([ns.NODE, "--version"], capture_output=True, text=True, timeout=10)
    return tuple(int(x) for x in out.stdout.strip().lstrip("v").split("."))


def has_reuse_port():
    """net.Server.listen({reusePort}) exists from Node 23.1 and 22.12."""
    v = node_version()
    return v >= (23, 1) or (22, 12) <= v < (23,)


def listen_app(spec, instances, **keys):
    env = dict(ls.env(spec), LISTEN_CLOSE_ON_TERM="1")
    return ns.node_app("web", "listen.js", instances=instances, env=env, **keys)


MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req"


def migrate_requests(test):
    """net.ipv4.tcp_migrate_req = 1 for the test (restored after): a
    connection queued on a reuseport socket its worker closes moves to
    another one instead of being reset, as README advises for reuseport.
    Without it the kernel resets the few that race the close, under any
    primary."""
    with open(MIGRATE_REQ) as f:
        before = f.read().strip()
    with open(MIGRATE_REQ, "w") as f:
        f.write("1")
    def restore():
        with open(MIGRATE_REQ, "w") as f:
            f.write(before)
    test.addCleanup(restore)


class Load:
    """A client connecting to 127.0.0.1:PORT again and again in the
    background, counting the answers and the failures."""

    def __init__(self, port):
        self.port, self.served, self.failed, self.stop = port, 0, [], False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            answer = ls.tcp_client("127.0.0.1", self.port)
            if answer.startswith("worker "):
                self.served += 1
            else:
                self.failed.append(answer)

    def end(self):
        self.stop = True
        self.thread.join(10)


class SelfBound(cs.TestCase):
    def test_an_exclusive_worker_is_listening_as_soon_as_the_kernel_shows_it(self):
        spec = {"kind": "tcp", "port": ls.free_port(), "host": "127.0.0.1", "exclusive": True}
        p = self.node_primary(ns.script("listen.js"), instances=1, env=ls.env(spec, 1))
        p.wait_events("message", 1, where=lambda e: "listening" in e["message"])
        self.assertEqual(ls.tcp_client("127.0.0.1", spec["port"])[:7], "worker ")
        self.assertEqual([e for e in p.events if e["event"] == "listening"], [],
                         "Node's primary hears no listening from a self-bound worker")
        p.close()
        d = self.daemon().start(listen_app(spec, 1))
        began = time.monotonic()
        (w,) = d.wait_workers("web", 1, state="listening", timeout=QUICK)
        self.assertLess(time.monotonic() - began, QUICK)
        self.assertTrue(d.app_status("web")["workers"][0]["ready"])
        self.assertEqual(ls.tcp_client("127.0.0.1", spec["port"])[:7], "worker ")

    def reload(self, d, port):
        """Seconds a reload of web took under load, and what the load saw."""
        old = d.wait_workers("web", 2, state="listening", timeout=10)
        load = Load(port)
        harness.Poll.until(lambda: load.served > 0, 5, "the load to be served")
        began = time.monotonic()
        rc, _, err = d.ctl("reload", "web", timeout=30)
        took = time.monotonic() - began
        load.end()
        self.assertEqual(rc, 0, err)
        exits = [ns.wait_event(d, event="exit", id=w["id"]) for w in old]
        return took, load, exits

    def test_a_reload_of_reuse_port_workers_is_as_quick_as_one_of_rr_workers(self):
        if not has_reuse_port():
            self.skipTest(f"Node {node_version()} has no listen({{reusePort}})")
        migrate_requests(self)
        port = ls.free_port()
        d = self.daemon().start(listen_app({"kind": "tcp", "port": port, "host": "127.0.0.1"}, 2))
        rr_took, _, _ = self.reload(d, port)
        d.close()
        spec = {"kind": "tcp", "port": port, "host": "127.0.0.1", "reusePort": True}
        d = self.daemon().start(listen_app(spec, 2))
        took, load, exits = self.reload(d, port)
        self.assertEqual(load.failed, [], f"{load.served} served")
        # Its own server keeps it alive after the disconnect (Node closes only
        # the servers the primary knows): stop_signal ends it, as
        # worker.kill() would under Node; never SIGKILL at stop_timeout.
        self.assertEqual([e["signal"] for e in exits], ["SIGTERM", "SIGTERM"])
        print(f"\nreload of 2 workers: rr {rr_took:.2f}s, reusePort {took:.2f}s, "
              f"{load.served} served, {len(load.failed)} failed", file=sys.stderr)
        self.assertLess(took, max(2 * rr_took, 1.0), f"rr reload took {rr_took:.2f}s")


if __name__ == "__main__":
    unittest.main()
