"""The control socket: framing and bad input, slow clients, the socket file's
life and permissions, peer checks. musterctl's exit codes and config checks:
test_control_cli.py."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import unittest

import harness
from harness import MUSTERCTL, MUSTERD, app


SLEEPER = app("web", "sleep", args=["1000"])
# A request line's bound: room for a `send` of a 1 MiB message (ipc/control_protocol.h).
MAX_LINE = (1 << 20) + 64 * 1024


class BadRequests(harness.TestCase):
    CASES = {
        b"garbage": "malformed JSON",
        b"": "malformed JSON",
        b"[1, 2]": "must be a JSON object",
        b'"ping"': "must be a JSON object",
        b"{}": "missing string field 'verb'",
        b'{"verb": 7}': "missing string field 'verb'",
        b'{"verb": "frob"}': "unknown verb 'frob'",
        b'{"verb": "stop"}': "missing 'app'",
        b'{"verb": "scale", "app": "web"}': "missing 'count'",
        b'{"verb": "scale", "app": "web", "count": "four"}':
            "'count' must be a non-negative integer",
        b'{"verb": "kill"}': "missing 'id'",
        b'{"verb": "kill", "id": "3"}': "'id' must be a non-negative integer",
        b'{"verb": "start", "app": 3}': "'app' must be a non-empty string",
        b'{"verb": "ping", "bogus": 1}': "unexpected field 'bogus'",
        b'{"verb": "status", "app": "wbe"}': "no app named 'wbe'",
        # A name echoed back never carries raw control characters.
        b'{"verb": "status", "app": "w\\u001b[2Jb"}': "no app named 'w\\u001b[2Jb'",
    }

    def test_each_malformed_request_gets_an_error_and_the_connection_stays_usable(self):
        d = self.daemon().start(SLEEPER)
        with d.connect() as c:
            for line, error in self.CASES.items():
                with self.subTest(line=line):
                    reply = c.request(line)
                    self.assertIs(reply["ok"], False)
                    self.assertIn(error, reply["error"])
            self.assertEqual(c.request({"verb": "ping"}), {"ok": True, "pong": True})

    def test_several_requests_in_one_write_get_replies_in_order(self):
        d = self.daemon().start(SLEEPER)
        with d.connect() as c:
            c.send(b'{"verb":"ping"}\nnope\n{"verb":"version"}\n')
            replies = [json.loads(c.read_line()) for _ in range(3)]
        self.assertEqual(replies[0], {"ok": True, "pong": True})
        self.assertIs(replies[1]["ok"], False)
        self.assertIs(replies[2]["ok"], True)
        self.assertIn("version", replies[2])

    def test_status_keeps_working_while_another_client_sends_garbage(self):
        d = self.daemon().start(SLEEPER)
        d.wait_workers("web", 1)
        stop = threading.Event()
        errors = []

        def pester():
            with d.connect() as c:
                while not stop.is_set():
                    for line in self.CASES:
                        if c.request(line)["ok"]:
                            errors.append(line)
                    c.send(b'{"verb": "partial line with no end')  # held by the daemon
                    c.send(b'"}\n')
                    c.read_line()
        t = threading.Thread(target=pester, daemon=True)
        t.start()
        try:
            for _ in range(50):
                self.assertEqual(len(d.status()["apps"][0]["workers"]), 1)
        finally:
            stop.set()
            t.join(10)
        self.assertEqual(errors, [])
        self.assertFalse(t.is_alive())

    def test_a_line_longer_than_1088_kib_gets_an_error_and_the_connection_is_closed(self):
        d = self.daemon().start(SLEEPER)
        with d.connect() as other, d.connect() as c:
            reply = c.request(b'{"verb":"ping","pad":"' + b"x" * (MAX_LINE + 8 * 1024) + b'"}')
            self.assertIs(reply["ok"], False)
            self.assertIn("too long", reply["error"])
            self.assertEqual(c.read_until_closed(), b"", "closed after the error")
            # Another client, connected all along, is unaffected.
            self.assertEqual(other.request({"verb": "ping"}), {"ok": True, "pong": True})
        self.assertTrue(d.request({"verb": "ping"})["ok"])

    def test_a_line_just_under_the_limit_is_read_as_a_request(self):
        d = self.daemon().start(SLEEPER)
        prefix, suffix = b'{"verb":"ping","pad":"', b'"}'
        line = prefix + b"x" * (MAX_LINE - len(prefix) - len(suffix)) + suffix
        with d.connect() as c:
            reply = c.request(line)
            self.assertIn("unexpected field 'pad'", reply["error"])  # parsed, not cut off
            self.assertEqual(c.request({"verb": "ping"}), {"ok": True, "pong": True})


class Replies(harness.TestCase):
    def test_status_has_the_documented_shape(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        d.wait_workers("web", 2)
        reply = d.status()
        self.assertIs(reply["ok"], True)
        self.assertEqual(reply["sockets"], [])
        (a,) = reply["apps"]
        self.assertEqual({k: a[k] for k in ("name", "state", "protocol", "instances",
                                            "restarts", "pending")},
                         {"name": "web", "state": "running", "protocol": "none",
                          "instances": 2, "restarts": 0, "pending": 0})
        self.assertIsInstance(a["scheduling"], str)
        for w in a["workers"]:
            for key in ("id", "instance", "pid", "uptime_ms", "restarts", "connections",
                        "rss_bytes"):
                self.assertIsInstance(w[key], int, key)
            self.assertEqual(w["state"], "online")
        # rss_bytes is a sample (docs/control-protocol.md), and the kernel
        # counts a process's first pages lazily: one that has just exec'd may
        # show 0 for a moment.
        d.wait_for(lambda: all(w["rss_bytes"] > 0 for w in d.workers("web")), 5,
                   "every worker's rss_bytes")

    def test_status_of_one_app_lists_only_that_app(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]) +
                                app("jobs", "sleep", args=["1000"]))
        self.assertEqual([a["name"] for a in d.status()["apps"]], ["web", "jobs"])
        reply = d.request({"verb": "status", "app": "jobs"})
        self.assertEqual([a["name"] for a in reply["apps"]], ["jobs"])

    def test_version_matches_musterd_version(self):
        d = self.daemon().start(SLEEPER)
        version = d.request({"verb": "version"})["version"]
        r = subprocess.run([MUSTERD, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn(version, r.stdout)


class SlowClients(harness.TestCase):
    def test_a_client_that_never_reads_does_not_block_others_and_is_disconnected(self):
        d = self.daemon().start(SLEEPER)
        d.wait_workers("web", 1)
        hog = d.connect(timeout=20)
        self.addCleanup(hog.close)
        sent = threading.Event()

        def flood():
            # ~18 MiB of status replies asked for and never read (the daemon
            # drops a client with more than 8 MiB of replies waiting).
            try:
                hog.send(b'{"verb":"status"}\n' * 60000)
            except OSError:
                pass  # disconnected by the daemon mid-way: expected
            sent.set()
        threading.Thread(target=flood, daemon=True).start()
        for _ in range(50):
            self.assertTrue(d.request({"verb": "ping"}, timeout=5)["ok"])
            self.assertEqual(len(d.status()["apps"]), 1)
        d.wait_for(sent.is_set, 10 * harness.SLOWDOWN,
                   "the flooding client to be done or cut off")
        left = hog.read_until_closed()
        self.assertLess(len(left), 60000 * 200, "the daemon disconnected the hog early")
        d.wait_log("does not read its replies")

    def test_a_client_that_connects_and_says_nothing_does_not_block_others(self):
        d = self.daemon().start(SLEEPER)
        silent = [d.connect() for _ in range(10)]
        for s in silent:
            self.addCleanup(s.close)
        for _ in range(10):
            self.assertTrue(d.request({"verb": "ping"}, timeout=5)["ok"])

    def test_many_clients_at_once_are_all_answered(self):
        d = self.daemon().start(SLEEPER)
        conns = [d.connect() for _ in range(50)]
        try:
            for c in conns:
                c.send(b'{"verb":"ping"}\n')
            for c in conns:
                self.assertEqual(json.loads(c.read_line()), {"ok": True, "pong": True})
        finally:
            for c in conns:
                c.close()

    def test_a_client_that_half_closes_after_its_requests_still_gets_every_reply(self):
        # Like `nc -N` or a script that shuts down its write side when it has
        # nothing more to ask: EOF on the request stream is not a hang-up.
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        d.wait_workers("web", 1)
        with d.connect() as c:
            c.send(b'{"verb":"ping"}\n{"verb":"stop","app":"web"}\n{"verb":"ping"}\n')
            c.sock.shutdown(socket.SHUT_WR)
            replies = [json.loads(line) for line in c.read_until_closed().splitlines()]
        self.assertEqual(replies, [{"ok": True, "pong": True}, {"ok": True, "app": "web"},
                                   {"ok": True, "pong": True}])

    def test_a_client_that_disconnects_before_its_reply_does_not_disturb_the_daemon(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        d.wait_workers("web", 2)
        with d.connect() as c:
            c.send(b'{"verb":"stop","app":"web"}\n')
        d.wait_for(lambda: d.app_status("web")["state"] == "stopped"
                   and d.workers("web") == [], 10, "the stop to finish without its client")
        self.assertTrue(d.request({"verb": "ping"})["ok"])


class SocketFile(harness.TestCase):
    def test_the_control_socket_is_mode_0600_by_default(self):
        d = self.daemon().start(SLEEPER)
        st = os.lstat(d.socket_path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_control_mode_sets_the_sockets_mode(self):
        d = self.daemon().start(SLEEPER, control_mode="0660")
        self.assertEqual(stat.S_IMODE(os.lstat(d.socket_path).st_mode), 0o660)

    def test_a_second_daemon_on_the_same_socket_refuses_to_start(self):
        d = self.daemon().start(SLEEPER)
        (w,) = d.wait_workers("web", 1)
        other = self.daemon()
        other.socket_path = d.socket_path
        other.write_config(app("intruder", "sleep", args=["1000"]))
        r = subprocess.run([MUSTERD, "-c", other.config_path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already running", r.stderr)
        # The first daemon still owns the socket and its workers.
        self.assertTrue(os.path.exists(d.socket_path))
        self.assertEqual(d.workers("web")[0]["pid"], w["pid"])
        self.assertEqual([a["name"] for a in d.status()["apps"]], ["web"])

    def test_a_stale_socket_left_by_a_killed_daemon_is_replaced(self):
        d = self.daemon().start(SLEEPER)
        d.signal(signal.SIGKILL)
        d.wait_exit()
        self.assertTrue(os.path.exists(d.socket_path), "SIGKILL leaves the socket file")
        d.start()
        self.assertTrue(d.request({"verb": "ping"})["ok"])
        d.wait_workers("web", 1)

    def test_a_file_that_is_not_a_socket_is_not_removed(self):
        d = self.daemon()
        d.write_file("muster.sock", "precious")
        d.write_config(SLEEPER)
        r = subprocess.run([MUSTERD, "-c", d.config_path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a socket", r.stderr)
        self.assertEqual(d.read_file("muster.sock"), "precious")

    def test_the_control_socket_directory_is_created(self):
        d = self.daemon()
        d.socket_path = d.path("run", "sub", "muster.sock")
        d.start(SLEEPER)
        self.assertTrue(stat.S_ISSOCK(os.lstat(d.socket_path).st_mode))


SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = 65534


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv") and
                     os.access(SYSTEM_PYTHON, os.X_OK), "needs root, setpriv and /usr/bin/python3")
class PeerCheck(harness.TestCase):
    CLIENT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"verb":"ping"}\\n')
except OSError:
    pass  # refused and closed already: the reply is still there to read
# argv[2] "line": print the first reply line; "all": everything until closed.
data = b""
while sys.argv[2] == "all" or b"\\n" not in data:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:  # closed with our request unread: also a disconnect
        break
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
"""

    def as_nobody(self, *argv):
        return subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)

    def start_world_connectable(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)  # nobody may reach the socket; only the peer check stops it
        return d.start(SLEEPER, control_mode="0666")

    def test_a_client_of_another_uid_is_refused_and_disconnected(self):
        d = self.start_world_connectable()
        r = self.as_nobody(SYSTEM_PYTHON, "-c", self.CLIENT, d.socket_path, "all")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, f"one refusal line, then EOF: {r.stdout!r}")
        reply = json.loads(lines[0])
        self.assertIs(reply["ok"], False)
        self.assertIn("permission denied", reply["error"])
        self.assertNotIn("pong", reply)
        self.assertTrue(d.request({"verb": "ping"})["ok"], "the owner is still served")

    def test_a_member_of_control_group_is_let_in(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)
        d.start(SLEEPER, control_group="nogroup")
        st = os.lstat(d.socket_path)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, NOBODY))
        r = self.as_nobody(SYSTEM_PYTHON, "-c", self.CLIENT, d.socket_path, "line")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout.splitlines()[0]), {"ok": True, "pong": True})

    def test_musterctl_run_by_another_uid_fails_with_the_refusal(self):
        d = self.start_world_connectable()
        r = self.as_nobody(MUSTERCTL, "-s", d.socket_path, "stop", "web")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("permission denied", r.stderr)
        d.wait_workers("web", 1)


if __name__ == "__main__":
    unittest.main()
