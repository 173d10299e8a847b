"""musterctl and musterd on the command line: musterctl's exit codes and
output, and `check` (musterctl check, musterd --check). The control socket
itself: test_control.py."""

import json
import os
import signal
import subprocess
import unittest

import harness
from harness import MUSTERCTL, MUSTERD, app


SLEEPER = app("web", "sleep", args=["1000"])


class MusterctlExitCodes(harness.TestCase):
    def test_success_exits_0(self):
        d = self.daemon().start(SLEEPER)
        for args in (["ping"], ["version"], ["status"], ["status", "web"], ["--json", "status"]):
            rc, out, err = d.ctl(*args)
            self.assertEqual(rc, 0, f"{args}: {err}")

    def test_status_prints_a_table_of_apps_and_workers(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        workers = d.wait_workers("web", 2)
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"NAME\s+STATE")
        self.assertRegex(out, r"web\s+running")
        for w in workers:
            self.assertRegex(out, rf"\b{w['id']}\s+{w['instance']}\s+{w['pid']}\s+online")

    def test_json_output_is_the_daemons_reply(self):
        d = self.daemon().start(SLEEPER)
        (w,) = d.wait_workers("web", 1)
        rc, out, err = d.ctl("--json", "status")
        self.assertEqual(rc, 0, err)
        reply = json.loads(out)
        self.assertIs(reply["ok"], True)
        self.assertEqual(reply["apps"][0]["workers"][0]["pid"], w["pid"])

    def test_help_exits_0_and_explains_every_verb(self):
        r = subprocess.run([MUSTERCTL, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        for verb in ("ping", "version", "status", "start", "stop", "restart", "scale", "kill",
                     "shutdown", "check"):
            self.assertIn(verb, r.stdout)

    def test_a_failure_reported_by_the_daemon_exits_1(self):
        d = self.daemon().start(SLEEPER)
        rc, out, err = d.ctl("stop", "nosuchapp")
        self.assertEqual(rc, 1)
        self.assertIn("no app named 'nosuchapp'", err)

    def test_a_usage_error_exits_2(self):
        d = self.daemon().start(SLEEPER)
        for args in (["frob"], ["scale", "web"], ["scale", "web", "-1"], ["kill"],
                     ["kill", "abc"], ["start"], ["kill", "1", "--signal", "SIGNOPE"],
                     ["upgrade", "--binary", "build/musterd"], ["upgrade", "--binary"]):
            rc, out, err = d.ctl(*args)
            self.assertEqual(rc, 2, f"{args}: {out} {err}")

    def test_an_unreachable_daemon_exits_3(self):
        d = self.daemon()
        rc, out, err = d.ctl("ping", socket_path=d.path("nobody-home.sock"))
        self.assertEqual(rc, 3)
        self.assertIn("cannot reach musterd", err)

    def test_a_stale_socket_with_no_daemon_exits_3(self):
        d = self.daemon().start(SLEEPER)
        d.signal(signal.SIGKILL)
        d.wait_exit()
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 3, err)

    def test_the_socket_can_come_from_muster_socket(self):
        d = self.daemon().start(SLEEPER)
        env = dict(os.environ, MUSTER_SOCKET=d.socket_path)
        r = subprocess.run([MUSTERCTL, "ping"], capture_output=True, text=True, env=env,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_without_s_or_muster_socket_the_configs_control_socket_is_used(self):
        d = self.daemon().start(SLEEPER)
        env = {k: v for k, v in os.environ.items() if k != "MUSTER_SOCKET"}
        env["MUSTER_CONFIG"] = d.config_path
        r = subprocess.run([MUSTERCTL, "ping"], capture_output=True, text=True, env=env,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        # MUSTER_SOCKET still wins over the config.
        env["MUSTER_SOCKET"] = d.path("elsewhere.sock")
        r = subprocess.run([MUSTERCTL, "ping"], capture_output=True, text=True, env=env,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 3, r.stderr)


GOOD_CONFIG = """[daemon]
control_socket = "/tmp/muster-check-never-bound.sock"

[apps.web]
exec = "sleep"
args = ["1000"]
"""

# Errors on lines 5 (bad duration, value at column 17) and 6 (unknown key).
BAD_CONFIG = """[daemon]
control_socket = "/tmp/muster-check-never-bound.sock"

[apps.web]
restart_delay = "soon"
colour = "blue"
exec = "sleep"
"""


class ConfigCheck(harness.TestCase):
    def write(self, d, text):
        return d.write_file("check.toml", text)

    def test_musterctl_check_accepts_a_valid_file(self):
        d = self.daemon()
        path = self.write(d, GOOD_CONFIG)
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 0, err)
        self.assertIn("ok", out)

    def test_musterctl_check_reports_every_error_with_file_line_column_and_key(self):
        d = self.daemon()
        path = self.write(d, BAD_CONFIG)
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 2)
        self.assertIn(f"{path}:5:17: apps.web.restart_delay:", err)
        self.assertIn(f"{path}:6:1: apps.web.colour:", err)

    def test_musterctl_check_needs_no_daemon(self):
        d = self.daemon()
        path = self.write(d, GOOD_CONFIG)
        rc, out, err = d.ctl("check", path, socket_path=d.path("nobody-home.sock"))
        self.assertEqual(rc, 0, err)

    def test_musterctl_check_of_a_missing_file_exits_2(self):
        d = self.daemon()
        rc, out, err = d.ctl("check", d.path("missing.toml"))
        self.assertEqual(rc, 2)
        self.assertIn("missing.toml", err)

    def test_musterd_check_accepts_a_valid_file_without_starting(self):
        d = self.daemon()
        path = self.write(d, GOOD_CONFIG.replace("/tmp/muster-check-never-bound.sock",
                                                 d.socket_path))
        r = subprocess.run([MUSTERD, "--check", "-c", path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(d.socket_path), "--check must not bind the socket")

    def test_musterd_check_rejects_a_bad_file_with_exit_2(self):
        d = self.daemon()
        path = self.write(d, BAD_CONFIG)
        r = subprocess.run([MUSTERD, "--check", "-c", path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:5:17: apps.web.restart_delay:", r.stderr)
        self.assertIn(f"{path}:6:1: apps.web.colour:", r.stderr)

    def test_musterd_refuses_to_start_on_a_bad_config_with_exit_2(self):
        d = self.daemon()
        path = self.write(d, BAD_CONFIG.replace("/tmp/muster-check-never-bound.sock",
                                                d.socket_path))
        r = subprocess.run([MUSTERD, "-c", path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        self.assertIn("apps.web.restart_delay", r.stderr)
        self.assertFalse(os.path.exists(d.socket_path))


if __name__ == "__main__":
    unittest.main()
