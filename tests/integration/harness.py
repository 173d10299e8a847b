"""A small fixture for driving the real musterd in integration tests.

A test makes a `Daemon` (a temp dir of its own), writes whatever worker scripts
it needs into that dir, starts musterd on a config there and talks to it over
the control socket (`request`) or through the real musterctl (`ctl`). States are
awaited with `wait_for`, which polls until a deadline; nothing here sleeps and
hopes. Teardown kills musterd and every worker process it was ever seen to run.

Environment:
  MUSTER_BUILD_DIR   where musterd, musterd-alt and musterctl are (default: ../../build)
  MUSTER_TEST_KEEP   set to keep each test's temp dir (path printed on close)
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

# Processes seen through /proc and deadline polling, as harness.X for the tests.
from process_support import (  # noqa: F401
    Poll, children_of, open_fds, pid_alive, proc_environ, recv_until_eof, settled_fds, start_time)

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.path.abspath(
    os.environ.get("MUSTER_BUILD_DIR") or os.path.join(HERE, "..", "..", "build"))
MUSTERD = os.path.join(BUILD_DIR, "musterd")
MUSTERCTL = os.path.join(BUILD_DIR, "musterctl")
# The test-only build of musterd under another version ("<version>+alt"), for
# the in-place upgrade tests (test_upgrade_in_place.py).
MUSTERD_ALT = os.path.join(BUILD_DIR, "musterd-alt")
# The interpreter running the tests, for Python workers.
PYTHON = sys.executable

# Every test method is killed (as a failure) after this long; real tests take
# a few seconds at most.
TEST_TIMEOUT_S = 30

# scripts/sanitize runs this suite against AddressSanitizer + UBSan builds
# (MUSTER_SANITIZED=1). There every process runs several times slower, and a
# process's RSS is mostly ASan's shadow memory and its quarantine of freed
# blocks (kept, by design, up to 256 MiB so use-after-free is caught). So:
# time bounds on the daemon are multiplied by SLOWDOWN, and RSS bounds are
# not checked (assert_rss_below); leaks are LeakSanitizer's job in that run,
# and the RSS bounds hold in the ordinary run (scripts/test).
SANITIZED = os.environ.get("MUSTER_SANITIZED") == "1"
SLOWDOWN = 4 if SANITIZED else 1


def assert_rss_below(test, rss, bound, context=None):
    """test.assertLess(rss, bound), except under the sanitizers (see SANITIZED)."""
    if not SANITIZED:
        test.assertLess(rss, bound, context)


# --- TOML ------------------------------------------------------------------

def toml_value(value):
    """A Python value as TOML. JSON strings are valid TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def toml_table(header, keys):
    lines = [f"[{header}]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def app(name, exec, **keys):
    """An [apps.NAME] table. Defaults keep tests fast: short restart delays and
    stop timeouts (a test that cares sets its own)."""
    merged = {"exec": exec, "restart_delay": "50ms", "stop_timeout": "1s"}
    merged.update(keys)
    return toml_table(f"apps.{name}", merged)


# --- the daemon ------------------------------------------------------------

class Daemon:
    """One musterd in a temp dir of its own. Use as a context manager or via
    `Daemon.for_test(testcase)`, which registers close() as a cleanup."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="muster-it-")
        self.socket_path = os.path.join(self.dir, "muster.sock")
        self.config_path = os.path.join(self.dir, "muster.toml")
        self.log_path = os.path.join(self.dir, "musterd.log")
        self.proc = None
        self._seen = {}  # worker pid -> start time, for teardown
        self._closed = False

    @classmethod
    def for_test(cls, test):
        d = cls()
        test.addCleanup(d.close)
        return d

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- files --

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write_file(self, name, text, mode=0o644):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def write_script(self, name, text):
        """An executable file (start it with a #! line)."""
        return self.write_file(name, text, 0o755)

    def read_file(self, name, default=""):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return default

    def write_config(self, apps="", **daemon_keys):
        """Writes muster.toml: a [daemon] table whose control socket is in the
        temp dir, then `apps` (TOML text, e.g. from harness.app())."""
        keys = {"control_socket": self.socket_path, "shutdown_timeout": "5s"}
        keys.update(daemon_keys)
        self.write_file("muster.toml", toml_table("daemon", keys) + "\n" + apps)
        return self.config_path

    # -- lifecycle --

    def start(self, apps=None, env=None, cwd=None, preexec_fn=None, args=(), **daemon_keys):
        """Starts musterd (writing the config first if `apps` is given) and
        waits until it answers ping. `env`: extra daemon environment;
        (a value of None unsets that variable); `preexec_fn`: runs in the
        daemon's process before exec (limits); `args`: more of musterd's
        options."""
        if apps is not None:
            self.write_config(apps, **daemon_keys)
        assert self.proc is None or self.proc.poll() is not None, "musterd already running"
        environ = dict(os.environ)
        environ.pop("MUSTER_SOCKET", None)
        environ.pop("MUSTER_CONFIG", None)
        environ.update(env or {})
        environ = {k: v for k, v in environ.items() if v is not None}  # None: unset it
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [MUSTERD, "-c", self.config_path, *args], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, env=environ, cwd=cwd or self.dir,
                preexec_fn=preexec_fn)
        self.wait_for(self._answers_ping, 10, "musterd to answer ping")
        return self

    def _answers_ping(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"musterd exited with {self.proc.returncode} while "
                                 f"starting{self.log_tail()}")
        try:
            return self.request({"verb": "ping"}, timeout=1).get("pong")
        except OSError:
            return False

    def wait_exit(self, timeout=10):
        """Waits for musterd to exit; returns its exit status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"musterd did not exit within {timeout}s{self.log_tail()}")

    def signal(self, signo):
        self.proc.send_signal(signo)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self.proc is not None and self.proc.poll() is None:
            for pid in children_of(self.proc.pid):  # workers status never showed
                self._remember(pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid, started in self._seen.items():
            if start_time(pid) == started:  # still that very process
                for target in (-pid, pid):  # its process group, then itself
                    try:
                        os.kill(target, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
        if os.environ.get("MUSTER_TEST_KEEP"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- talking to it --

    def connect(self, timeout=5):
        """An open control connection (a `Connection`)."""
        return Connection(self.socket_path, timeout)

    def request(self, req, timeout=10):
        """One request on a fresh connection; the reply as a dict."""
        with self.connect(timeout) as c:
            return c.request(req)

    def ctl(self, *args, timeout=20, socket_path=None, input=None):
        """Runs musterctl against this daemon: (exit code, stdout, stderr).
        `input`: text for its stdin (else it has none)."""
        sock = socket_path or self.socket_path
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        r = subprocess.run([MUSTERCTL, "-s", sock, *map(str, args)], capture_output=True,
                           text=True, timeout=timeout, **stdin)
        return r.returncode, r.stdout, r.stderr

    def status(self):
        reply = self.request({"verb": "status"})
        assert reply.get("ok"), f"status failed: {reply}"
        for a in reply["apps"]:
            for w in a["workers"]:
                self._remember(w["pid"])
        return reply

    def events(self, **match):
        """The daemon's recent events (oldest first) whose fields equal `match`."""
        reply = self.request({"verb": "events"})
        assert reply.get("ok"), f"events failed: {reply}"
        return [e for e in reply["events"] if all(e.get(k) == v for k, v in match.items())]

    def status_entry(self, kind, name):
        """The entry named NAME in status()[kind] ("apps" or "sockets")."""
        entries = self.status()[kind]
        for e in entries:
            if e["name"] == name:
                return e
        raise AssertionError(f"no {kind[:-1]} {name!r} in status: {[e['name'] for e in entries]}")

    def app_status(self, name):
        return self.status_entry("apps", name)

    def workers(self, name):
        """The app's workers, ordered by instance slot."""
        return sorted(self.app_status(name)["workers"], key=lambda w: (w["instance"], w["id"]))

    def wait_workers(self, name, count, timeout=10, state="online"):
        """Waits until the app has exactly `count` workers, all in `state`;
        returns them ordered by slot."""
        last = []

        def ready():
            last[:] = self.workers(name)
            ok = len(last) == count and all(w["state"] == state for w in last)
            return list(last) if ok else None
        try:
            return self.wait_for(ready, timeout, f"{count} {state} worker(s) of {name}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nlast workers of {name}: {last}") from None

    def _remember(self, pid):
        if pid and pid not in self._seen:
            started = start_time(pid)
            if started is not None:
                self._seen[pid] = started

    # -- observing --

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, lines=30):
        try:
            tail = self.log_text().splitlines()[-lines:]
        except FileNotFoundError:
            return "\n(no musterd log)"
        return "\n--- musterd log (tail) ---\n" + "\n".join(tail)

    def wait_for(self, predicate, timeout, what):
        """Polls `predicate` until it returns something truthy (which is
        returned) or `timeout` seconds pass (AssertionError with the log tail)."""
        return Poll.until(predicate, timeout, what, self.log_tail)

    def holds(self, predicate, duration, what):
        return Poll.holds(predicate, duration, what, self.log_tail)

    def wait_log(self, text, timeout=10):
        return self.wait_for(lambda: text in self.log_text(), timeout, f"{text!r} in the log")


