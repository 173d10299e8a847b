"""musterctl describe APP: every setting of an app with the config line it
came from (or "default"), the program its next worker runs, its environment
with secret-looking values masked unless --show-env, its sockets, policy
state and the last exits of each slot, from the real musterd."""

import json
import os
import shutil
import signal
import unittest

import harness

# Line numbers matter: the test checks that describe names them.
CONFIG = """[daemon]
control_socket = {socket}
shutdown_timeout = "5s"

[sockets.web]
listen = "127.0.0.1:0"

[apps.web]
exec = "sleep"
args = ["1000"]
instances = 2
protocol = "systemd"
ready = "spawn"
sockets = ["web"]
restart_delay = "50ms"
stop_timeout = "1s"

[apps.web.env]
NODE_ENV = "production"
API_TOKEN = "s3cr3t-value"
"""


class Describe(harness.TestCase):
    def start_web(self):
        d = self.daemon()
        d.write_file("muster.toml", CONFIG.format(socket=json.dumps(d.socket_path)))
        d.start()
        d.wait_for(lambda: len([w for w in d.workers("web") if w["pid"]]) == 2, 10,
                   "web's two workers")
        return d

    def describe(self, d, *flags):
        rc, out, err = d.ctl("--json", "describe", "web", *flags)
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_settings_name_their_config_line_and_unset_ones_say_default(self):
        d = self.start_web()
        reply = self.describe(d)
        settings = {s["key"]: s for s in reply["settings"]}
        self.assertEqual(reply["config_file"], d.config_path)
        for key, line in [("exec", 9), ("args", 10), ("instances", 11), ("sockets", 14),
                          ("restart_delay", 15)]:
            self.assertEqual(settings[key]["origin"],
                             {"kind": "file", "file": d.config_path, "line": line,
                              "column": settings[key]["origin"]["column"]}, key)
        self.assertEqual(settings["restart"], {"key": "restart", "value": "always",
                                               "origin": {"kind": "default"}})
        self.assertEqual(settings["args"]["value"], ["1000"])
        self.assertEqual(settings["restart_delay"]["value"], "50ms")
        self.assertEqual(reply["exec"]["resolved"], shutil.which("sleep"))
        (socket,) = reply["sockets"]
        self.assertEqual(socket["name"], "web")
        self.assertRegex(socket["bound"], r"^127\.0\.0\.1:[1-9]\d*$")
        self.assertEqual(reply["logs"]["output"], "log")

        rc, out, err = d.ctl("describe", "web")
        self.assertEqual(rc, 0, err)
        for title in ["Settings:", "Exec:", "Environment:", "Sockets:", "Policy:", "Counters:",
                      "Last exits:", "Logs:"]:
            self.assertIn("\n" + title + "\n", out)
        self.assertRegex(out, r"\n  exec +sleep +" + d.config_path + r":9\n")
        self.assertRegex(out, r"\n  restart +always +default\n")
        self.assertEqual([line for line in out.splitlines() if line != line.rstrip()], [],
                         "no line ends in a space")

    def test_secret_looking_values_are_masked_unless_show_env(self):
        d = self.start_web()
        rc, out, err = d.ctl("describe", "web")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("s3cr3t-value", out)
        self.assertRegex(out, r"\n  API_TOKEN +\*{8} +" + d.config_path + r":20\n")
        self.assertRegex(out, r"\n  NODE_ENV +production +" + d.config_path + r":19\n")
        masked = {v["name"]: v for v in self.describe(d)["environment"]}
        self.assertEqual((masked["API_TOKEN"]["value"], masked["API_TOKEN"]["masked"]),
                         ("********", True))
        self.assertEqual(masked["NODE_ENV"]["value"], "production")

        shown = {v["name"]: v for v in self.describe(d, "--show-env")["environment"]}
        self.assertEqual((shown["API_TOKEN"]["value"], shown["API_TOKEN"]["masked"]),
                         ("s3cr3t-value", False))
        rc, out, err = d.ctl("describe", "web", "--show-env")
        self.assertIn("s3cr3t-value", out)

    def test_a_killed_worker_is_among_the_last_exits_of_its_slot(self):
        d = self.start_web()
        victim = next(w for w in d.workers("web") if w["instance"] == 1)
        os.kill(victim["pid"], signal.SIGKILL)
        d.wait_for(lambda: any(w["instance"] == 1 and w["pid"] != victim["pid"]
                               for w in d.workers("web")), 10, "slot 1 refilled")
        reply = self.describe(d)
        exits = {s["instance"]: s["exits"] for s in reply["last_exits"]}
        self.assertEqual(exits[0], [])
        (gone,) = exits[1]
        self.assertEqual((gone["id"], gone["pid"], gone["signal"], gone["code"],
                          gone["voluntary"], gone["description"]),
                         (victim["id"], victim["pid"], "SIGKILL", None, False,
                          "killed by SIGKILL"))
        slot1 = next(s for s in reply["policy"]["slots"] if s["instance"] == 1)
        self.assertEqual(slot1["restarts"], 1)
        self.assertEqual(reply["counters"]["crashes"], 1)

        rc, out, err = d.ctl("describe", "web")
        self.assertRegex(out, r"\n  1 +\S+Z +%d +%d +killed by SIGKILL +no +"
                         % (victim["id"], victim["pid"]))

    def test_an_unknown_app_is_an_error(self):
        d = self.start_web()
        rc, out, err = d.ctl("describe", "nosuch")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("no app named 'nosuch'", err)


if __name__ == "__main__":
    unittest.main()
