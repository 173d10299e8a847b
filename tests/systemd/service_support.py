"""The fixture of the real-systemd checks: each test class boots its own
container (container.Container) with the muster .deb installed, as an
operator would (`dpkg -i`), and powers it off at the end. Each test starts
from a stopped musterd with the packaged units and its own config; a failed
assertion carries what the journal said since the test began.

Environment (set by tests/systemd/run):
  MUSTER_SD_ROOTFS  the root filesystem to boot (tests/systemd/rootfs)
  MUSTER_SD_TOOLS   a directory mounted at /muster-test inside: muster.deb,
                    muster-next.deb (the upgrade), sd_hello, and bin/ with
                    musterd and musterctl to use instead of the packaged ones
"""

import json
import os
import signal
import subprocess
import sys
import unittest

import container

HERE = os.path.dirname(os.path.abspath(__file__))
ROOTFS = os.environ.get("MUSTER_SD_ROOTFS", "")
TOOLS = os.environ.get("MUSTER_SD_TOOLS", "")
INSIDE = "/muster-test"
CONFIG = "/etc/muster/muster.toml"
HELLO = "/usr/libexec/muster/muster-hello"
SD_HELLO = f"{INSIDE}/sd_hello"
LOAD_CLIENT = os.path.join(HERE, "load_client.py")
PORT = 8000


def has_next_deb():
    return os.path.exists(os.path.join(TOOLS, "muster-next.deb"))


def binaries_replaced():
    return os.path.isdir(os.path.join(TOOLS, "bin"))


# --- configs -----------------------------------------------------------------

DAEMON = '[daemon]\ncontrol_socket = "/run/muster/muster.sock"\nshutdown_timeout = "10s"\n'


def socket_table(name="web", port=PORT):
    return f'[sockets.{name}]\nlisten = "127.0.0.1:{port}"\n'


def hello_app(name="hello", instances=2, socket="web", extra=""):
    """The packaged example worker (node protocol, rr), as nobody."""
    return (f'[apps.{name}]\nexec = "{HELLO}"\nargs = ["{PORT}", "127.0.0.1"]\n'
            f'instances = {instances}\nprotocol = "node"\nsockets = ["{socket}"]\n'
            f'user = "nobody"\ngroup = "nogroup"\nstop_timeout = "5s"\n{extra}')


def sd_hello_app(name="sd", instances=1, socket="web", extra=""):
    """A socket-activated server with no muster code (libsystemd only)."""
    return (f'[apps.{name}]\nexec = "{SD_HELLO}"\ninstances = {instances}\n'
            f'protocol = "systemd"\nsockets = ["{socket}"]\nstop_timeout = "5s"\n{extra}')


