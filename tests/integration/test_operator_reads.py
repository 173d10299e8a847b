"""What the operator reads is never broken or hostile (issue 19 §6): bytes a
worker writes that are not UTF-8 never make a reply unparseable; escape
sequences it writes reach no terminal through musterctl or musterd's log; a
follower dropped for falling behind is told so and exits non-zero; a worker
stopped by SIGSTOP is shown stopped and not counted as ready."""

import json
import os
import pty
import select
import signal
import subprocess
import time
import tty

import harness
import node_support as ns
from harness import app
from test_health import get

# Lines of ill-formed UTF-8 (a stray byte, an overlong form, a surrogate, a
# sequence cut off by the end of the line), then a marker, then it idles.
INVALID_UTF8 = f"""#!{harness.PYTHON}
import sys, time
out = sys.stdout.buffer
for line in (b"RED\\xff", b"overlong \\xc0\\xaf", b"surrogate \\xed\\xa0\\x80", b"cut \\xe2\\x82"):
    out.write(line + b"\\n")
out.write(b"printed\\n")
out.flush()
time.sleep(1000)
"""

# 1000 lines of 16000 bytes that are not UTF-8 (48000 as JSON), then a marker.
LONG_INVALID_LINES = f"""#!{harness.PYTHON}
import sys, time
out = sys.stdout.buffer
for i in range(1000):
    out.write(b"\\xff" * 16000 + b"\\n")
out.write(b"printed\\n")
out.flush()
time.sleep(1000)
"""

# A systemd-protocol worker whose STATUS= text is not UTF-8 and holds a C1 CSI.
BAD_STATUS = f"""#!{harness.PYTHON}
import os, socket, time
address = os.environ["NOTIFY_SOCKET"]
if address.startswith("@"):
    address = "\\0" + address[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\\nSTATUS=bad \\xff csi \\xc2\\x9b2J end", address)
time.sleep(1000)
"""

# Escape sequences a hostile worker prints: a window title (OSC 0), a screen
# clear (CSI 2J), a clipboard write (OSC 52), a carriage return hiding text,
# a C1 CSI as UTF-8, and a tab (kept).
ESCAPES = f"""#!{harness.PYTHON}
import sys, time
out = sys.stdout.buffer
for line in (b"title \\x1b]0;owned\\x07", b"clear \\x1b[2J", b"clip \\x1b]52;c;b3duZWQ=\\x07",
             b"visible\\rhidden", b"c1 \\xc2\\x9b2J", b"tab\\there"):
    out.write(line + b"\\n")
out.write(b"printed\\n")
out.flush()
time.sleep(1000)
"""

# A node-protocol worker whose message holds a C1 CSI, DEL and an OSC 0.
HOSTILE_MESSAGE = ns.RAW_WORKER + """
send({"text": "csi \\u009b2J del \\u007f title \\u001b]0;owned\\u0007"})
time.sleep(1000)
"""

# Prints "ready", then once a file named go exists floods its output with
# 1000-byte numbered lines (20 MB), then idles.
FLOOD_OUTPUT = f"""#!{harness.PYTHON}
import os, sys, time
out = sys.stdout
out.write("ready\\n")
out.flush()
while not os.path.exists("go"):
    time.sleep(0.02)
for i in range(20000):
    out.write(("%08d " % i).ljust(999, "x") + "\\n")
out.flush()
time.sleep(1000)
"""

# Once a file named go exists, floods its primary with 64 KiB messages
# (16 MiB of event lines), then idles.
FLOOD_MESSAGES = ns.RAW_WORKER + """
while not os.path.exists("go"):
    time.sleep(0.02)
for i in range(256):
    send({"n": i, "blob": "x" * 65536})
time.sleep(1000)
"""


def ctl_bytes(d, *args, timeout=20):
    """musterctl with stdout and stderr as bytes (a pipe: not a terminal)."""
    r = subprocess.run([harness.MUSTERCTL, "-s", d.socket_path, *map(str, args)],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ctl_on_pty(d, *args, timeout=10, env=None):
    """musterctl with its stdout on a pseudo-terminal in raw mode (no \\r
    added to newlines): (exit code, the bytes the terminal got, stderr).
    `env`: its environment (default: this process's)."""
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)
        proc = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, *map(str, args)],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                                env=env)
        os.close(slave)
        slave = -1
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                raise AssertionError(f"musterctl {args} did not finish on the pty: {out!r}")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal is gone
                break
            if not chunk:
                break
            out += chunk
        err = proc.stderr.read()
        proc.stderr.close()
        return proc.wait(timeout), out, err
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)


