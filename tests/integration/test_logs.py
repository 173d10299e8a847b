"""Worker output in files with size-based rotation, and `musterctl logs`:
the in-memory tail with writer ids, and --follow."""

import os
import select
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import app

# Writes COUNT numbered lines of 99 bytes + newline, then notes it is done and
# stays up. The numbers let the test check that rotation kept order and lost
# nothing it promised to keep.
WRITER = f"""#!{harness.PYTHON}
import os, sys, time
count = int(os.environ["COUNT"])
for i in range(count):
    sys.stdout.write(("line %06d " % i).ljust(99, "x") + "\\n")
    sys.stdout.flush()
open("done." + os.environ["MUSTER_WORKER_ID"], "w").close()
time.sleep(1000)
"""

# Prints "tick N" whenever a file named go.N appears, so the test decides when
# a line is written (no timing guesses).
TICKER = f"""#!{harness.PYTHON}
import os, sys, time
n = 0
while True:
    if os.path.exists("go.%d" % n):
        print("tick %d" % n, flush=True)
        n += 1
    else:
        time.sleep(0.02)
"""

# Writes numbered 9-byte lines as fast as the pipe takes them, forever.
FAST_WRITER = f"""#!{harness.PYTHON}
import sys
i = 0
while True:
    sys.stdout.write("%08d\\n" % (i % 100000000))
    i += 1
"""


def numbers(text):
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith("line ")]


def write_lines(d, count, keep):
    """Runs WRITER for `count` lines into web.log (1000-byte files, `keep`
    rotated ones) and waits until the last line is in web.log; returns the
    names of the web.log files."""
    d.write_script("writer.py", WRITER)
    d.start(app("web", "./writer.py", cwd=".", output="file", output_file="web.log",
                output_max_size="1000B", output_keep=keep, env={"COUNT": str(count)}))
    (w,) = d.wait_workers("web", 1)
    d.wait_for(lambda: os.path.exists(d.path(f"done.{w['id']}")), 15, "the writer")
    d.wait_for(lambda: numbers(d.read_file("web.log"))[-1:] == [count - 1], 5, "the last line")
    return sorted(n for n in os.listdir(d.dir) if n.startswith("web.log"))


class Rotation(harness.TestCase):
    def test_output_file_rotates_by_size_and_keeps_output_keep_old_files(self):
        d = self.daemon()
        # 100-byte lines, 1000-byte files: 10 lines a file; 55 lines fill
        # web.log (5 lines) and four full files, of which output_keep = 2 stay.
        # Rotated files are numbered upward (the highest is the newest): the
        # five rotations made .1 to .5, and .1 to .3 were deleted.
        names = write_lines(d, 55, keep=2)
        self.assertEqual(names, ["web.log", "web.log.4", "web.log.5"])
        for name in names:
            self.assertLessEqual(os.path.getsize(d.path(name)), 1000, name)
        self.assertEqual(numbers(d.read_file("web.log.4")), list(range(30, 40)))
        self.assertEqual(numbers(d.read_file("web.log.5")), list(range(40, 50)))
        self.assertEqual(numbers(d.read_file("web.log")), list(range(50, 55)))

    def test_numbering_goes_on_above_rotated_files_already_there(self):
        d = self.daemon()
        for n in (3, 7):
            d.write_file(f"web.log.{n}", f"old {n}\n")
        d.write_file("web.log.07", "not ours\n")  # not a number musterd writes
        names = write_lines(d, 25, keep=3)
        # .3 was the oldest of the three kept once .8 and .9 were added.
        self.assertEqual(names, ["web.log", "web.log.07", "web.log.7", "web.log.8", "web.log.9"])
        self.assertEqual(d.read_file("web.log.7"), "old 7\n")
        self.assertEqual(numbers(d.read_file("web.log.8")), list(range(0, 10)))
        self.assertEqual(numbers(d.read_file("web.log.9")), list(range(10, 20)))

    def test_a_rotation_per_line_with_output_keep_1000_leaves_the_daemon_responsive(self):
        logs = memory_dir(self)  # first: removed after musterd has stopped
        d = self.daemon()
        for n in range(1, 1001):
            with open(os.path.join(logs, f"web.log.{n}"), "w") as f:
                f.write(f"old {n}\n")
        d.write_script("fast.py", FAST_WRITER)
        # Every 9-byte line fills a 9-byte file: a rotation per line, hundreds
        # per pipe read, each with 1000 rotated files to keep.
        d.start(app("web", "./fast.py", cwd=".", output="file",
                    output_file=os.path.join(logs, "web.log"), output_max_size="9B",
                    output_keep=1000))
        d.wait_workers("web", 1)
        d.wait_for(lambda: os.path.getsize(os.path.join(logs, "web.log")), 10, "the first line")
        latencies = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.assertTrue(d.request({"verb": "ping"}, timeout=10)["pong"])
            latencies.append(time.monotonic() - started)
        # Tens of milliseconds (a pipe read's worth of rotations, ~450);
        # 1000 renames per rotation took over 10 s.
        self.assertLess(max(latencies), 0.5 * harness.SLOWDOWN, sorted(latencies)[-5:])
        self.assertEqual(d.ctl("stop", "web")[0], 0)

        def rotated():
            return sorted(int(n.rsplit(".", 1)[1]) for n in os.listdir(logs)
                          if n.startswith("web.log."))
        # musterd may still be writing what was in the pipe when the writer died.
        last = d.wait_for(lambda: (r := rotated()) == list(range(r[-1] - 999, r[-1] + 1)) and r,
                          10, "the newest 1000 rotated files, no others")
        self.assertGreater(last[-1], 1100, "rotations while the daemon was pinged")


