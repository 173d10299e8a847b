"""autostart and after (issue 24): an app with autostart = false is defined
but started only by `musterctl start`; an app with after = ["db"] starts once
db has a ready worker and is stopped before it; a cycle of after is refused
with its place in the file."""

import datetime
import signal
import unittest

import harness
from harness import app

# A systemd-protocol worker that sends READY=1 only after DELAY seconds, then
# runs until SIGTERM (which ends it).
SLOW_READY = """#!/usr/bin/env python3
import os, signal, socket, sys, time
time.sleep(float(sys.argv[1]))
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", addr)
signal.pause()
"""

# Writes "NAME up" to ./stops once it handles SIGTERM, "NAME term" on SIGTERM
# and "NAME exit" 0.5 s later when it exits: the stops' order is in the file.
STOP_MARKER = """#!/usr/bin/env python3
import signal, sys, time
name = sys.argv[1]
def mark(what):
    with open("stops", "a") as f:
        f.write(name + " " + what + "\\n")
def term(signo, frame):
    mark("term")
    time.sleep(0.5)
    mark("exit")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
mark("up")
while True:
    signal.pause()
"""


def at(event):
    return datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()


def stops(d):
    """The stops written by STOP_MARKER workers, in order."""
    return [l for l in d.read_file("stops").splitlines() if not l.endswith(" up")]


def wait_up(d, *names):
    d.wait_for(lambda: all(f"{n} up" in d.read_file("stops").splitlines() for n in names), 10,
               f"{names} handling SIGTERM")


def sleeper(name, **keys):
    return app(name, "sleep", args=["600"], **keys)


class Autostart(harness.TestCase):
    def test_an_app_with_autostart_false_runs_only_once_started(self):
        d = self.daemon()
        d.start(sleeper("web") + sleeper("tool", autostart=False))
        d.wait_workers("web", 1)
        tool = d.app_status("tool")
        self.assertEqual((tool["state"], tool["workers"]), ("stopped", []))
        d.holds(lambda: not d.events(event="fork", app="tool"), 0.5, "tool not started")

        rc, out, err = d.ctl("start", "tool")
        self.assertEqual(rc, 0, err)
        d.wait_workers("tool", 1)
        self.assertEqual(d.app_status("tool")["state"], "running")

    def test_start_all_starts_apps_with_autostart_false_too(self):
        d = self.daemon()
        d.start(sleeper("tool", autostart=False))
        self.assertEqual(d.app_status("tool")["state"], "stopped")
        rc, out, err = d.ctl("start", "all")
        self.assertEqual(rc, 0, err)
        d.wait_workers("tool", 1)


class After(harness.TestCase):
    def test_an_app_starts_only_once_the_app_it_names_has_a_ready_worker(self):
        d = self.daemon()
        d.write_script("slow_ready.py", SLOW_READY)
        d.start(app("db", "./slow_ready.py", args=["1.5"], cwd=".", protocol="systemd") +
                sleeper("api", after=["db"]))
        d.wait_for(lambda: d.events(event="fork", app="db"), 5, "db's fork")
        api = d.app_status("api")
        self.assertEqual((api["state"], api["waiting_for"], api["workers"]),
                         ("waiting", ["db"], []))
        (waiting,) = d.events(event="waiting", app="api")
        self.assertEqual(waiting["for"], ["db"])
        rc, out, err = d.ctl("status")
        self.assertIn("waiting for db (after)", out)

        d.wait_workers("api", 1, timeout=10)
        (db_fork,) = d.events(event="fork", app="db")
        (api_fork,) = d.events(event="fork", app="api")
        # db's READY=1 came 1.5 s after its start: api was forked after it.
        self.assertGreaterEqual(at(api_fork) - at(db_fork), 1.4)
        self.assertTrue(d.workers("db")[0]["ready"])
        self.assertEqual(d.app_status("api")["state"], "running")

    def test_a_start_is_refused_while_the_app_it_names_is_stopped(self):
        d = self.daemon()
        d.start(sleeper("db", autostart=False) + sleeper("api", after=["db"]))
        # api waits for db, which nothing starts.
        d.wait_for(lambda: d.app_status("api")["state"] == "waiting", 5, "api waiting")
        rc, out, err = d.ctl("start", "api")
        self.assertEqual(rc, 1)
        self.assertIn("app 'api' starts after 'db', which is stopped; start 'db' first", err)

        rc, out, err = d.ctl("start", "db")
        self.assertEqual(rc, 0, err)
        d.wait_workers("api", 1)

    def test_shutdown_stops_an_app_before_the_app_it_names(self):
        d = self.daemon()
        d.write_script("marker.py", STOP_MARKER)
        d.start(app("api", "./marker.py", args=["api"], cwd=".", after=["db"]) +
                app("db", "./marker.py", args=["db"], cwd="."))
        wait_up(d, "db", "api")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0)
        self.assertEqual(stops(d), ["api term", "api exit", "db term", "db exit"])

    def test_stop_all_stops_dependents_first(self):
        d = self.daemon()
        d.write_script("marker.py", STOP_MARKER)
        d.start(app("db", "./marker.py", args=["db"], cwd=".") +
                app("api", "./marker.py", args=["api"], cwd=".", after=["db"]))
        wait_up(d, "db", "api")
        rc, out, err = d.ctl("stop", "all")
        self.assertEqual(rc, 0, err)
        self.assertEqual(stops(d), ["api term", "api exit", "db term", "db exit"])

    def test_a_cycle_is_refused_by_check_with_its_place(self):
        d = self.daemon()
        path = d.write_config(sleeper("a", after=["b"]) + sleeper("b", after=["a"]))
        text = d.read_file("muster.toml")
        before = text[:text.index('after = ["b"]')]
        line = before.count("\n") + 1
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn(f"{path}:{line}:10: apps.a.after[0]: apps may not wait for each other "
                      "in a cycle: a -> b -> a", err)


if __name__ == "__main__":
    unittest.main()
