"""Root never writes or follows what another user planted (issue 19 §2,
docs/SECURITY.md "Files musterd creates as root").

musterd runs as root; an attacker runs as nobody (setpriv) and plants links
where musterd writes: at output_file, in place of a directory on the way to
it or to a unix socket, or where the socket was. The root-owned files the
attacker aims at must stay as they were, and a refused output file is an
output error (event, metric, lines in musterd's log), never silence.
`musterctl check` refuses directories others could plant in."""

import os
import socket
import stat
import subprocess
import unittest

import harness
import test_check as tc
from client_support import socket_table
from harness import MUSTERD, app
from test_metrics import metrics_address, parse, value
from test_output_errors import WRITER, numbers_in_file, numbers_in_log, scrape
from test_security import NOBODY, SYSTEM_PYTHON, as_nobody, needs_setpriv

LINK = "it is a symbolic link, which musterd does not follow"
PRECIOUS = "precious, root's only\n"


def attacker(code, *args):
    """Runs Python `code` as nobody (sys.argv[1:] = args)."""
    r = as_nobody(SYSTEM_PYTHON, "-c", "import os, sys\n" + code, *args)
    assert r.returncode == 0, r.stderr


def plant_link(target, at):
    """nobody makes `at` a link to `target`, atomically (over whatever is there)."""
    attacker("os.symlink(sys.argv[1], sys.argv[2] + '.new'); os.rename(sys.argv[2] + '.new', "
             "sys.argv[2])", target, at)


def swap_for_link(directory, target):
    """nobody moves `directory` aside (to DIRECTORY.old) and links its name to `target`."""
    attacker("os.rename(sys.argv[1], sys.argv[1] + '.old'); os.symlink(sys.argv[2], sys.argv[1])",
             directory, target)


