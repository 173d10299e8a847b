"""musterd as a container's entrypoint (docs/kubernetes.md): PID 1 of a PID
namespace reaps the orphans its workers leave, stops everything on SIGTERM
with exit code 0, and a second SIGTERM stops at once."""

import os
import shutil
import signal
import subprocess
import time
import unittest

import ctlsock_support
import harness
from harness import app

# Keeps leaving orphans behind: each round a subshell starts a short sleep in
# the background and exits, so the sleep is reparented (to PID 1, or to
# musterd as child subreaper), exits 50 ms later and must be reaped there.
ORPHANS = """#!/bin/sh
echo $$ > worker.pid
while :; do
  ( sleep 0.05 & )
  sleep 0.02
done
"""

IGNORES_TERM = """#!/bin/sh
trap '' TERM
echo yes > "trapped-$MUSTER_WORKER_ID"
while :; do sleep 0.1; done
"""


def children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(p) for p in f.read().split()]
    return out


def state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def pid_namespace(pid):
    return os.readlink(f"/proc/{pid}/ns/pid")


def in_namespace(ns):
    """Host pids of every process whose PID namespace is `ns`."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if pid_namespace(int(entry)) == ns:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "a new PID namespace needs root and unshare (CI runs as root)")
class Pid1(harness.TestCase):
    def test_as_pid_1_orphans_are_reaped_and_sigterm_stops_everything_with_0(self):
        d = self.daemon()
        d.write_script("orphans.sh", ORPHANS)
        d.write_config(app("orphans", "./orphans.sh", cwd="."))
        with open(d.log_path, "ab") as log:
            outer = subprocess.Popen(
                ["unshare", "--pid", "--fork", "--mount-proc", harness.MUSTERD, "-c",
                 d.config_path], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=d.dir, start_new_session=True)
        self.addCleanup(lambda: outer.poll() is None and os.killpg(outer.pid, signal.SIGKILL))
        musterd = d.wait_for(lambda: children(outer.pid) and children(outer.pid)[0], 10,
                             "musterd under unshare")
        ns = pid_namespace(musterd)
        self.assertNotEqual(ns, pid_namespace(os.getpid()))
        with open(f"/proc/{musterd}/status") as f:
            nspid = [line.split()[-1] for line in f if line.startswith("NSpid:")][0]
        self.assertEqual(nspid, "1", "musterd is PID 1 of its namespace")
        d.wait_for(lambda: d.read_file("worker.pid"), 10, "the worker")
        # Two seconds of orphans (about 100 of them): none is left a zombie
        # for long. A zombie may exist for a moment; count those that stay.
        time.sleep(2)
        lingering = [p for p in children(musterd) if state(p) == "Z"]
        time.sleep(0.5)
        lingering = [p for p in lingering if os.path.exists(f"/proc/{p}") and state(p) == "Z"]
        self.assertEqual(lingering, [], "zombies that musterd did not reap")
        self.assertGreater(len(in_namespace(ns)), 2, "the worker and its orphans run")
        os.kill(musterd, signal.SIGTERM)
        self.assertEqual(outer.wait(timeout=15), 0, d.log_tail())
        self.assertEqual(in_namespace(ns), [], "a process of the namespace survived")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "a private mount namespace needs root and unshare (CI runs as root)")
class ReadOnlyRoot(harness.TestCase):
    def test_roots_default_control_socket_needs_no_writable_tmp(self):
        # Before issue 19 the default was /tmp/muster-UID.sock, so musterd
        # failed to start with /tmp read-only; now root's is /run/muster.
        d = self.daemon()
        d.write_file("muster.toml", app("web", "sleep", args=["1000"]))  # no control_socket
        r = ctlsock_support.run_in_namespace(d, """
mount -o remount,ro /tmp
$MUSTERD -c /run/t/muster.toml >/run/t/musterd.log 2>&1 &
wait_ping $MUSTERCTL || { echo "musterd does not answer"; cat /run/t/musterd.log; }
$MUSTERCTL ping
[ -S /run/muster/muster.sock ] && echo "a socket at /run/muster/muster.sock"
$MUSTERCTL shutdown >/dev/null
wait
""")
        self.assertIn("pong", r.stdout)
        self.assertIn("a socket at /run/muster/muster.sock", r.stdout)

    def test_with_run_read_only_root_uses_a_private_directory_in_tmp(self):
        d = self.daemon()
        d.write_file("muster.toml", app("web", "sleep", args=["1000"]))  # no control_socket
        r = ctlsock_support.run_in_namespace(d, """
mount -o remount,ro /run
$MUSTERD -c /run/t/muster.toml >/run/t/musterd.log 2>&1 &
wait_ping $MUSTERCTL || { echo "musterd does not answer"; cat /run/t/musterd.log; }
$MUSTERCTL ping
stat -c 'directory %a %U' /tmp/muster-0
[ -S /tmp/muster-0/muster.sock ] && echo "a socket at /tmp/muster-0/muster.sock"
$MUSTERCTL shutdown >/dev/null
wait
""")
        self.assertIn("pong", r.stdout)
        self.assertIn("directory 700 root", r.stdout)
        self.assertIn("a socket at /tmp/muster-0/muster.sock", r.stdout)


class SecondSignal(harness.TestCase):
    def test_a_second_sigterm_stops_at_once(self):
        # Before: the second SIGTERM was ignored; musterd waited out
        # shutdown_timeout (here 30 s) for a worker that ignores SIGTERM.
        d = self.daemon()
        d.write_script("stubborn.sh", IGNORES_TERM)
        d.start(app("web", "./stubborn.sh", cwd=".", stop_timeout="30s"),
                shutdown_timeout="30s")
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: d.read_file(f"trapped-{w['id']}"), 5, "the worker's TERM trap")
        d.signal(signal.SIGTERM)
        d.wait_log("shutting down")
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertFalse(harness.pid_alive(w["pid"]))

    def test_one_sigterm_stops_gracefully_with_exit_code_0(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        workers = d.wait_workers("web", 2)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(10), 0)
        self.assertFalse(any(harness.pid_alive(w["pid"]) for w in workers))


if __name__ == "__main__":
    unittest.main()