def strict_json(data):
    """Parses `data` as strict UTF-8 JSON (a UnicodeDecodeError otherwise)."""
    return json.loads(data.decode("utf-8", errors="strict"))


class InvalidUtf8(harness.TestCase):
    def test_output_that_is_not_utf8_keeps_logs_and_events_parseable(self):
        d = self.daemon()
        d.write_script("bad.py", INVALID_UTF8)
        d.start(app("bad", "./bad.py", cwd=".") + app("good", "sleep", args=["1000"]))
        d.wait_workers("bad", 1)
        d.wait_log("bad[1] printed")
        expected = ["RED\ufffd", "overlong \ufffd\ufffd", "surrogate \ufffd\ufffd\ufffd",
                    "cut \ufffd", "printed"]
        for args in (["logs", "bad"], ["logs", "all"], ["logs"], ["events"]):
            rc, out, err = ctl_bytes(d, *args)
            self.assertEqual(rc, 0, f"musterctl {args}: {err!r}")
            self.assertEqual(err, b"", args)
            out.decode("utf-8", errors="strict")
        for args in (["logs", "bad"], ["logs", "all"]):
            rc, out, err = ctl_bytes(d, "--json", *args)
            self.assertEqual(rc, 0, f"musterctl --json {args}: {err!r}")
            self.assertEqual([l["line"] for l in strict_json(out)["lines"]], expected)
        rc, out, err = ctl_bytes(d, "--json", "events")
        self.assertEqual(rc, 0, err)
        strict_json(out)
        rc, out, err = ctl_bytes(d, "--json", "status")
        self.assertEqual(rc, 0, err)
        strict_json(out)
        # A follower's first reply (the tail) is valid UTF-8 too.
        with d.connect() as c:
            c.send(b'{"verb":"logs","app":"bad","follow":true,"count":5}\n')
            first = b""
            while b"\n" not in first:
                first += c.sock.recv(1 << 20)
            tail = strict_json(first.split(b"\n")[0])["lines"]
            self.assertEqual([l["line"] for l in tail], expected)

    def test_a_full_tail_of_long_lines_still_makes_a_logs_reply(self):
        d = self.daemon()
        d.write_script("long.py", LONG_INVALID_LINES)
        # log_level warn: 16 MB of output does not go to musterd's log too.
        d.start(app("long", "./long.py", cwd="."), log_level="warn")
        d.wait_for(lambda: b"printed" in ctl_bytes(d, "--json", "logs", "long", "-n", "1")[1],
                   20, "the last line")
        for args in (["logs", "long", "-n", "1000"], ["logs", "all", "-n", "1000"]):
            rc, out, err = ctl_bytes(d, *args)
            self.assertEqual(rc, 0, f"musterctl {args}: {err[-300:]!r}")
            self.assertRegex(err.decode(), r"^musterctl: \d+ older line\(s\) left out: a logs "
                                           r"reply holds at most 4 MiB of lines\n$")
            lines = out.decode("utf-8", errors="strict").splitlines()
            self.assertTrue(lines[-1].endswith("long[1] printed"), lines[-1][-100:])
            self.assertGreater(len(lines), 50)
        rc, out, err = ctl_bytes(d, "--json", "logs", "long", "-n", "1000")
        self.assertEqual(rc, 0, err[-300:])
        reply = strict_json(out)
        self.assertEqual(reply["omitted"] + len(reply["lines"]), 1000)
        self.assertLessEqual(len(out), (4 << 20) + 1024)

    def test_a_status_text_that_is_not_utf8_keeps_status_parseable(self):
        d = self.daemon()
        d.write_script("status.py", BAD_STATUS)
        d.start(app("sd", "./status.py", cwd=".", protocol="systemd"))
        d.wait_for(lambda: b"status" in ctl_bytes(d, "--json", "status")[1], 10,
                   "the status text")
        rc, out, err = ctl_bytes(d, "--json", "status")
        self.assertEqual(rc, 0, err)
        (worker,) = strict_json(out)["apps"][0]["workers"]
        self.assertEqual(worker["status"], "bad \ufffd csi \x9b2J end")
        # The C1 control travels as an escape, never as a raw character.
        self.assertIn(b"csi \\u009b2J", out)
        rc, out, err = ctl_bytes(d, "status")
        self.assertEqual(rc, 0, err)
        self.assertIn("bad \ufffd csi", out.decode("utf-8", errors="strict"))


