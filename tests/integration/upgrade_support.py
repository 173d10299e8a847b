"""What the in-place upgrade tests (test_upgrade_in_place.py, issue 25) share: a config
with every kind of app an upgrade must carry (rr apps of Node and C++
workers, a systemd-protocol app), client load on the rr apps, a follower of
`musterctl events --follow`, and what "nothing changed" means in status.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import datetime
import json
import os
import subprocess
import time

import harness
import node_support as ns
import systemd_support as sd
from client_support import KeepAliveLoad, Load, ok

MUSTER_HELLO = os.path.join(harness.BUILD_DIR, "muster-hello")  # the C++ library's example


class TestCase(harness.TestCase):
    # Three upgrades under load on a 2-core box, or a 10 s bound waited out.
    timeout = 90

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing binary is an error, not a skip: a green run must mean tested.
        for exe in (harness.MUSTERD_ALT, MUSTER_HELLO, sd.SD_HELLO):
            if not os.access(exe, os.X_OK):
                raise RuntimeError(f"{exe} is not built (set MUSTER_BUILD_DIR)")
        if not ns.NODE:
            raise RuntimeError("node is not on PATH (scripts/setup-deps installs it)")

    def start(self, apps, env=None, **daemon_keys):
        """A Daemon running `apps` (TOML), started as the tests' musterd."""
        return self.daemon().start(apps, env=env, **daemon_keys)


# --- the config --------------------------------------------------------------

def node_rr(name, port, instances=2):
    """An rr app of hello.js workers on a declared socket NAME at 127.0.0.1:PORT
    (sockets bound on demand cross too: test_upgrade_in_place's WhatCrosses)."""
    return (ns.socket_table(name, f"127.0.0.1:{port}") +
            ns.node_app(name, "hello.js", instances=instances, sockets=[name], scheduling="rr",
                        env={"HELLO_PORT": str(port)}))


def cc_rr(name, port, instances=2):
    """An rr app of muster-hello (the C++ worker library's example server)."""
    return (ns.socket_table(name, f"127.0.0.1:{port}") +
            harness.app(name, MUSTER_HELLO, args=[str(port), "127.0.0.1"], protocol="node",
                        instances=instances, sockets=[name], scheduling="rr"))


def systemd_app(name):
    """A systemd-protocol app of sd_server.py on a socket of its own."""
    return ns.socket_table(name) + sd.sd_server_app(name, sockets=[name])


def wait_all_up(d, node=(), cc=(), systemd=()):
    """Waits until each named rr app has its 2 workers listening and each
    systemd app its worker ready."""
    for name in (*node, *cc):
        ns.wait_listening(d, name, 2)
    for name in systemd:
        sd.wait_ready(d, name)


# --- what must not change ----------------------------------------------------

WORKER_KEYS = ("id", "pid", "instance", "restarts", "state", "ready")


def workers_view(d):
    """{app: [worker fields that an upgrade must keep]}, from status."""
    return {a["name"]: sorted(tuple(w.get(k) for k in WORKER_KEYS) for w in a["workers"])
            for a in d.status()["apps"]}


# App-level numbers in status that an upgrade must keep ("pending", the
# connections held for a worker at this instant, comes and goes with load).
APP_KEYS = ("state", "instances", "config_instances", "ready", "restarts")


def counters_view(d):
    """{app: its restart counter and the like, from status}."""
    return {a["name"]: {k: a.get(k) for k in APP_KEYS} for a in d.status()["apps"]}


def version_of(d):
    reply = d.request({"verb": "version"})
    assert reply.get("ok"), reply
    return reply["version"]


# --- clients -----------------------------------------------------------------

