"""output = "file" never fails silently: while output_file cannot be written
(a full disk, its directory missing or removed) each line goes to musterd's
log instead, the failure is logged once and published as an `output` event,
counted in muster_output_errors_total, and the file is tried again (once a
second) until writing works again; a line cut short in the file is ended with
a marker."""

import errno
import http.client
import os
import re
import resource
import shutil
import subprocess

import harness
from harness import app
from test_metrics import metrics_address, parse, value

# Numbered lines of 99 bytes + newline, about a hundred a second, forever.
WRITER = f"""#!{harness.PYTHON}
import sys, time
i = 0
while True:
    sys.stdout.write(("line %06d " % i).ljust(99, "x") + "\\n")
    sys.stdout.flush()
    i += 1
    time.sleep(0.01)
"""

CUT = " [muster: line cut: No space left on device]"


def full_line(n):
    return ("line %06d " % n).ljust(99, "x")


def file_lines(d, name):
    """The file's whole lines (a line being written right now is left out)."""
    text = d.read_file(name)
    return text[:text.rfind("\n") + 1].splitlines()


def numbers_in_file(d, name):
    return [int(line.split()[1]) for line in file_lines(d, name) if len(line) == 99]


def numbers_in_log(d, worker_id):
    """The numbers of the writer's lines that went to musterd's log."""
    found = re.findall(r"web\[%d\] line (\d+) x" % worker_id, d.log_text())
    return [int(n) for n in found]


def output_events(d):
    return d.events(event="output", app="web")


def start_writer(d, output_file, **daemon_keys):
    d.write_script("writer.py", WRITER)
    d.start(app("web", "./writer.py", cwd=".", output="file", output_file=output_file),
            **daemon_keys)
    (w,) = d.wait_workers("web", 1)
    return w["id"]


class Failing(harness.TestCase):
    def wait_lost_lines(self, d, worker_id, count):
        """The numbers of the lines in musterd's log, once there are `count`."""
        return d.wait_for(lambda: n if len(n := numbers_in_log(d, worker_id)) >= count else None,
                          10, f"{count} lines in musterd's log")

    def wait_resumed(self, d):
        return d.wait_for(lambda: [e for e in output_events(d) if e["phase"] == "resumed"], 10,
                          "the output resumed event")

    def assert_one_failure(self, d, output_file, error):
        """One error event and one log entry for the whole failure, with the
        file and the reason."""
        (event,) = [e for e in output_events(d) if e["phase"] == "error"]
        self.assertEqual(event["file"], d.path(output_file))
        self.assertEqual(event["error"], error)
        logged = [line for line in d.log_text().splitlines()
                  if "cannot write output_file" in line]
        self.assertEqual(len(logged), 1, logged)
        self.assertIn(d.path(output_file), logged[0])
        self.assertIn(error, logged[0])

    def assert_nothing_lost_since(self, d, worker_id, name, first_lost):
        """Every line from the first lost one to the last in the file is in
        the file or in musterd's log."""
        in_file = numbers_in_file(d, name)
        in_log = set(numbers_in_log(d, worker_id))
        missing = set(range(first_lost, in_file[-1])) - set(in_file) - in_log
        self.assertEqual(missing, set())