class TerminalEscapes(harness.TestCase):
    def start_escapes(self):
        d = self.daemon()
        d.write_script("esc.py", ESCAPES)
        d.start(app("esc", "./esc.py", cwd="."))
        d.wait_workers("esc", 1)
        d.wait_log("esc[1] printed")
        return d

    def assert_no_controls(self, out):
        for raw in (b"\x1b", b"\x07", b"\r", b"\xc2\x9b"):
            self.assertNotIn(raw, out)

    def test_logs_on_a_terminal_shows_escape_sequences_escaped(self):
        d = self.start_escapes()
        rc, out, err = ctl_on_pty(d, "logs", "esc")
        self.assertEqual(rc, 0, err)
        self.assert_no_controls(out)
        for shown in (rb"title \x1b]0;owned\x07", rb"clear \x1b[2J",
                      rb"clip \x1b]52;c;b3duZWQ=\x07", rb"visible\x0dhidden",
                      rb"c1 \xc2\x9b2J", b"tab\there"):
            self.assertIn(shown, out)

    def test_raw_and_a_pipe_pass_the_text_through(self):
        d = self.start_escapes()
        rc, on_pty, err = ctl_on_pty(d, "--raw", "logs", "esc")
        self.assertEqual(rc, 0, err)
        rc, piped, err = ctl_bytes(d, "logs", "esc")
        self.assertEqual(rc, 0, err)
        for out in (on_pty, piped):
            for raw in (b"title \x1b]0;owned\x07", b"clear \x1b[2J", b"visible\rhidden",
                        b"c1 \xc2\x9b2J"):
                self.assertIn(raw, out)

    def test_events_on_a_terminal_shows_a_hostile_message_escaped(self):
        d = self.daemon()
        d.write_script("msg.py", HOSTILE_MESSAGE)
        d.start(app("msg", "./msg.py", cwd=".", protocol="node"))
        d.wait_for(lambda: d.events(event="message"), 10, "the message event")
        # On the wire C1 and DEL are \u escapes: no raw control in any reply.
        rc, out, err = ctl_bytes(d, "--json", "events")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"\xc2\x9b", out)
        self.assertIn(b"\\u009b2J", out)
        rc, out, err = ctl_on_pty(d, "events")
        self.assertEqual(rc, 0, err)
        self.assert_no_controls(out)
        self.assertIn(rb"csi \xc2\x9b2J", out)

    def test_musterds_log_holds_no_raw_control_character_nor_invalid_utf8(self):
        d = self.daemon()
        d.write_script("esc.py", ESCAPES)
        d.write_script("bad.py", INVALID_UTF8)
        d.start(app("esc", "./esc.py", cwd=".") + app("bad", "./bad.py", cwd="."))
        d.wait_log("esc[1] printed")
        d.wait_log("bad[2] printed")
        with open(d.log_path, "rb") as f:
            log = f.read()
        self.assert_no_controls(log)
        log.decode("utf-8", errors="strict")
        for shown in (rb"esc[1] title \x1b]0;owned\x07", rb"esc[1] visible\x0dhidden",
                      rb"esc[1] c1 \xc2\x9b2J", b"esc[1] tab\there", rb"bad[2] RED\xff",
                      rb"bad[2] surrogate \xed\xa0\x80"):
            self.assertIn(shown, log)


