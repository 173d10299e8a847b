"""musterctl top: a live view of every app and worker on a terminal (keys to
sort, q to quit, the terminal always restored), the plain table again each
interval on a pipe, and a clear exit when musterd goes away."""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unittest

import harness
from harness import app

LEAVE = b"\x1b[?25h\x1b[?1049l"  # cursor shown, alternate screen left
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", re.M)


def two_apps(d):
    d.start(app("web", "sleep", args=["1000"], instances=2) + app("jobs", "sleep", args=["1000"]))
    return [w["id"] for w in d.wait_workers("web", 2)], [w["id"] for w in d.wait_workers("jobs", 1)]


class TopOnPty:
    """musterctl top with stdin and stdout on a 100x30 pseudo-terminal,
    stderr on a pipe."""

    def __init__(self, d, *args):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.mode = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(
            [harness.MUSTERCTL, "-s", d.socket_path, "top", *args], stdin=self.slave,
            stdout=self.slave, stderr=subprocess.PIPE, start_new_session=True)
        self.out = b""

    def read_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate(self.out):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} on the terminal within {timeout}s: {self.out!r}")
            if select.select([self.master], [], [], left)[0]:
                self.out += os.read(self.master, 65536)

    def wait(self, timeout):
        """Its exit status, once it has exited (within `timeout` s), and all it wrote."""
        rc = self.proc.wait(timeout)
        while select.select([self.master], [], [], 0.1)[0]:
            self.out += os.read(self.master, 65536)
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stderr.close()
        os.close(self.master)
        os.close(self.slave)


