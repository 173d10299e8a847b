"""`musterctl logs` of every app: `logs all`, or `logs` with no APP, merges
the apps' tails by the time musterd read each line, each labelled with its
app and worker; --follow of all follows every app (issue #12)."""

import json
import unittest

import harness
from harness import app
from test_logs import line_reader, start_follower

# Prints "NAME tick N" whenever a file NAME.go.N appears, so the test decides
# when each app writes a line.
GATED = f"""#!{harness.PYTHON}
import os, sys, time
name, n = sys.argv[1], 0
while True:
    if os.path.exists("%s.go.%d" % (name, n)):
        print("%s tick %d" % (name, n), flush=True)
        n += 1
    else:
        time.sleep(0.02)
"""


class LogsOfAllApps(harness.TestCase):
    def start(self):
        d = self.daemon()
        d.write_script("gated.py", GATED)
        d.start(app("web", "./gated.py", args=["web"], cwd=".") +
                app("jobs", "./gated.py", args=["jobs"], cwd="."))
        self.ids = {name: d.wait_workers(name, 1)[0]["id"] for name in ("web", "jobs")}
        return d

    def tick(self, d, name, n):
        d.write_file(f"{name}.go.{n}", "")
        d.wait_log(f"{name}[{self.ids[name]}] {name} tick {n}")

    def test_logs_without_an_app_merges_every_apps_lines_in_time_order(self):
        d = self.start()
        for name, n in (("web", 0), ("jobs", 0), ("web", 1), ("jobs", 1), ("jobs", 2)):
            self.tick(d, name, n)
        rc, out, err = d.ctl("--json", "logs")
        self.assertEqual(rc, 0, err)
        lines = json.loads(out)["lines"]
        self.assertEqual(sorted(l["line"] for l in lines),
                         ["jobs tick 0", "jobs tick 1", "jobs tick 2", "web tick 0", "web tick 1"])
        self.assertEqual([l["time"] for l in lines], sorted(l["time"] for l in lines))
        for l in lines:
            self.assertEqual(l["id"], self.ids[l["app"]])
            self.assertTrue(l["line"].startswith(l["app"] + " "))
        # The text form labels each line with app and worker; `all` is the same.
        rc, out, err = d.ctl("logs")
        self.assertEqual(rc, 0, err)
        self.assertIn(f" jobs[{self.ids['jobs']}] jobs tick 2", out)
        self.assertIn(f" web[{self.ids['web']}] web tick 0", out)
        self.assertEqual(d.ctl("logs", "all")[1], out)

    def test_n_counts_lines_of_all_apps_together(self):
        d = self.start()
        for name, n in (("web", 0), ("jobs", 0), ("web", 1), ("jobs", 1)):
            self.tick(d, name, n)
        rc, out, err = d.ctl("--json", "logs", "all", "-n", "2")
        self.assertEqual(rc, 0, err)
        lines = json.loads(out)["lines"]
        self.assertEqual(len(lines), 2)
        # The newest two: one line of each app (each app's last), oldest first.
        self.assertEqual(sorted(l["line"] for l in lines), ["jobs tick 1", "web tick 1"])

    def test_follow_of_all_prints_every_apps_new_lines(self):
        d = self.start()
        self.tick(d, "web", 0)
        follower = start_follower(self, d, "-n", "1")
        read = line_reader(follower)
        # The tail comes first, so the follow is in place once it is read.
        self.assertTrue(read(10).endswith(f"web[{self.ids['web']}] web tick 0"))
        self.tick(d, "jobs", 0)
        self.assertTrue(read(10).endswith(f"jobs[{self.ids['jobs']}] jobs tick 0"))
        self.tick(d, "web", 1)
        self.assertTrue(read(10).endswith(f"web[{self.ids['web']}] web tick 1"))

if __name__ == "__main__":
    unittest.main()
