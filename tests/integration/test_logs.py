"""Worker output in files with size-based rotation, and `musterctl logs`:
the in-memory tail with writer ids, and --follow."""

import os
import select
import subprocess
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
        names = write_lines(d, 55, keep=2)
        self.assertEqual(names, ["web.log", "web.log.1", "web.log.2"])
        for name in names:
            self.assertLessEqual(os.path.getsize(d.path(name)), 1000, name)
        self.assertEqual(numbers(d.read_file("web.log.2")), list(range(30, 40)))
        self.assertEqual(numbers(d.read_file("web.log.1")), list(range(40, 50)))
        self.assertEqual(numbers(d.read_file("web.log")), list(range(50, 55)))

    def test_output_keep_zero_truncates_instead_of_keeping_old_files(self):
        d = self.daemon()
        self.assertEqual(write_lines(d, 25, keep=0), ["web.log"])
        self.assertEqual(numbers(d.read_file("web.log")), list(range(20, 25)))

    def test_an_existing_file_counts_towards_the_size_limit(self):
        d = self.daemon()
        d.write_script("writer.py", WRITER)
        d.write_file("web.log", "y" * 950 + "\n")
        d.start(app("web", "./writer.py", cwd=".", output="file", output_file="web.log",
                    output_max_size="1000B", output_keep=1, env={"COUNT": "1"}))
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: numbers(d.read_file("web.log")) == [0], 15, "the rotated file")
        self.assertEqual(d.read_file("web.log.1"), "y" * 950 + "\n")


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
