"""The control socket cannot be impersonated, and root never acts on a file
another user planted there (issue 19 §1): musterctl checks who serves the
socket before it sends anything; musterd refuses a directory others could
write to, and never removes, chowns or binds through what another user put
in its way.
"""

import ctypes
import json
import os
import stat
import struct
import subprocess
import unittest

import ctlsock_support as cs
import harness
from harness import MUSTERCTL, MUSTERD, app

SLEEPER = app("a", "sleep", args=["1000"])


def musterd_exit(d, *extra, timeout=5):
    """Runs musterd on d's config until it exits: (exit code, stderr). A
    musterd that does not refuse is still running after `timeout`: killed,
    (None, stderr)."""
    try:
        r = subprocess.run([MUSTERD, *extra, "-c", d.config_path], capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return r.returncode, r.stderr
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode()


@cs.needs_setpriv
class ImpostorRefused(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        theirs = self.d.path("theirs")
        os.mkdir(theirs)
        os.chown(theirs, cs.NOBODY, cs.NOBODY)
        self.path = os.path.join(theirs, "muster.sock")
        self.log = cs.start_impostor(self, self.d, self.path)

    def sent(self, count):
        return self.d.wait_for(lambda: (lambda s: s if len(s) >= count else None)(
            cs.impostor_log(self.log)), 10, f"{count} connection(s) logged by the impostor")

    def test_musterctl_refuses_a_socket_served_by_another_uid_and_sends_it_nothing(self):
        # Before: `musterctl -s PATH stop a` sent the request to nobody's
        # socket and printed its "a: stopped", exit 0.
        rc, out, err = self.d.ctl("stop", "a", socket_path=self.path)
        self.assertEqual(rc, 3, out + err)
        self.assertIn(f"musterctl: refusing to talk to {self.path}: it is served by uid 65534 "
                      "(nobody), not by root or you (uid 0 (root))", err)
        self.assertIn("--daemon-uid 65534", err)
        self.assertEqual(out, "")
        self.assertEqual(self.sent(1), [""], "the impostor must receive no bytes")

    def test_a_follow_is_refused_the_same_way(self):
        rc, out, err = self.d.ctl("events", "--follow", socket_path=self.path)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("it is served by uid 65534", err)
        self.assertEqual(self.sent(1), [""])

    def test_a_uid_named_with_daemon_uid_or_its_variable_is_talked_to(self):
        rc, out, err = self.d.ctl("--daemon-uid", "65534", "stop", "a", socket_path=self.path)
        self.assertEqual(rc, 0, err)
        env = dict(cs.clean_env(), MUSTER_SOCKET=self.path, MUSTER_DAEMON_UID="nobody")
        r = subprocess.run([MUSTERCTL, "ping"], capture_output=True, text=True, env=env,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        sent = self.sent(2)
        self.assertEqual([json.loads(s)["verb"] for s in sent], ["stop", "ping"])
        # Another uid than the one named is still refused.
        rc, out, err = self.d.ctl("--daemon-uid", "1", "ping", socket_path=self.path)
        self.assertEqual(rc, 3, err)


@unittest.skipUnless(os.geteuid() == 0, "needs root (chown to another uid)")
class UnsafeDirectoryRefused(harness.TestCase):
    def in_dir(self, mode, uid=0, gid=0):
        d = self.daemon()
        where = d.path("sockdir")
        os.mkdir(where)
        os.chown(where, uid, gid)
        os.chmod(where, mode)
        d.socket_path = os.path.join(where, "muster.sock")
        d.write_config(SLEEPER)
        return d, where

    def assert_refused(self, d, why):
        rc, err = musterd_exit(d)
        self.assertEqual(rc, 2, err)
        self.assertIn("daemon.control_socket: not a safe directory for the control socket: "
                      + why, err)
        self.assertFalse(os.path.lexists(d.socket_path))

    def test_a_world_writable_directory_without_the_sticky_bit_is_refused(self):
        # Before: musterd bound and chmod'ed its socket there as root.
        d, where = self.in_dir(0o777)
        self.assert_refused(d, f"{where} is writable by everyone and not sticky (mode 0777)")

    def test_a_directory_of_another_user_is_refused(self):
        d, where = self.in_dir(0o755, uid=cs.NOBODY)
        self.assert_refused(d, f"{where} belongs to uid 65534 (nobody), not to root")

    def test_a_directory_writable_by_another_group_is_refused(self):
        d, where = self.in_dir(0o770, gid=cs.NOBODY)
        self.assert_refused(d, f"{where} is writable by group 65534 and not sticky")

    def test_check_refuses_it_too(self):
        d, where = self.in_dir(0o777)
        rc, err = musterd_exit(d, "--check")
        self.assertEqual(rc, 2, err)
        self.assertIn("not a safe directory for the control socket", err)
        r = subprocess.run([MUSTERCTL, "check", d.config_path], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{where} is writable by everyone", r.stderr)

    def test_reload_config_refuses_to_move_it_there_and_keeps_running(self):
        d = self.daemon().start(SLEEPER)
        open_dir = d.path("open")
        os.mkdir(open_dir)
        os.chmod(open_dir, 0o777)
        good = d.socket_path
        d.socket_path = os.path.join(open_dir, "muster.sock")
        d.write_config(SLEEPER)
        d.socket_path = good
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("not a safe directory for the control socket", err)
        self.assertTrue(d.request({"verb": "ping"})["ok"])

    def test_a_sticky_directory_owned_by_root_is_accepted(self):
        # Others may write to /tmp, but cannot rename or remove musterd's
        # entry there; a name squatted first is refused, as below.
        d, where = self.in_dir(0o1777)
        d.start()
        self.assertTrue(stat.S_ISSOCK(os.lstat(d.socket_path).st_mode))


@cs.needs_setpriv
class PlantedFiles(harness.TestCase):
    """In a sticky directory all may write to (accepted, as /tmp is), nobody
    plants something at the socket's name or on its path first."""

    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        os.chmod(self.d.dir, 0o755)
        self.shared = self.d.path("shared")
        os.mkdir(self.shared)
        os.chmod(self.shared, 0o1777)
        self.victim = self.d.write_file("victim", "root's secret\n", 0o600)
        self.d.socket_path = os.path.join(self.shared, "muster.sock")

    def as_nobody(self, *argv):
        r = subprocess.run([*cs.AS_NOBODY, *argv], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def assert_victim_untouched(self):
        st = os.stat(self.victim)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o600, 0, 0))
        self.assertEqual(self.d.read_file("victim"), "root's secret\n")

    def refused(self, fragment, **daemon_keys):
        self.d.write_config(SLEEPER, control_group="nogroup", **daemon_keys)
        rc, err = musterd_exit(self.d)
        self.assertIn(rc, (1, 2), err)
        self.assertIn(fragment, err)

    def test_a_symlink_at_the_socket_name_is_left_alone(self):
        self.as_nobody("ln", "-s", self.victim, self.d.socket_path)
        self.refused("exists and is not a socket; not touching it")
        self.assert_victim_untouched()
        self.assertEqual(os.readlink(self.d.socket_path), self.victim)

    def test_a_file_at_the_socket_name_is_left_alone(self):
        self.as_nobody("sh", "-c", f"echo planted > {self.d.socket_path}")
        self.refused("exists and is not a socket; not touching it")
        self.assertEqual(self.d.read_file("shared/muster.sock"), "planted\n")

    def test_a_stale_socket_of_another_user_is_not_removed(self):
        # Before: root removed nobody's socket file (as stale) and took the name.
        self.as_nobody(cs.SYSTEM_PYTHON, "-c", "import socket, sys; "
                       "socket.socket(socket.AF_UNIX).bind(sys.argv[1])", self.d.socket_path)
        self.refused(f"the stale socket {self.d.socket_path} belongs to uid 65534 (nobody), "
                     "not to musterd's user; not removing it")
        st = os.lstat(self.d.socket_path)
        self.assertEqual((stat.S_ISSOCK(st.st_mode), st.st_uid), (True, cs.NOBODY))

    def test_a_symlinked_directory_of_another_user_is_not_followed(self):
        # Before: root followed nobody's link into a root-only directory and
        # bound, chowned and chmod'ed its socket there.
        root_only = self.d.path("root-only")
        os.mkdir(root_only, 0o700)
        link = os.path.join(self.shared, "run")
        self.as_nobody("ln", "-s", root_only, link)
        self.d.socket_path = os.path.join(link, "muster.sock")
        self.refused(f"symbolic link {link} belongs to uid 65534 (nobody): not following it")
        self.assertEqual(os.listdir(root_only), [])


# Connects argv[2] times to argv[1], one after the other, sending a ping each
# time; prints how many were answered with a pong.
BURST = """
import socket, sys
answered = 0
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(b'{"verb":"ping"}\\n')
    data = b""
    while b"\\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    answered += b'"pong":true' in data
    s.close()
print(answered)
"""


class OpenCounter:
    """Counts the opens of files (inotify IN_OPEN on their inodes)."""

    IN_OPEN, IN_NONBLOCK, IN_CLOEXEC = 0x20, 0o4000, 0o2000000

    def __init__(self, test, *paths):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(self.IN_NONBLOCK | self.IN_CLOEXEC)
        test.assertGreaterEqual(self.fd, 0)
        test.addCleanup(os.close, self.fd)
        self.paths = {libc.inotify_add_watch(self.fd, p.encode(), self.IN_OPEN): p
                      for p in paths}

    def counts(self):
        counts = dict.fromkeys(self.paths.values(), 0)
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return counts
            offset = 0
            while offset < len(data):
                wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                counts[self.paths[wd]] += 1
                offset += 16 + length


@cs.needs_namespace
class ControlGroupLookups(harness.TestCase):
    def test_a_burst_of_connections_looks_the_user_up_once(self):
        # Before: every connection of a user not in control_group as its
        # primary group cost a getpwuid and a getgrouplist on musterd's loop
        # (here: one open of /etc/passwd and /etc/group each).
        d = self.daemon()
        os.chmod(d.dir, 0o755)
        with open("/etc/passwd") as f:
            passwd = d.write_file("passwd", f.read())
        with open("/etc/group") as f:
            group = d.write_file("group", f.read() + "mustertest:x:4242:nobody\n")
        d.write_config(SLEEPER, control_group="mustertest", control_mode="0666")
        # musterd sees these copies as /etc/passwd and /etc/group (nobody is
        # a member of mustertest there only); opens of them are its own.
        script = (f"mount --bind {passwd} /etc/passwd && mount --bind {group} /etc/group && "
                  f"exec {MUSTERD} -c {d.config_path}")
        with open(d.log_path, "ab") as log:
            d.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=cs.clean_env())
        d.wait_for(d._answers_ping, 10, "musterd to answer ping")
        opens = OpenCounter(self, passwd, group)
        r = subprocess.run([*cs.AS_NOBODY, cs.SYSTEM_PYTHON, "-c", BURST, d.socket_path, "50"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.stdout.strip(), "50", r.stderr)  # a member: let in every time
        counts = opens.counts()
        self.assertLessEqual(sum(counts.values()), 2, f"opens during 50 connections: {counts}")


if __name__ == "__main__":
    unittest.main()