class Top(harness.TestCase):
    def top_on_a_terminal(self, *args):
        """musterd with two apps, and top on a terminal showing its first frame."""
        d = self.daemon()
        two_apps(d)
        top = TopOnPty(d, *args)
        self.addCleanup(top.close)
        top.read_until(lambda out: b"jobs[" in out and b"web[" in out, 5, "a frame")
        return d, top

    def test_on_a_pipe_it_prints_the_table_under_a_timestamp_each_interval(self):
        d = self.daemon()
        web, jobs = two_apps(d)
        started = time.monotonic()
        rc, out, err = d.ctl("top", "--count", "2", "--interval", "0.5", timeout=10)
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(time.monotonic() - started, 0.5, "the second frame waits")
        self.assertNotIn("\x1b", out)
        self.assertEqual(len(STAMP.findall(out)), 2, out)
        frames = STAMP.split(out)[1:]
        for frame in frames:
            self.assertRegex(frame, r"\nNAME +PID +STATE +READY +CPU +RSS +UPTIME +RESTARTS +CONNS\n")
            self.assertRegex(frame, r"\nweb +running +2/2 ")
            self.assertRegex(frame, r"\njobs +running +1/1 ")
            for name, ids in (("web", web), ("jobs", jobs)):
                for i in ids:
                    self.assertRegex(frame, rf"\n  {name}\[{i}\] +\d+ +online +yes ")
            self.assertTrue(frame.endswith("\n\n"), "a blank line after each frame")

    def test_on_a_terminal_q_quits_and_restores_the_terminal(self):
        _, top = self.top_on_a_terminal()
        self.assertTrue(top.out.startswith(b"\x1b[?1049h"), top.out[:40])
        self.assertIn(b"(now: app order)", top.out)
        os.write(top.master, b"m")
        top.read_until(lambda out: b"(now: memory)" in out, 2, "the memory sort")
        os.write(top.master, b"q")
        self.assertEqual(top.wait(1), 0)
        self.assertTrue(top.out.endswith(LEAVE), top.out[-40:])
        self.assertEqual(termios.tcgetattr(top.slave), top.mode, "the terminal's mode is back")
        # Every line fits the 100 columns (no wrapping); each frame starts at home.
        for line in re.split(rb"\r*\n|\x1b\[H", top.out):
            self.assertLessEqual(len(re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", line)), 100, line)

    def test_ctrl_c_on_the_terminal_quits_with_0(self):
        _, top = self.top_on_a_terminal()
        os.write(top.master, b"\x03")
        self.assertEqual(top.wait(1), 0)
        self.assertTrue(top.out.endswith(LEAVE), top.out[-40:])

    def test_a_resized_window_is_drawn_again_to_its_width(self):
        _, top = self.top_on_a_terminal("--interval", "60")  # no refresh but the redraw
        fcntl.ioctl(top.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 20, 0, 0))
        before = len(top.out)
        top.proc.send_signal(signal.SIGWINCH)
        top.read_until(lambda out: out.count(b"\x1b[J", before) == 1, 2, "the redraw")
        frame = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", top.out[before:])
        lines = re.split(rb"\r*\n", frame)
        self.assertEqual(lines[0], b"%s  sort: a=ap" % lines[0][:8])
        self.assertIn(b"  web[", frame)
        self.assertTrue(all(len(line) <= 20 and not line.endswith(b" ") for line in lines), lines)
        os.write(top.master, b"q")
        self.assertEqual(top.wait(1), 0)

    def test_an_unknown_app_is_refused_before_the_screen_is_touched(self):
        d = self.daemon()
        two_apps(d)
        top = TopOnPty(d, "nosuch")
        self.addCleanup(top.close)
        self.assertEqual(top.wait(5), 1)
        self.assertNotIn(b"\x1b", top.out)
        self.assertIn("nosuch", top.proc.stderr.read().decode())

    def test_sigterm_restores_the_terminal_then_ends_top_by_that_signal(self):
        _, top = self.top_on_a_terminal()
        top.proc.send_signal(signal.SIGTERM)
        self.assertEqual(top.wait(2), -signal.SIGTERM)
        self.assertTrue(top.out.endswith(LEAVE), top.out[-40:])
        self.assertEqual(termios.tcgetattr(top.slave), top.mode)

    def test_when_musterd_dies_top_restores_the_terminal_and_exits_3_saying_why(self):
        d, top = self.top_on_a_terminal("--interval", "0.2")
        d.proc.kill()
        d.proc.wait(5)
        self.assertEqual(top.wait(3), 3)
        self.assertTrue(top.out.endswith(LEAVE), top.out[-40:])
        self.assertEqual(termios.tcgetattr(top.slave), top.mode)
        err = top.proc.stderr.read().decode()
        self.assertIn(f"musterctl: lost connection to musterd at {d.socket_path}", err)

    def test_on_a_pipe_musterd_dying_ends_top_with_exit_3(self):
        d = self.daemon()
        two_apps(d)
        proc = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, "top", "--interval",
                                 "0.2"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.addCleanup(proc.stdout.close)
        self.addCleanup(proc.stderr.close)
        first = [proc.stdout.readline() for _ in range(4)]  # timestamp, header, web, web[ID]
        self.assertRegex(first[2], r"^web +running", first)
        d.proc.kill()
        d.proc.wait(5)
        _, err = proc.communicate(timeout=3)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("lost connection to musterd", err)

    def test_bad_arguments_and_an_unknown_app(self):
        d = self.daemon()
        two_apps(d)
        for args in (["--interval", "0"], ["--interval", "nan"], ["--count", "0"],
                     ["--sort", "size"], ["--json"]):
            with self.subTest(args=args):
                rc, out, err = d.ctl("top", *args)
                self.assertEqual((rc, out), (2, ""), err)
        rc, out, err = d.ctl("top", "nosuch", "--count", "1")
        self.assertEqual(rc, 1)
        self.assertIn("nosuch", err)
        rc, out, err = d.ctl("top", "jobs", "--count", "1", "--sort", "cpu")
        self.assertEqual(rc, 0, err)
        self.assertIn("\njobs ", out)
        self.assertNotIn("web", out)


if __name__ == "__main__":
    unittest.main()