class TestCase(unittest.TestCase):
    """One container per class; per test a clean, stopped musterd."""

    timeout = 240  # seconds per test: a hung check fails on its own
    longMessage = True
    container = None

    @classmethod
    def setUpClass(cls):
        if not ROOTFS or not TOOLS:
            raise RuntimeError("run these checks through tests/systemd/run")
        cls.container = container.Container(ROOTFS, binds=[(TOOLS, INSIDE)],
                                            name=f"muster-test-{os.getpid()}")
        try:
            cls.container.boot()
            cls.install(f"{INSIDE}/muster.deb")
        except BaseException:
            cls.container.poweroff()
            raise

    @classmethod
    def install(cls, deb):
        c = cls.container
        c.run(["dpkg", "-i", deb], timeout=120)
        if binaries_replaced():
            c.run(["cp", f"{INSIDE}/bin/musterd", "/usr/sbin/musterd"])
            c.run(["cp", f"{INSIDE}/bin/musterctl", "/usr/bin/musterctl"])

    @classmethod
    def tearDownClass(cls):
        if cls.container:
            cls.container.poweroff()

    def setUp(self):
        def expired(signo, frame):
            raise TimeoutError(f"{self.id()} took longer than {self.timeout}s")
        previous = signal.signal(signal.SIGALRM, expired)
        signal.alarm(self.timeout)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.alarm, 0)
        self.c = self.container
        self.c.systemctl("stop", "musterd.service", "musterd.socket", check=False)
        self.c.systemctl("reset-failed", check=False)
        # Drop-ins a previous test wrote.
        self.c.run(["rm", "-rf", "/etc/systemd/system/musterd.service.d",
                    "/etc/systemd/system/musterd.socket.d"])
        self.c.systemctl("daemon-reload")
        # The journal of this test is what came since now. (Not --after-cursor:
        # systemd 252's journalctl skips the first entry after the cursor that
        # matches a filter such as -p warning or FIELD=VALUE.)
        now = self.c.run(["date", "+%s.%N"]).stdout.strip()
        self.since = "@" + now[:now.index(".") + 7]

    # A failed check says what the journal said during the test.
    def _formatMessage(self, msg, standardMsg):
        text = super()._formatMessage(msg, standardMsg)
        return f"{text}\n--- journal of this test (last 80 lines) ---\n{self.journal(lines=80)}"

    def journal(self, *args, lines=None):
        since = [f"--since={self.since}"] if getattr(self, "since", "") else []
        return self.c.journal(*(since + list(args)), lines=lines)

    # --- musterd ------------------------------------------------------------

    def write_config(self, text):
        self.c.write(CONFIG, DAEMON + text)

    def drop_in(self, unit, text, name="test.conf"):
        self.c.write(f"/etc/systemd/system/{unit}.d/{name}", text)
        self.c.systemctl("daemon-reload")

    def musterctl(self, *args, check=True, timeout=30):
        """musterctl on the control socket of the test configs (so that it
        need not read a config a test has just broken)."""
        return self.c.run(["musterctl", "-s", "/run/muster/muster.sock"] + list(args),
                          check=check, timeout=timeout)

    def status(self):
        return json.loads(self.musterctl("--json", "status").stdout)

    def workers(self, app):
        for a in self.status()["apps"]:
            if a["name"] == app:
                return a["workers"]
        return []

    def wait_ready(self, app, count, timeout=30):
        def ready():
            ws = self.workers(app)
            return ws if len(ws) == count and all(w["ready"] for w in ws) else None
        return self.c.wait_for(ready, timeout, f"{count} ready workers of {app}",
                               lambda: "\n" + self.journal("-u", "musterd", lines=40))

    def main_pid(self):
        return int(self.c.show("musterd.service", "MainPID"))

    # --- clients ------------------------------------------------------------

    def get(self, port=PORT, path="/", timeout=10):
        """(status, body) of GET PATH on the container's 127.0.0.1:PORT."""
        code = ("import json,socket\n"
                f"s=socket.create_connection(('127.0.0.1',{port}),timeout={timeout})\n"
                f"s.sendall(b'GET {path} HTTP/1.0\\r\\n\\r\\n')\n"
                "d=b''\nwhile True:\n c=s.recv(65536)\n if not c: break\n d+=c\n"
                "print(json.dumps(d.decode(errors='replace')))\n")
        r = self.c.host_in_netns_run([sys.executable, "-c", code], timeout=timeout + 5)
        if r.returncode != 0:
            return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        head, _, body = json.loads(r.stdout).partition("\r\n\r\n")
        status = head.split(" ", 2)[1] if " " in head else "?"
        return int(status) if status.isdigit() else status, body

    def start_load(self, slow=0, pause=0.5):
        """Starts load_client.py in the container's network; returns a
        function that stops it and returns its summary."""
        proc = self.c.host_in_netns([sys.executable, LOAD_CLIENT, str(PORT), "--slow", str(slow),
                                     "--pause", str(pause)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def kill():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.addCleanup(kill)
        line = proc.stdout.readline().strip()
        if line != "started":
            kill()
            raise AssertionError(f"the load client did not get a first answer: {line!r} "
                                 f"{proc.stderr.read()}")

        def finish():
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise AssertionError(f"load client exited {proc.returncode}: {err}")
            return json.loads(out.strip().splitlines()[-1])
        return finish
