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


class NodePrimary:
    """`node node_primary.js SCRIPT INSTANCES POLICY ARGS...` with its events
    (one dict per line of its stdout) read in the background."""

    def __init__(self, script, instances=2, policy="rr", args=(), env=None, cwd=None):
        environ = dict(os.environ)
        environ.pop("NODE_UNIQUE_ID", None)
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [NODE, PRIMARY, script, str(instances), policy, *args],
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
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
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