def memory_dir(test):
    """A temp dir on tmpfs (/dev/shm) where there is one, else in the test's
    own dir: thousands of renames and unlinks should time musterd, not the
    disk's journal under whatever else the machine is doing."""
    parent = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    path = tempfile.mkdtemp(prefix="muster-it-", dir=parent)
    test.addCleanup(shutil.rmtree, path, True)
    return path


class LogsCommand(harness.TestCase):
    def test_logs_shows_the_last_n_lines_with_each_writers_id_for_file_output(self):
        d = self.daemon()
        d.write_script("writer.py", WRITER)
        d.start(app("web", "./writer.py", cwd=".", instances=2, output="file",
                    output_file="web.log", env={"COUNT": "20"}))
        workers = d.wait_workers("web", 2)
        for w in workers:
            d.wait_for(lambda w=w: os.path.exists(d.path(f"done.{w['id']}")), 15, "the writers")
        rc, out, err = d.ctl("logs", "web", "-n", "40")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 40)
        for w in workers:
            mine = [l for l in lines if f" web[{w['id']}] line " in l]
            self.assertEqual([int(l.split(" line ")[1].split()[0]) for l in mine],
                             list(range(20)), f"worker {w['id']}'s lines in order")
        last = d.ctl("logs", "web", "-n", "3")[1].splitlines()
        self.assertEqual(last, lines[-3:])

    def test_logs_of_an_unknown_app_fail_with_exit_1(self):
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"]))
        rc, _, err = d.ctl("logs", "nope")
        self.assertEqual(rc, 1)
        self.assertIn("nope", err)

    def test_logs_follow_prints_new_lines_as_they_are_written(self):
        d = self.daemon()
        d.write_script("ticker.py", TICKER)
        d.start(app("tick", "./ticker.py", cwd=".", restart="always"))
        (w,) = d.wait_workers("tick", 1)
        d.write_file("go.0", "")
        d.wait_log("tick[%d] tick 0" % w["id"])
        follower = start_follower(self, d, "tick", "-n", "1")
        read = line_reader(follower)
        self.assertTrue(read(10).endswith(f"tick[{w['id']}] tick 0"))  # the tail first
        for n in (1, 2, 3):
            d.write_file(f"go.{n}", "")
            self.assertTrue(read(10).endswith(f"tick[{w['id']}] tick {n}"))
        # A replacement worker's lines reach the same follower.
        d.ctl("kill", str(w["id"]))
        d.wait_for(lambda: d.workers("tick") and d.workers("tick")[0]["id"] != w["id"], 10,
                   "a replacement worker")
        (w2,) = d.workers("tick")
        d.write_file("go.4", "")  # the new worker starts at 0 and catches up to 4
        seen = [read(10) for _ in range(5)]
        self.assertTrue(all(f"tick[{w2['id']}] tick " in line for line in seen), seen)
        self.assertTrue(seen[-1].endswith("tick 4"), seen)

    def test_a_follow_ends_with_exit_0_when_musterd_shuts_down(self):
        d = self.daemon()
        d.write_script("ticker.py", TICKER)
        d.start(app("tick", "./ticker.py", cwd="."))
        d.wait_workers("tick", 1)
        follower = start_follower(self, d, "tick")
        d.write_file("go.0", "")
        self.assertIn("tick 0", line_reader(follower)(10))
        d.ctl("shutdown")
        self.assertEqual(follower.wait(15), 0)
        self.assertEqual(d.wait_exit(15), 0)


def line_reader(proc):
    """A function reading the next stdout line of `proc` within a deadline
    (its own buffer: select() cannot see lines a file object already read)."""
    fd = proc.stdout.fileno()
    pending = bytearray()

    def read(timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no line from musterctl within %ss" % timeout)
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("musterctl exited: %s" % proc.stderr.read())
                pending.extend(chunk)
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        return line.decode()
    return read


def start_follower(test, d, *args):
    """`musterctl logs ... --follow` running in the background, stopped at cleanup."""
    proc = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, "logs", *args,
                             "--follow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def stop():
        proc.kill()
        proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()
    test.addCleanup(stop)
    return proc


if __name__ == "__main__":
    unittest.main()
