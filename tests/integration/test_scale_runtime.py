"""`scale` is a runtime change: its reply and musterctl say so, and status
shows the config file's count beside a runtime one that differs (issue #12)."""

import unittest

import harness
from harness import app


class ScaleIsRuntimeOnly(harness.TestCase):
    def start(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=1))
        d.wait_workers("web", 1)
        return d

    def test_the_scale_reply_says_it_is_runtime_only_and_what_the_config_says(self):
        d = self.start()
        reply = d.request({"verb": "scale", "app": "web", "count": 3})
        self.assertEqual({k: reply[k] for k in ("ok", "app", "instances", "runtime_only",
                                                "config_instances")},
                         {"ok": True, "app": "web", "instances": 3, "runtime_only": True,
                          "config_instances": 1})
        self.assertIn("runtime only", reply["note"])
        self.assertIn(d.config_path, reply["note"])

    def test_musterctl_scale_prints_that_a_restart_undoes_it(self):
        d = self.start()
        rc, out, err = d.ctl("scale", "web", "2")
        self.assertEqual(rc, 0, err)
        self.assertIn("web: scaled to 2", out)
        self.assertIn("runtime only: when musterd restarts", out)
        self.assertIn("instances = 1", out)
        rc, out, err = d.ctl("scale", "web", "1")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("runtime only", out)
        self.assertIn("the same as instances in", out)

    def test_status_shows_the_config_count_beside_a_differing_runtime_count(self):
        d = self.start()
        self.assertEqual(d.app_status("web")["config_instances"], 1)
        self.assertRegex(d.ctl("status")[1], r"web\s+running\s+\S+\s+1/1\s+1\s")
        d.request({"verb": "scale", "app": "web", "count": 3})
        d.wait_workers("web", 3)
        a = d.app_status("web")
        self.assertEqual((a["instances"], a["config_instances"]), (3, 1))
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"web\s+running\s+\S+\s+\d/3\s+3 \(config 1\)")


if __name__ == "__main__":
    unittest.main()
