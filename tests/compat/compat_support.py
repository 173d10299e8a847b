"""The reference side of the compatibility suite (tests/compat/): the same
worker program run under a real Node primary (node_primary.js) or a plain
systemd-socket-activate, to compare with what it does under musterd (the
integration harness, ../integration/harness.py, runs that side).

Every wait has a deadline; every process started here is killed in cleanup.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
import node_support as ns  # noqa: E402

PRIMARY = os.path.join(HERE, "node_primary.js")
NODE = ns.NODE


def end_group(proc):
    """SIGKILL to the process group a reference runs in (its own session), then reaps it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


class NodePrimary:
    """`node [NODE_ARGS...] node_primary.js SCRIPT INSTANCES POLICY ARGS...`
    with its events (one dict per line of its stdout) read in the background."""

    def __init__(self, script, instances=2, policy="rr", args=(), env=None, cwd=None,
                 primary=PRIMARY, node_args=()):
        environ = dict(os.environ)
        environ.pop("NODE_UNIQUE_ID", None)
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [NODE, *node_args, primary, script, str(instances), policy, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=environ, cwd=cwd, start_new_session=True)
        self.events = []
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)

    def command(self, **cmd):
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def wait_events(self, event, count, timeout=15, where=None, **match):
        """The first `count` events of that kind (and fields, and for which
        `where(event)` is true), once there."""
        def found():
            got = [e for e in self.events if e["event"] == event
                   and all(e.get(k) == v for k, v in match.items())
                   and (where is None or where(e))]
            return got[:count] if len(got) >= count else None
        return harness.Poll.until(found, timeout * harness.SLOWDOWN,
                                  f"{count} {event} event(s) from the Node primary",
                                  lambda: f"\nevents: {self.events}")

    def close(self):
        end_group(self.proc)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TestCase(ns.TestCase):
    """A compat test: self.daemon() for musterd, self.node_primary(...) for
    the reference; both are cleaned up after the test."""

    def node_primary(self, script, **kw):
        p = NodePrimary(script, **kw)
        self.addCleanup(p.close)
        return p

    def socket_activate(self, listen, command, **kw):
        s = SocketActivate(listen, command, **kw)
        self.addCleanup(s.close)
        return s


SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")


class SocketActivate:
    """`systemd-socket-activate -l ADDRESS... [--fdname=NAMES] COMMAND...`:
    systemd's own socket activation of one service process, started at the
    first connection, with the sockets blocking (NonBlocking=no) as fds 3..
    Its output (it logs to stderr) is kept for failure messages."""

    def __init__(self, listen, command, fdnames=None):
        if SOCKET_ACTIVATE is None:
            raise RuntimeError("systemd-socket-activate is not installed (scripts/setup-deps)")
        args = [SOCKET_ACTIVATE]
        for address in listen:
            args += ["-l", address]
        if fdnames:
            args.append("--fdname=" + ":".join(fdnames))
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("LISTEN_", "NOTIFY_SOCKET"))}
        self.proc = subprocess.Popen(args + list(command), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=environ, start_new_session=True)
        self.output = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # It prints "Listening on ADDRESS as FD." once each socket is bound.
        harness.Poll.until(
            lambda: sum("Listening on" in line for line in self.output) >= len(listen) or
            self.proc.poll() is not None,
            10 * harness.SLOWDOWN, "systemd-socket-activate to listen", self.describe)
        if self.proc.poll() is not None:
            raise AssertionError("systemd-socket-activate exited" + self.describe())

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line.decode(errors="replace"))

    def describe(self):
        return "\nsystemd-socket-activate output:\n" + "".join(self.output)

    def close(self):
        end_group(self.proc)
        self.proc.stdout.close()
