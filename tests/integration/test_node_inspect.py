"""inspect = "HOST:PORT" (issue 23, Node's inspectPort): each worker of a node
app gets Node's --inspect on PORT + its instance, the same port when its slot
is refilled, so that a debugger reconnects to the same address; `status`
shows each worker's inspector. A range that cannot work is refused by
`musterctl check` and by `scale`. The worker is node_workers/inspect.js, the
program tests/compat/test_compat_inspect.py runs under a real Node primary."""

import json
import os
import signal
import socket
import subprocess
import unittest
import urllib.request

import harness
import node_support as ns


def free_ports(count):
    """The first of `count` consecutive TCP ports free on 127.0.0.1 now."""
    for _ in range(50):
        first = ns.free_port()
        if first + count > 65535:
            continue
        held = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise AssertionError(f"no {count} consecutive free ports")


def targets(port):
    """What the inspector on `port` lists (GET /json/list), or None if nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def wait_target(d, port):
    """The one target the inspector on `port` lists, once it answers."""
    listed = d.wait_for(lambda: targets(port), 10, f"an inspector answering on port {port}")
    assert len(listed) == 1, listed
    return listed[0]


def reports(d, app="web"):
    """The inspect.js reports of APP's workers, by pid."""
    return {m["inspect"]["pid"]: m["inspect"] for m in ns.messages(d, app, "inspect")}


def wait_report(d, pid, app="web"):
    return d.wait_for(lambda: reports(d, app).get(pid), 10, f"the report of pid {pid}")


class InspectorPorts(ns.TestCase):
    def start(self, d, port, instances=2, **keys):
        d.start(ns.node_app("web", "inspect.js", instances=instances,
                            inspect=f"127.0.0.1:{port}", **keys))
        return d.wait_workers("web", instances)

    def test_each_worker_has_an_inspector_on_the_port_plus_its_instance(self):
        port = free_ports(2)
        d = self.daemon()
        workers = self.start(d, port)
        for w in workers:
            expected = port + w["instance"]
            self.assertEqual(w["inspector"], f"127.0.0.1:{expected}")
            target = wait_target(d, expected)
            self.assertEqual(target["type"], "node")
            report = wait_report(d, w["pid"])
            self.assertEqual(report["debugPort"], expected)
            self.assertIn(f"127.0.0.1:{expected}/", report["url"])
            self.assertIn(target["id"], report["url"], "the target is that worker's")
        # Node itself gets --inspect on its command line, not in NODE_OPTIONS.
        self.assertIsNone(wait_report(d, workers[0]["pid"])["nodeOptions"])
        rc, out, err = d.ctl("status", "web")
        self.assertEqual(rc, 0, err)
        self.assertIn("INSPECTOR", out)
        for w in workers:
            self.assertIn(f"127.0.0.1:{port + w['instance']}", out)

    def test_a_killed_workers_replacement_has_the_same_inspector_port(self):
        port = free_ports(2)
        d = self.daemon()
        first, _ = self.start(d, port)
        before = wait_target(d, port)
        os.kill(first["pid"], signal.SIGKILL)

        def replaced():
            ws = d.workers("web")
            new = [w for w in ws if w["instance"] == 0 and w["id"] != first["id"]]
            return new[0] if len(ws) == 2 and new and new[0]["state"] == "online" else None
        again = d.wait_for(replaced, 15, "a new worker in slot 0")
        self.assertEqual(again["inspector"], f"127.0.0.1:{port}")
        self.assertEqual(wait_report(d, again["pid"])["debugPort"], port)
        after = d.wait_for(lambda: [t for t in targets(port) or [] if t["id"] != before["id"]],
                           10, "the new worker's target on the same port")
        self.assertIn(after[0]["id"], wait_report(d, again["pid"])["url"])

    def test_after_a_rolling_reload_the_new_worker_opens_its_inspector_on_the_slots_port(self):
        port = free_ports(1)
        d = self.daemon()
        (old,) = self.start(d, port, instances=1, ready="online")
        before = wait_target(d, port)
        rc, _, err = d.ctl("reload", "web", timeout=30)
        self.assertEqual(rc, 0, err)
        (new,) = d.wait_workers("web", 1)
        self.assertNotEqual(new["id"], old["id"])
        self.assertEqual(new["inspector"], f"127.0.0.1:{port}")
        # It started while the old worker held the port; once that one left,
        # musterd's SIGUSR1 made Node open it.
        after = d.wait_for(lambda: [t for t in targets(port) or [] if t["id"] != before["id"]],
                           10, "the new worker's inspector on the slot's port")
        self.assertEqual(len(after), 1)

    def test_a_script_that_runs_node_gets_inspect_in_node_options_after_its_own(self):
        port = free_ports(1)
        d = self.daemon()
        wrapper = d.write_script("run-node.sh",
                                 f'#!/bin/sh\nexec {ns.NODE} "$@"\n')
        d.start(harness.app("web", wrapper, args=[ns.script("inspect.js")], protocol="node",
                            inspect=f"127.0.0.1:{port}",
                            env={"NODE_OPTIONS": "--max-old-space-size=200"}))
        (w,) = d.wait_workers("web", 1)
        wait_target(d, port)
        report = wait_report(d, w["pid"])
        self.assertEqual(report["nodeOptions"],
                         f"--max-old-space-size=200 --inspect=127.0.0.1:{port}")
        self.assertEqual(report["debugPort"], port)

    def test_scale_up_gives_new_slots_their_own_port_and_refuses_a_declared_one(self):
        port = free_ports(4)
        d = self.daemon()
        d.start(harness.toml_table("sockets.other", {"listen": f"127.0.0.1:{port + 3}"}) +
                ns.node_app("web", "inspect.js", instances=2, inspect=f"127.0.0.1:{port}"))
        d.wait_workers("web", 2)
        rc, out, err = d.ctl("scale", "web", 3)
        self.assertEqual(rc, 0, err)
        workers = d.wait_workers("web", 3)
        self.assertEqual([w["inspector"] for w in workers],
                         [f"127.0.0.1:{port + i}" for i in range(3)])
        wait_target(d, port + 2)
        rc, out, err = d.ctl("scale", "web", 4)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"takes ports {port}-{port + 3} (4 instances), but sockets.other listens "
                      f'on "127.0.0.1:{port + 3}"', err)
        self.assertEqual(len(d.workers("web")), 3)