class FullDisk(Failing):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("a full disk is a small tmpfs here, and mounting it needs root")

    def mount_tmpfs(self, d, name):
        path = d.path(name)
        os.mkdir(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs: {r.stderr.strip()}")
        # Lazy: musterd may still hold the file open. Runs before the
        # daemon's cleanup (LIFO), so the temp dir is removed afterwards.
        self.addCleanup(subprocess.run, ["umount", "-l", path], check=True)
        return path

    def test_a_full_disk_sends_the_lines_to_the_log_until_space_returns(self):
        d = self.daemon()
        out = self.mount_tmpfs(d, "out")
        worker_id = start_writer(d, "out/web.log", metrics_listen="127.0.0.1:0")
        d.wait_for(lambda: numbers_in_file(d, "out/web.log")[5:], 10, "lines in the file")
        filler = fill(out)

        # A second's worth and more: the file was tried again and still failed.
        lost = self.wait_lost_lines(d, worker_id, 150)
        self.assert_one_failure(d, "out/web.log", "No space left on device")
        host, port = metrics_address(d)
        families = parse(scrape(host, port), self)
        self.assertGreaterEqual(value(families, "muster_output_errors_total", app="web"), 150)

        os.unlink(filler)
        (resumed,) = self.wait_resumed(d)
        self.assertEqual(resumed["file"], d.path("out/web.log"))
        self.assertGreaterEqual(resumed["lines"], 150)
        last_lost = max(numbers_in_log(d, worker_id))
        d.wait_for(lambda: numbers_in_file(d, "out/web.log")[-1] > last_lost, 10,
                   "new lines in the file")
        self.assert_nothing_lost_since(d, worker_id, "out/web.log", lost[0])
        # The page boundary falls inside a 100-byte line: its head is in the
        # file, ended with the marker; the whole line went to the log.
        (cut,) = [line for line in file_lines(d, "out/web.log") if len(line) != 99]
        self.assertTrue(cut.endswith(CUT), cut)
        head = cut[:-len(CUT)]
        number = int(head.split()[1])
        self.assertTrue(full_line(number).startswith(head), cut)
        self.assertIn(number, numbers_in_log(d, worker_id))


class MissingDirectory(Failing):
    def test_a_directory_removed_while_running_sends_the_lines_to_the_log_until_it_is_back(self):
        d = self.daemon()
        os.makedirs(d.path("out", "logs"))
        worker_id = start_writer(d, "out/logs/web.log")
        d.wait_for(lambda: numbers_in_file(d, "out/logs/web.log")[5:], 10, "lines in the file")
        # Moved away first, so the file cannot be created again in the
        # directory between rm's unlink and rmdir.
        os.rename(d.path("out", "logs"), d.path("out", "gone"))
        shutil.rmtree(d.path("out", "gone"))

        lost = self.wait_lost_lines(d, worker_id, 150)
        self.assert_one_failure(d, "out/logs/web.log", "No such file or directory")
        os.mkdir(d.path("out", "logs"))
        self.wait_resumed(d)
        d.wait_for(lambda: numbers_in_file(d, "out/logs/web.log")[5:], 10,
                   "lines in the new file")
        self.assert_nothing_lost_since(d, worker_id, "out/logs/web.log", lost[0])

    # A directory missing at start is refused by the config check
    # (output_file: test_check.py), so it is only met while running.


# Lines of 999 bytes + newline, as fast as the pipe takes them, then quiet.
BIG_WRITER = f"""#!{harness.PYTHON}
import sys, time
for i in range(40):
    sys.stdout.write(("line %06d " % i).ljust(999, "x") + "\\n")
sys.stdout.flush()
time.sleep(600)
"""


class FileSizeLimit(Failing):
    def test_a_file_size_limit_is_an_output_error_not_the_daemons_death(self):
        # RLIMIT_FSIZE (systemd's LimitFSIZE=, `ulimit -f`): a write past it
        # raises SIGXFSZ, whose default action kills the writer: musterd and,
        # by PDEATHSIG, every worker. musterd ignores it and gets EFBIG.
        d = self.daemon()
        d.write_script("writer.py", BIG_WRITER)
        limit = 16 * 1024

        def limit_file_size():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        d.start(app("web", "./writer.py", cwd=".", output="file", output_file="web.log"),
                preexec_fn=limit_file_size)
        (w,) = d.wait_workers("web", 1)
        (event,) = d.wait_for(lambda: [e for e in output_events(d) if e["phase"] == "error"],
                              10, "the output error event")
        self.assertEqual(event["error"], "File too large")
        self.assertIsNone(d.proc.poll(), f"musterd died{d.log_tail()}")
        self.assertEqual(d.request({"verb": "ping"}).get("pong"), True)
        self.assertEqual(d.app_status("web")["workers"][0]["pid"], w["pid"])
        self.assertLessEqual(os.path.getsize(d.path("web.log")), limit)


def fill(directory):
    """Fills the file system of `directory` with a file; returns its path."""
    path = os.path.join(directory, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"f" * 4096)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return path


def scrape(host, port):
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


if __name__ == "__main__":
    import unittest
    unittest.main()