class Clients:
    """On each port: `Connection: close` GETs and keep-alive sessions, all
    the time, lightly paced (the box has 2 cores and musterd must get its share)."""

    def __init__(self, test, ports):
        self.loads, self.closing = [], []
        for port in ports:
            self.closing.append(Load(test, port, threads=3, timeout=15, pause=0.005))
            self.loads.append(self.closing[-1])
            self.loads.append(KeepAliveLoad(test, port, threads=2, timeout=15, pause=0.01,
                                            per_connection=20))

    def answered(self):
        return [load.answered() for load in self.loads]

    def wait_progress(self, count=10, timeout=15):
        """Waits until every client pool has had `count` more answers."""
        before = self.answered()
        harness.Poll.until(
            lambda: all(now >= was + count for now, was in zip(self.answered(), before)),
            timeout, f"{count} more answers on every client pool",
            lambda: f"\nanswered before {before}, now {self.answered()}")

    def across(self, d):
        """How many `Connection: close` requests were in flight across each
        exec: from the log's "upgrade: executing" line to its "upgraded from"
        line (their wall-clock times, moved onto the monotonic clock)."""
        offset = time.time() - time.monotonic()

        def times(text):
            return [datetime.datetime.fromisoformat(line.split()[0]).timestamp() - offset
                    for line in d.log_text().splitlines() if text in line]
        return [sum(1 for load in self.closing for s, e, _ in list(load.results)
                    if s < end and e > start)
                for start, end in zip(times(" upgrade: executing "), times(" upgraded from "))]

    def stop(self):
        """Stops every client; returns (answered, failures) over all of them."""
        outcomes = [r for load in self.loads for _, _, r in load.stop()]
        return (sum(1 for r in outcomes if ok(r)), [r for r in outcomes if not ok(r)])


# --- followers and messages --------------------------------------------------

class Follower:
    """`musterctl --json events --follow`, its output in a file of the
    test's directory. Once made, it is following (its acknowledgement is in)."""

    def __init__(self, test, d, name="follower"):
        self.path = d.path(f"{name}.out")
        with open(self.path, "wb") as out:
            self.proc = subprocess.Popen(
                [harness.MUSTERCTL, "-s", d.socket_path, "--json", "events", "--follow"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        test.addCleanup(self.stop)
        d.wait_for(lambda: self.lines(), 10, "the follower's acknowledgement")
        assert self.lines()[0] == {"ok": True, "follow": True}, self.lines()

    def lines(self):
        with open(self.path, "rb") as f:
            text = f.read().decode(errors="replace")
        # Only complete lines: the last one may still be being written.
        return [json.loads(line) for line in text.split("\n")[:-1]]

    def wait_exit(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the follower still runs after {timeout}s: "
                                 f"{self.lines()[-3:]}") from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


def round_trip(d, app, token, follower=None):
    """`musterctl send APP {"token": TOKEN}`; waits until every worker of APP
    echoed it back (a `message` event from each, in `events` and, with
    `follower`, on its stream). Both hello.js and muster-hello echo as
    {"echo": MESSAGE, ...}."""
    payload = {"token": token}
    ids = sorted(w["id"] for w in d.workers(app))
    rc, out, err = d.ctl("send", app, json.dumps(payload))
    assert rc == 0, (rc, out, err)

    def echoed(events):
        return sorted(e["id"] for e in events if e.get("event") == "message" and
                      e.get("app") == app and isinstance(e.get("message"), dict) and
                      e["message"].get("echo") == payload)
    d.wait_for(lambda: echoed(d.events()) == ids, 10, f"{app}'s workers {ids} to echo {token}")
    if follower is not None:
        d.wait_for(lambda: echoed(follower.lines()) == ids, 10,
                   f"the follower to see {app}'s echoes of {token}")


def notify_status(d, app, port, text):
    """Makes APP's sd_server.py worker send STATUS=TEXT on its notify socket
    (from its own pid); waits until status shows it."""
    sd.worker_notify(port, b"STATUS=" + text.encode())
    d.wait_for(lambda: d.workers(app)[0].get("status") == text, 10,
               f"STATUS={text} of {app} in status")
