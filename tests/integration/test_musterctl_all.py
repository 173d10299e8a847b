"""`all` as an app name, musterctl's side: it is sent to musterd as
"app":"all" unchanged, and a reply listing the apps acted on ("apps") is
printed as well as one naming a single "app" (issue #12). musterd's own
handling of `all` for start/stop/restart/reload is tested with the daemon;
here a stand-in socket answers, so only the CLI is under test."""

import json
import socket
import subprocess
import threading
import unittest

import harness
from harness import MUSTERCTL


class StandIn:
    """A control socket that answers each request line with `reply` and keeps
    the requests it got."""

    def __init__(self, path, reply):
        self.requests = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.server.settimeout(10)
        self.reply = reply
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            data = b""
            while b"\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.requests.append(json.loads(data.split(b"\n")[0]))
            conn.sendall(json.dumps(self.reply).encode() + b"\n")

    def close(self):
        self.server.close()
        self.thread.join(10)


class AllAppsOnTheCommandLine(harness.TestCase):
    def ctl_against(self, reply, *args):
        d = self.daemon()  # its temp dir only
        path = d.path("stand-in.sock")
        stand_in = StandIn(path, reply)
        self.addCleanup(stand_in.close)
        r = subprocess.run([MUSTERCTL, "-s", path, *args], capture_output=True, text=True,
                           timeout=20, stdin=subprocess.DEVNULL)
        stand_in.thread.join(10)
        return r.returncode, r.stdout, r.stderr, stand_in.requests

    def test_all_is_sent_unchanged_and_a_list_of_apps_is_printed(self):
        for verb, done in (("start", "started"), ("stop", "stopped"),
                           ("restart", "restarted"), ("reload", "reloaded")):
            with self.subTest(verb=verb):
                rc, out, err, requests = self.ctl_against(
                    {"ok": True, "apps": ["web", "jobs"]}, verb, "all")
                self.assertEqual(rc, 0, err)
                self.assertEqual(requests[0]["app"], "all")
                self.assertNotIn("id", requests[0])
                self.assertEqual(out, f"web, jobs: {done}\n")

    def test_an_empty_list_and_a_single_app_are_printed_too(self):
        rc, out, err, _ = self.ctl_against({"ok": True, "apps": []}, "stop", "all")
        self.assertEqual((rc, out), (0, "no apps: stopped\n"), err)
        rc, out, err, _ = self.ctl_against({"ok": True, "app": "web"}, "stop", "web")
        self.assertEqual((rc, out), (0, "web: stopped\n"), err)

    def test_logs_without_an_app_asks_for_all(self):
        rc, out, err, requests = self.ctl_against({"ok": True, "lines": []}, "logs")
        self.assertEqual(rc, 0, err)
        self.assertEqual(requests[0], {"verb": "logs", "app": "all", "count": 100})


if __name__ == "__main__":
    unittest.main()
