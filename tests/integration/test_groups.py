"""[groups] backend = ["api", "jobs"]: every verb that takes an app takes a
group's name and acts on each member, in config order; status shows the
members; scale refuses a group."""

import unittest

import harness
from harness import app

APPS = (app("api", "sleep", args=["1000"]) + app("jobs", "sleep", args=["1000"]) +
        app("web", "sleep", args=["1000"]) + '[groups]\nbackend = ["jobs", "api"]\n')


class Groups(harness.TestCase):
    def started(self):
        d = self.daemon()
        d.start(APPS)
        for name in ("api", "jobs", "web"):
            d.wait_workers(name, 1)
        return d

    def states(self, d):
        return {a["name"]: a["state"] for a in d.status()["apps"]}

    def test_stop_and_start_a_group_act_on_its_members_only(self):
        d = self.started()
        rc, out, err = d.ctl("stop", "backend")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.states(d), {"api": "stopped", "jobs": "stopped", "web": "running"})
        reply = d.request({"verb": "start", "app": "backend"})
        self.assertEqual(reply, {"ok": True, "apps": ["api", "jobs"]})  # config order
        self.assertEqual(self.states(d), {"api": "running", "jobs": "running", "web": "running"})

    def test_restart_reset_and_logs_take_a_group(self):
        d = self.started()
        (before,) = d.workers("api")
        rc, out, err = d.ctl("restart", "backend")
        self.assertEqual(rc, 0, err)
        (after,) = d.workers("api")
        self.assertNotEqual(before["pid"], after["pid"])
        rc, out, err = d.ctl("reset", "backend")
        self.assertEqual((rc, out), (0, "api, jobs: restart counts and crash history reset\n"), err)
        rc, out, err = d.ctl("logs", "backend")
        self.assertEqual(rc, 0, err)

    def test_status_of_a_group_shows_its_members(self):
        d = self.started()
        reply = d.request({"verb": "status", "app": "backend"})
        self.assertTrue(reply["ok"], reply)
        self.assertEqual([a["name"] for a in reply["apps"]], ["api", "jobs"])
        rc, out, err = d.ctl("status", "backend")
        self.assertEqual(rc, 0, err)
        self.assertIn("jobs", out)
        self.assertNotIn("web", out)

    def test_scale_refuses_a_group_and_an_unknown_name_says_app_or_group(self):
        d = self.started()
        rc, out, err = d.ctl("scale", "backend", "2")
        self.assertEqual(rc, 1)
        self.assertIn("'backend' is a group (jobs, api)", err)
        rc, out, err = d.ctl("describe", "backend")
        self.assertEqual(rc, 1)
        self.assertIn("describe takes one app, and 'backend' is a group (jobs, api)", err)
        rc, out, err = d.ctl("describe", "backnd")
        self.assertEqual(rc, 1)
        self.assertIn("no app or group named 'backnd'", err)
        rc, out, err = d.ctl("stop", "backnd")
        self.assertEqual(rc, 1)
        self.assertIn("no app or group named 'backnd'", err)

    def test_reload_config_takes_a_changed_group(self):
        d = self.started()
        d.write_config(APPS.replace('backend = ["jobs", "api"]', 'backend = ["web"]'))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 0, err)
        rc, out, err = d.ctl("stop", "backend")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.states(d), {"api": "running", "jobs": "running", "web": "stopped"})


if __name__ == "__main__":
    unittest.main()