class Connection:
    """A client of the control socket that reads line by line, so several
    replies arriving in one chunk are not lost."""

    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        except BaseException:
            self.sock.close()
            raise
        self._buffer = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def read_line(self, limit=16 * 1024 * 1024):
        """The next line, without its newline."""
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; got {self._buffer[:200]!r}")
            self._buffer += chunk
            if len(self._buffer) > limit:
                raise ConnectionError("reply line too long")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def request(self, req):
        """Sends a request (a dict, or a raw line without its newline) and
        returns the reply as a dict."""
        line = req if isinstance(req, (str, bytes)) else json.dumps(req)
        self.send((line if isinstance(line, bytes) else line.encode()) + b"\n")
        return json.loads(self.read_line())

    def read_until_closed(self, limit=64 * 1024 * 1024):
        """Reads until the daemon closes the connection (EOF or reset);
        returns what was still unread."""
        data, self._buffer = self._buffer, b""
        return recv_until_eof(self.sock, data, limit)


class TestCase(unittest.TestCase):
    """Base class: each test method gets a watchdog (SIGALRM), so a hung test
    fails on its own instead of eating ctest's whole timeout."""

    timeout = TEST_TIMEOUT_S

    @classmethod
    def setUpClass(cls):
        # A missing binary is an error, not a skip: a green run must mean tested.
        for exe in (MUSTERD, MUSTERCTL):
            if not os.access(exe, os.X_OK):
                raise RuntimeError(f"{exe} is not built (set MUSTER_BUILD_DIR)")

    def setUp(self):
        def expired(signo, frame):
            raise TimeoutError(f"{self.id()} took longer than {self.timeout * SLOWDOWN}s")
        self._previous_alarm_handler = signal.signal(signal.SIGALRM, expired)
        signal.alarm(self.timeout * SLOWDOWN)

    def tearDown(self):
        # Runs before the cleanups, so a Daemon.close() (bounded on its own)
        # is never cut short by the watchdog.
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self._previous_alarm_handler)

    def daemon(self):
        return Daemon.for_test(self)