class RefusedRanges(ns.TestCase):
    def check(self, d, text):
        path = d.write_file("check.toml", text)
        r = subprocess.run([harness.MUSTERCTL, "check", path], capture_output=True,
                                   text=True, timeout=20)
        return r.returncode, r.stderr

    def test_check_refuses_inspect_on_an_app_that_is_not_node_with_its_place(self):
        d = self.daemon()
        rc, err = self.check(d, harness.app("web", "sleep", args=["600"],
                                            inspect="127.0.0.1:9229"))
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"check\.toml:\d+:\d+: apps\.web\.inspect: opens Node's inspector "
                              r'in each worker: needs protocol "node"')

    def test_check_refuses_a_range_over_a_declared_socket_or_past_65535(self):
        d = self.daemon()
        rc, err = self.check(d, harness.toml_table("sockets.http", {"listen": "0.0.0.0:9230"}) +
                             ns.node_app("web", "inspect.js", instances=2,
                                         inspect="127.0.0.1:9229"))
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"check\.toml:\d+:\d+: apps\.web\.inspect: inspect = "
                              r'"127\.0\.0\.1:9229" takes ports 9229-9230 \(2 instances\), '
                              r'but sockets\.http listens on "0\.0\.0\.0:9230"')
        rc, err = self.check(d, ns.node_app("web", "inspect.js", instances=2,
                                            inspect="127.0.0.1:65535"))
        self.assertEqual(rc, 2, err)
        self.assertIn("past 65535", err)
        rc, err = self.check(d, ns.node_app("web", "inspect.js", inspect="localhost"))
        self.assertEqual(rc, 2, err)
        self.assertIn('apps.web.inspect: expected a TCP address like "127.0.0.1:9229"', err)


if __name__ == "__main__":
    unittest.main()