def secret_dir(d):
    """A root-only directory holding a root-only file web.log (and web.sock)."""
    secret = d.path("secret")
    os.mkdir(secret, 0o700)
    for name in ("web.log", "web.sock"):
        fd = os.open(os.path.join(secret, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, PRECIOUS.encode())
        os.close(fd)
    return secret


def read(path):
    with open(path) as f:
        return f.read()


def snapshot(directory):
    """{name: (inode, mode, uid, content)} of the files in `directory`."""
    out = {}
    for name in sorted(os.listdir(directory)):
        p = os.path.join(directory, name)
        st = os.lstat(p)
        content = read(p) if stat.S_ISREG(st.st_mode) else None
        out[name] = (st.st_ino, stat.S_IMODE(st.st_mode), st.st_uid, content)
    return out


def mkdir(path, mode=0o755, owner=0):
    os.mkdir(path)
    os.chmod(path, mode)
    os.chown(path, owner, owner)
    return path


def start_writer(d, output_file, **keys):
    d.write_script("writer.py", WRITER)
    d.start(app("web", "./writer.py", cwd=".", output="file", output_file=output_file, **keys),
            metrics_listen="127.0.0.1:0")
    (w,) = d.wait_workers("web", 1)
    return w["id"]


@needs_setpriv
class PlantedOutputFile(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        os.chmod(self.d.dir, 0o755)  # nobody may pass through, not write
        self.secret = secret_dir(self.d)
        self.before = snapshot(self.secret)

    def wait_refused(self, lines=20):
        """Waits until the secret changed (the attack worked) or `lines` of the
        writer went to musterd's log instead of the file."""
        d = self.d
        d.wait_for(lambda: snapshot(self.secret) != self.before or
                   len(numbers_in_log(d, self.worker)) >= lines, 10,
                   "lines diverted to musterd's log")
        self.assertEqual(snapshot(self.secret), self.before, "root wrote through the link")

    def assert_output_error(self, path):
        d = self.d
        (event,) = d.events(event="output", app="web", phase="error")
        self.assertEqual((event["file"], event["error"]), (path, LINK))
        self.assertIn(f"cannot write output_file {path}: {LINK}", d.log_text())
        families = parse(scrape(*metrics_address(d)), self)
        self.assertGreaterEqual(value(families, "muster_output_errors_total", app="web"), 20)

    def test_a_link_planted_at_output_file_before_start_gets_no_line(self):
        # Sticky and root's, like /tmp: `check` accepts it, and anyone may
        # create a name in it, a link included.
        shared = mkdir(self.d.path("shared"), 0o1777)
        plant_link(os.path.join(self.secret, "web.log"), os.path.join(shared, "web.log"))
        self.worker = start_writer(self.d, "shared/web.log")
        self.wait_refused()
        self.assert_output_error(os.path.join(shared, "web.log"))

    def test_a_deleted_output_file_replaced_by_a_link_gets_no_line(self):
        d = self.d
        shared = mkdir(d.path("shared"))
        self.worker = start_writer(d, "shared/web.log")
        d.wait_for(lambda: numbers_in_file(d, "shared/web.log")[5:], 10, "lines in the file")
        os.chown(shared, NOBODY, NOBODY)  # the directory becomes another user's meanwhile
        plant_link(os.path.join(self.secret, "web.log"), os.path.join(shared, "web.log"))
        self.wait_refused()
        self.assert_output_error(os.path.join(shared, "web.log"))

    def test_rotation_stays_in_the_directory_resolved_at_start(self):
        # output_file under a directory nobody owns; its sub-directory is
        # root's, so `check` accepts it. nobody swaps that sub-directory for
        # a link to a root-only directory that holds a file of the same name.
        d = self.d
        theirs = mkdir(d.path("theirs"), owner=NOBODY)
        logs = mkdir(os.path.join(theirs, "logs"))
        start_writer(d, "theirs/logs/web.log", output_max_size="2KiB", output_keep=2)
        d.wait_for(lambda: os.path.exists(os.path.join(logs, "web.log.1")), 10, "a rotation")
        swap_for_link(logs, self.secret)
        moved = logs + ".old"
        first = max(int(n.rsplit(".", 1)[1]) for n in os.listdir(moved) if n != "web.log")

        def rotated_three_times():
            numbers = [int(n.rsplit(".", 1)[1]) for n in os.listdir(moved) if n != "web.log"]
            return snapshot(self.secret) != self.before or max(numbers) >= first + 3
        d.wait_for(rotated_three_times, 10, "three more rotations")
        self.assertEqual(snapshot(self.secret), self.before, "root rotated files through the link")
        self.assertEqual(d.events(event="output", app="web", phase="error"), [])


@needs_setpriv
class PlantedSocketFile(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        os.chmod(self.d.dir, 0o755)
        self.secret = secret_dir(self.d)

    def test_a_stale_socket_behind_a_linked_directory_is_not_replaced_nor_chowned(self):
        d = self.d
        victim = os.path.join(self.secret, "web.sock")
        os.unlink(victim)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(victim)  # closed, not removed: a stale socket file, root's
        before = snapshot(self.secret)
        theirs = mkdir(d.path("theirs"), owner=NOBODY)
        attacker("os.symlink(sys.argv[1], sys.argv[2])", self.secret,
                 os.path.join(theirs, "run"))
        d.write_config(socket_table("web", "unix:" + os.path.join(theirs, "run", "web.sock"),
                                    owner="nobody"))
        d.proc = subprocess.Popen([MUSTERD, "-c", d.config_path], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _, err = d.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            err = None  # it started; close() stops it
        self.assertEqual(snapshot(self.secret), before, "root replaced the socket through the link")
        self.assertIsNotNone(err, "musterd started on a path through another user's directory")
        self.assertEqual(d.proc.returncode, 2, err)
        self.assertIn("sockets.web.listen: ", err)
        self.assertIn(f"directory {theirs} is owned by uid {NOBODY}, not root", err)

    def start_on(self, directory):
        path = os.path.join(directory, "web.sock")
        self.d.start(socket_table("web", "unix:" + path))
        self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode))
        return path

    def stop(self):
        self.d.signal(15)
        self.assertEqual(self.d.wait_exit(), 0)

    def test_at_exit_a_file_that_replaced_the_socket_stays(self):
        d = self.d
        path = self.start_on(mkdir(d.path("run")))
        os.unlink(path)  # someone else's file at the name now
        with open(path, "w") as f:
            f.write(PRECIOUS)
        self.stop()
        self.assertTrue(os.path.exists(path), "musterd removed the file that replaced its socket")
        self.assertEqual(read(path), PRECIOUS)
        self.assertIn(f"{path} is no longer the socket musterd bound there", d.log_text())

    def test_at_exit_a_link_swapped_in_for_the_directory_is_not_followed(self):
        d = self.d
        theirs = mkdir(d.path("theirs"))
        run = mkdir(os.path.join(theirs, "run"))
        self.start_on(run)
        os.chown(theirs, NOBODY, NOBODY)  # the directory becomes another user's meanwhile
        before = snapshot(self.secret)
        swap_for_link(run, self.secret)
        self.stop()
        self.assertEqual(snapshot(self.secret), before, "root removed a file through the link")
        self.assertEqual(os.listdir(run + ".old"), [])  # musterd's own socket file is gone


@unittest.skipUnless(os.geteuid() == 0, "the rule guards a musterd running as root")
class CheckRefuses(tc.CheckTestCase):
    def cases(self, d):
        open_dir = mkdir(d.path("open"), 0o777)
        mkdir(d.path("sticky-theirs"), 0o1777, owner=NOBODY)
        mkdir(d.path("theirs"), owner=NOBODY)
        mkdir(d.path("theirs/run"))
        os.symlink(open_dir, d.path("link"))
        rule = "musterd, running as root, creates files only where no other user can plant"
        return [
            tc.Case("an output directory anyone can write", tc.web(output="file",
                    output_file="open/web.log"), "apps.web.output_file",
                    f"{rule} a link or a file: directory {d.path('open')} is world-writable "
                    "(mode 0777)", '"open/web.log"'),
            tc.Case("a sticky output directory owned by another user", tc.web(
                    output="file", output_file="sticky-theirs/web.log"), "apps.web.output_file",
                    f"directory {d.path('sticky-theirs')} is owned by uid {NOBODY}, not root",
                    '"sticky-theirs/web.log"'),
            tc.Case("a link on the way to the output directory", tc.web(
                    output="file", output_file="link/web.log"), "apps.web.output_file",
                    f"musterd follows no symbolic link on the way to the files it creates, and "
                    f"{d.path('link')} is one", '"link/web.log"'),
            tc.Case("a unix socket under another user's directory", tc.GOOD_APP + socket_table(
                    "web", "unix:theirs/run/web.sock"), "sockets.web.listen",
                    f"directory {d.path('theirs')} is owned by uid {NOBODY}, not root",
                    '"unix:theirs'),
        ]

    def test_musterctl_check_refuses_directories_others_can_plant_in(self):
        d = self.daemon()
        for case in self.cases(d):
            with self.subTest(case.name):
                path, where = self.write_case(d, case)
                rc, out, err = d.ctl("check", path)
                self.assertEqual(rc, 2, (case.name, out, err))
                self.assert_reported(case, where, err)

    def test_musterd_refuses_to_start_on_them(self):
        d = self.daemon()
        for case in self.cases(d):
            with self.subTest(case.name):
                path, where = self.write_case(d, case)
                try:
                    r = subprocess.run([MUSTERD, "-c", path], capture_output=True, text=True,
                                       timeout=5, stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired:
                    self.fail(f"{case.name}: musterd started")
                self.assertEqual(r.returncode, 2, (case.name, r.stderr))
                self.assert_reported(case, where, r.stderr)


if __name__ == "__main__":
    unittest.main()
