"""What the config reload tests share (test_config_reload.py,
test_config_reload_files.py): the apps they run, reload_config and the
reply checks."""

import os
import time

import harness
import node_support as ns


HERE = os.path.dirname(os.path.abspath(__file__))
HELLO_JS = ns.script("hello.js")
SD_SERVER = os.path.join(HERE, "systemd_workers", "sd_server.py")

CHANGE_KEYS = ("apps_added", "apps_removed", "apps_reloaded", "apps_updated",
               "sockets_added", "sockets_removed", "sockets_rebound", "warnings")


# --- apps ----------------------------------------------------------------------

def sleeper(name, seconds="600", **keys):
    """A plain supervised process (protocol none): `sleep SECONDS`."""
    return harness.app(name, "sleep", args=[seconds], **keys)


def hello(name="web", socket="web", instances=2, **keys):
    """node_workers/hello.js on socket SOCKET (round-robin by default)."""
    return ns.node_app(name, "hello.js", instances=instances, sockets=[socket], **keys)


def sd_server(name="web", socket="web", instances=2, **keys):
    """systemd_workers/sd_server.py: serves whatever socket it is given as fd 3,
    whatever its address (so a rebound socket needs no change of the app)."""
    return harness.app(name, harness.PYTHON, args=[SD_SERVER], protocol="systemd",
                       instances=instances, sockets=[socket], **keys)


# --- reloading -----------------------------------------------------------------

def reload_config(d):
    return d.request({"verb": "reload-config"}, timeout=20)


def ids(workers):
    return [w["id"] for w in workers]


def pids(workers):
    return [w["pid"] for w in workers]


def identities(workers):
    """(instance, id, pid) of each worker: what must not change when an app
    is left alone."""
    return [(w["instance"], w["id"], w["pid"]) for w in workers]


def cmdline(pid, timeout=5.0):
    """A worker's argv. Read empty for a moment after its pid is known, as
    its environment is (see harness.proc_environ): retried until a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = [a.decode() for a in f.read().split(b"\0") if a]
        if args or time.monotonic() > deadline:
            return args
        time.sleep(0.01)


def wait_gone(d, gone_pids, timeout=10):
    d.wait_for(lambda: not any(harness.pid_alive(p) for p in gone_pids), timeout,
               f"processes {sorted(gone_pids)} to exit")


def refused(port):
    """True if nothing accepts connections on 127.0.0.1:PORT."""
    try:
        with ns.connect(port, timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def fork_events(d, app):
    return d.events(event="fork", app=app)




class TestCase(ns.TestCase):
    def assert_changes(self, d, reply, **expected):
        """The reply is ok and lists exactly `expected` (every other list
        empty), and the latest `setup` event says the same."""
        self.assertIs(reply.get("ok"), True, f"{reply}{d.log_tail()}")
        want = {k: sorted(expected.get(k, [])) for k in CHANGE_KEYS}
        got = {k: sorted(reply.get(k, ["<missing>"])) for k in CHANGE_KEYS}
        if not expected.get("warnings"):
            want.pop("warnings")
            self.assertEqual(reply.get("warnings"), [], reply)
            got.pop("warnings")
        self.assertEqual(got, want, reply)
        setups = d.events(event="setup")
        self.assertTrue(setups, "no setup event")
        self.assertEqual({k: setups[-1].get(k) for k in CHANGE_KEYS},
                         {k: reply.get(k) for k in CHANGE_KEYS}, setups[-1])

    def wait_reload_done(self, d, app, count=1, timeout=15):
        """Waits for the `count`-th finished rolling reload of APP."""
        def done():
            events = d.events(event="reload", app=app)
            failed = [e for e in events if e.get("phase") == "failed"]
            self.assertEqual(failed, [], f"a rolling reload of {app} failed")
            finished = [e for e in events if e.get("phase") == "done"]
            return finished if len(finished) >= count else None
        return d.wait_for(done, timeout, f"rolling reload {count} of {app} to finish")