class DroppedFollower(harness.TestCase):
    timeout = 60

    def assert_dropped(self, d, proc, resume=None):
        """Waits for musterd to drop the follower `proc`, lets it read on
        (`resume`), and checks that it says so and exits 1."""
        d.wait_for(lambda: "does not read" in d.log_text(), 30 * harness.SLOWDOWN,
                   "musterd to drop the follower")
        if resume:
            resume()
        out, err = proc.communicate(timeout=30 * harness.SLOWDOWN)
        self.assertEqual(proc.returncode, 1, err[-500:])
        self.assertRegex(err.decode(), r"musterd dropped this follower: .* \d+ line\(s\) "
                                       r"\(\d+ bytes\) were not sent")
        return out

    def first_line(self, proc):
        """The first line `proc` writes to stdout, read straight from the pipe
        (nothing is left in a buffer that communicate() would not see)."""
        line = b""
        deadline = time.monotonic() + 10
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, f"no first line from musterctl: {line!r}")
            if select.select([proc.stdout], [], [], left)[0]:
                byte = os.read(proc.stdout.fileno(), 1)
                self.assertTrue(byte, f"musterctl closed its stdout: {line!r}")
                line += byte
        return line

    def follower(self, d, *args):
        proc = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc

    def test_a_logs_follower_whose_output_is_not_read_exits_1_saying_what_it_lost(self):
        d = self.daemon()
        d.write_script("flood.py", FLOOD_OUTPUT)
        # log_level warn: the 20 MB of output does not go to musterd's log too.
        d.start(app("flood", "./flood.py", cwd="."), log_level="warn")
        d.wait_workers("flood", 1)
        d.wait_for(lambda: d.request({"verb": "logs", "app": "flood"})["lines"], 10, "ready")
        proc = self.follower(d, "logs", "flood", "--follow", "-n", "1")
        # The tail is printed once the follow is in place; from then on its
        # stdout, a pipe nobody reads, fills, and musterd's queue behind it.
        self.assertIn(b"flood[1] ready", self.first_line(proc))
        d.write_file("go", "")
        out = self.assert_dropped(d, proc)
        # What it printed before the error are whole lines, in order.
        numbers = [int(line.split()[2]) for line in out.decode().splitlines()]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(numbers))))

    def test_a_stopped_events_follower_exits_1_saying_what_it_lost(self):
        d = self.daemon()
        d.write_script("flood.py", FLOOD_MESSAGES)
        d.start(app("flood", "./flood.py", cwd=".", protocol="node"))
        proc = self.follower(d, "--json", "events", "--follow")
        # Its acknowledgement is printed once the follow is in place.
        self.assertIn(b'"follow":true', self.first_line(proc))
        os.kill(proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGCONT))
        d.write_file("go", "")
        out = self.assert_dropped(d, proc, lambda: os.kill(proc.pid, signal.SIGCONT))
        # --json: the error is the last line on stdout too, as musterd sent it.
        notice = json.loads(out.splitlines()[-1])
        self.assertEqual(notice["ok"], False)
        self.assertGreater(notice["dropped_lines"], 0)
        self.assertGreater(notice["dropped_bytes"], 0)


class StoppedWorker(harness.TestCase):
    def test_a_sigstopped_worker_is_shown_stopped_and_not_ready_until_sigcont(self):
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"]), metrics_listen="127.0.0.1:0")
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: get(d, "/readyz")[0] == 200, 5, "readyz 200")
        os.kill(w["pid"], signal.SIGSTOP)
        self.addCleanup(os.kill, w["pid"], signal.SIGCONT)
        stopped_at = time.monotonic()
        (shown,) = d.wait_for(lambda: [x for x in d.workers("web") if x.get("stopped")],
                              5, "status to show the worker stopped")
        # One sample period (2 s), with room for a loaded machine's timers.
        self.assertLess(time.monotonic() - stopped_at, 3 * harness.SLOWDOWN)
        self.assertEqual((shown["id"], shown["state"], shown["ready"]),
                         (w["id"], "online", False))
        status, body = get(d, "/readyz")
        self.assertEqual(status, 503, body)
        self.assertIn(f"web: no ready worker (0/1); stopped by a signal (SIGCONT resumes): "
                      f"worker {w['id']}", body)
        metrics = get(d, "/metrics")[1]
        self.assertIn('muster_workers_stopped{app="web"} 1', metrics)
        self.assertIn('muster_workers_ready{app="web"} 0', metrics)
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertIn("online (stopped)", out)
        self.assertIn(f"kill -CONT {w['pid']}", out)

        os.kill(w["pid"], signal.SIGCONT)
        d.wait_for(lambda: not d.workers("web")[0]["stopped"], 5, "the worker to run again")
        self.assertEqual(d.workers("web")[0]["ready"], True)
        self.assertEqual(get(d, "/readyz"), (200, "ready\n"))
        self.assertIn('muster_workers_stopped{app="web"} 0', get(d, "/metrics")[1])


if __name__ == "__main__":
    import unittest
    unittest.main()
