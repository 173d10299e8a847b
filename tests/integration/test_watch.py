"""watch / watch_ignore (development): a change under a watched path rolls
one reload of the app, as `musterctl reload` does, and publishes a `watch`
event naming the file; changes close together make one reload; ignored
names (node_modules always) make none."""

import json
import os
import select
import subprocess
import time
import unittest

import harness
from harness import app

SLOW = harness.SLOWDOWN


class Watch(harness.TestCase):
    def start(self, **keys):
        d = self.daemon()
        os.makedirs(d.path("src"))
        os.makedirs(d.path("node_modules"))
        keys.setdefault("watch", ["src"])
        d.start(app("web", "sleep", args=["1000"], cwd=".", instances=2,
                    watch_delay="200ms", **keys))
        return d, d.wait_workers("web", 2)

    def follower(self, d):
        proc = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, "--json", "events",
                                 "--follow"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        self.assertIn('"follow":true', self.next_line(proc, 5))
        return proc

    def next_line(self, proc, timeout):
        ready, _, _ = select.select([proc.stdout], [], [], timeout * SLOW)
        self.assertTrue(ready, "no line from musterctl events --follow in time")
        return proc.stdout.readline().decode()

    def watch_event(self, proc, timeout):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            event = json.loads(self.next_line(proc, deadline - time.monotonic()))
            if event.get("event") == "watch":
                return event
        self.fail("no watch event in time")

    def reloads(self, d):
        return d.events(event="reload", app="web", phase="start")

    def replaced(self, d, before):
        workers = d.workers("web")
        pids = {w["pid"] for w in workers}
        return (len(workers) == 2 and all(w["state"] == "online" for w in workers) and
                not pids & {w["pid"] for w in before} and workers)

    def test_a_file_written_under_src_reloads_the_app_once_and_is_named(self):
        d, before = self.start()
        proc = self.follower(d)
        written = time.monotonic()
        d.write_file("src/a.js", "1")
        event = self.watch_event(proc, 2)
        self.assertLess(time.monotonic() - written, 2 * SLOW)
        self.assertEqual((event["app"], event["file"], event["files"], event["count"]),
                         ("web", "src/a.js", ["src/a.js"], 1))
        after = d.wait_for(lambda: self.replaced(d, before), 10, "both workers replaced")
        self.assertEqual(len(self.reloads(d)), 1)
        # As a reload leaves them: the new workers start with no restarts.
        self.assertEqual([w["restarts"] for w in after], [0, 0])
        self.assertEqual(d.app_status("web")["restarts"], 0)

    def test_twenty_quick_writes_make_one_reload(self):
        d, before = self.start()
        for i in range(20):
            d.write_file("src/a.js", str(i))
            time.sleep(0.02)
        d.wait_for(lambda: self.replaced(d, before), 10, "both workers replaced")
        d.holds(lambda: len(self.reloads(d)) == 1 and len(d.events(event="watch")) == 1,
                1.0, "one watch event and one reload")

    def test_node_modules_and_ignored_names_reload_nothing(self):
        d, before = self.start(watch=["src", "*.js"], watch_ignore=["*.log"])
        os.makedirs(d.path("src", "node_modules", "dep"))
        d.write_file("node_modules/lib.js", "x")
        d.write_file("src/node_modules/dep/index.js", "x")
        d.write_file("src/debug.log", "x")
        d.holds(lambda: not d.events(event="watch") and not self.reloads(d), 1.0,
                "no watch event and no reload")
        # The watch is alive: a file that counts is seen.
        d.write_file("lib.js", "x")
        d.wait_for(lambda: [e["file"] for e in d.events(event="watch")] == ["lib.js"], 5,
                   "a watch event for lib.js")
        d.wait_for(lambda: self.replaced(d, before), 10, "both workers replaced")

    def test_a_file_in_a_directory_created_later_reloads(self):
        d, before = self.start()
        os.makedirs(d.path("src", "new", "deeper"))
        d.write_file("src/new/deeper/x.js", "x")
        event = d.wait_for(lambda: d.events(event="watch"), 5, "a watch event")[0]
        self.assertEqual(event["file"], "src/new/deeper/x.js")
        d.wait_for(lambda: self.replaced(d, before), 10, "both workers replaced")
        # The new directory is watched from now on.
        before = d.workers("web")
        d.write_file("src/new/y.js", "y")
        d.wait_for(lambda: len(d.events(event="watch")) == 2, 5, "a second watch event")
        self.assertEqual(d.events(event="watch")[1]["file"], "src/new/y.js")
        d.wait_for(lambda: self.replaced(d, before), 10, "both workers replaced again")

    def test_reload_config_starts_and_stops_the_watch(self):
        d = self.daemon()
        os.makedirs(d.path("src"))
        d.start(app("web", "sleep", args=["1000"], cwd="."))
        (before,) = d.wait_workers("web", 1)
        d.write_config(app("web", "sleep", args=["1000"], cwd=".", watch=["src"],
                           watch_delay="100ms"))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 0, err)
        # Only the watch changed: the worker stays.
        self.assertEqual([w["pid"] for w in d.workers("web")], [before["pid"]])
        d.write_file("src/a.js", "x")
        d.wait_for(lambda: d.events(event="watch"), 5, "a watch event")
        d.wait_for(lambda: d.workers("web")[0]["pid"] != before["pid"], 10, "a new worker")
        d.write_config(app("web", "sleep", args=["1000"], cwd="."))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 0, err)
        d.write_file("src/b.js", "x")
        d.holds(lambda: len(d.events(event="watch")) == 1, 1.0, "no more watch events")

    def test_a_bad_glob_is_a_config_error_naming_its_place(self):
        d = self.daemon()
        d.write_config(app("web", "sleep", watch=["*.[js"]))
        rc, out, err = d.ctl("check", d.config_path)
        self.assertEqual(rc, 2, out + err)
        self.assertIn(f"{d.config_path}:9:10: apps.web.watch[0]: bad glob \"*.[js\": '[' opens "
                      "a set that no ']' closes", out + err)


if __name__ == "__main__":
    unittest.main()
