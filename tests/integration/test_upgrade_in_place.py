"""musterd upgrades itself in place (issue 25; README, "Upgrading musterd in
place"): `musterctl upgrade --binary PATH` or SIGUSR2 execs a new binary under
the same pid, and no worker notices. The two builds are build/musterd and the
test-only build/musterd-alt (version "<version>+alt"; with
MUSTER_TEST_CRASH_DURING_RESTORE=1 in musterd's environment it aborts while
restoring, for the fault test).

Proved here: three upgrades under load (old, new, old, new) lose no request
and keep every pid, counter, channel and notify socket; a crash while
restoring resumes the old musterd; refusals (a binary that does not run,
something busy past the 10 s bound, a client that is neither root nor
musterd's user) change nothing; SIGUSR2 upgrades to the start path.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

import ctlsock_support as cs
import harness
import node_support as ns
import systemd_support as sd
import upgrade_support as us
from harness import MUSTERD, MUSTERD_ALT

CRASH_HOOK = "MUSTER_TEST_CRASH_DURING_RESTORE"


def upgrade_pairs(d):
    """(event, from, to) of every upgrading and upgraded event, oldest first."""
    return [(e["event"], e["from"], e["to"]) for e in d.events()
            if e["event"] in ("upgrading", "upgraded")]


class UnderLoad(us.TestCase):
    def test_three_upgrades_under_load(self):
        node_port, cc_port = ns.free_port(), ns.free_port()
        d = self.start(us.node_rr("node", node_port) + us.cc_rr("cc", cc_port) +
                       us.systemd_app("sys"))
        us.wait_all_up(d, node=["node"], cc=["cc"], systemd=["sys"])
        sys_port = sd.bound_port(d, "sys")
        workers, counters = us.workers_view(d), us.counters_view(d)
        base = us.version_of(d)
        alt = base + "+alt"
        us.round_trip(d, "node", "before any upgrade")
        clients = us.Clients(self, [node_port, cc_port])
        clients.wait_progress()
        steps = [(MUSTERD_ALT, base, alt), (MUSTERD, alt, base), (MUSTERD_ALT, base, alt)]
        for n, (binary, was, now) in enumerate(steps, 1):
            follower = us.Follower(self, d, f"follower{n}")
            us.round_trip(d, "node", f"followed {n}", follower)  # it follows live
            rc, out, err = d.ctl("upgrade", "--binary", binary, timeout=40)
            self.assertEqual((rc, out, err),
                             (0, f"upgraded from {was} to {now} (pid {d.proc.pid})\n", ""),
                             d.log_tail())
            # The follower's stream ended with the upgrading event, exit 0.
            self.assertEqual(follower.wait_exit(), 0)
            last = follower.lines()[-1]
            self.assertEqual((last["event"], last["from"], last["to"]), ("upgrading", was, now))
            self.assertIsNone(d.proc.poll(), "musterd's pid ended")
            self.assertEqual(us.version_of(d), now)
            self.assertEqual(us.workers_view(d), workers, f"after upgrade {n}")
            self.assertEqual(us.counters_view(d), counters, f"after upgrade {n}")
            # Both directions of each channel, and the notify socket.
            us.round_trip(d, "node", f"after {n}")
            us.round_trip(d, "cc", f"after {n}")
            us.notify_status(d, "sys", sys_port, f"after {n}")
            clients.wait_progress()
        across = clients.across(d)  # waiting in the backlog while the exec ran
        answered, failures = clients.stop()
        print(f"\n  3 upgrades under load: {answered} answered, {len(failures)} failed; "
              f"Connection: close requests in flight across each exec: {across}",
              file=sys.stderr)
        self.assertEqual(failures[:10], [], f"{len(failures)} of {answered + len(failures)}")
        self.assertGreater(answered, 100)
        self.assertEqual(len(across), 3, across)
        self.assertTrue(all(across), f"an exec with no request in flight: {across}")
        self.assertEqual(upgrade_pairs(d), [(kind, was, now) for _, was, now in steps
                                            for kind in ("upgrading", "upgraded")])
        # The history crossed every exec: what happened before is still there.
        self.assertEqual(len([e for e in d.events(event="message", app="node")
                              if e["message"] == {"echo": {"token": "before any upgrade"},
                                                  "worker": e["id"]}]),
                         2, "the echoes from before the first upgrade were lost")
        self.assertEqual(us.workers_view(d), workers)
        # The systemd app's machinery crossed too: a reload starts a new worker
        # that gets ready on the notify socket, and retires the old one.
        (old,) = d.workers("sys")
        rc, out, err = d.ctl("reload", "sys", timeout=30)
        self.assertEqual(rc, 0, out + err)
        new = sd.wait_replaced(d, "sys", old["id"], ready=True)
        self.assertNotEqual(new["pid"], old["pid"])
        d.wait_for(lambda: not harness.pid_alive(old["pid"]), 10, "the old sys worker to end")


class Faults(us.TestCase):
    def test_crash_during_restore_resumes_the_old_one(self):
        port = ns.free_port()
        d = self.start(us.node_rr("node", port), env={CRASH_HOOK: "1"})
        us.wait_all_up(d, node=["node"])
        workers, counters, base = us.workers_view(d), us.counters_view(d), us.version_of(d)
        clients = us.Clients(self, [port])
        clients.wait_progress()
        rc, out, err = d.ctl("upgrade", "--binary", MUSTERD_ALT, timeout=40)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(f"upgrade failed: musterd {base}+alt crashed while restoring; "
                      f"musterd {base} resumed", err)
        self.assert_unchanged(d, workers, counters, base, "after the crash")
        (failed,) = d.events(event="upgrade_failed")
        self.assertEqual(failed["to"], base + "+alt")
        self.assertIn("crashed", failed["error"])
        us.round_trip(d, "node", "after the crash")
        clients.wait_progress()
        # A binary that is not there: refused before anything is handed over.
        rc, out, err = d.ctl("upgrade", "--binary", "/nonexistent", timeout=40)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("upgrade refused", err)
        self.assert_unchanged(d, workers, counters, base, "after the refusal")
        # musterd itself has no crash hook: with the same state it upgrades.
        rc, out, err = d.ctl("upgrade", "--binary", MUSTERD, timeout=40)
        self.assertEqual((rc, err), (0, ""), d.log_tail())
        self.assertEqual(out, f"upgraded from {base} to {base} (pid {d.proc.pid})\n")
        self.assert_unchanged(d, workers, counters, base, "after the last upgrade")
        us.round_trip(d, "node", "after the last upgrade")
        clients.wait_progress()
        answered, failures = clients.stop()
        self.assertEqual(failures[:10], [], f"{len(failures)} of {answered + len(failures)}")
        self.assertEqual([e["event"] for e in d.events()
                          if e["event"] in ("upgrading", "upgraded", "upgrade_failed")],
                         ["upgrading", "upgrade_failed", "upgrading", "upgraded"])

    def assert_unchanged(self, d, workers, counters, version, when):
        self.assertIsNone(d.proc.poll(), f"musterd ended {when}")
        self.assertEqual(us.version_of(d), version, when)
        self.assertEqual(us.workers_view(d), workers, when)
        self.assertEqual(us.counters_view(d), counters, when)

    def test_refused_while_busy(self):
        port = ns.free_port()
        d = self.start(us.node_rr("node", port) + ns.socket_table("slow") +
                       sd.sd_server_app("slow", sockets=["slow"], ready_timeout="120s",
                                        env={"SD_SERVER_NO_READY": "1"}))
        us.wait_all_up(d, node=["node"])
        (slow,) = d.wait_workers("slow", 1, state="online")
        workers, counters, base = us.workers_view(d), us.counters_view(d), us.version_of(d)
        clients = us.Clients(self, [port])  # each waits up to 15 s: past the bound
        clients.wait_progress()
        started = time.monotonic()
        rc, out, err = d.ctl("upgrade", "--binary", MUSTERD_ALT, timeout=40)
        took = time.monotonic() - started
        self.assertEqual(rc, 1, out + err)
        self.assertIn(f"upgrade refused: still busy after 10 s: slow[{slow['id']}] "
                      "is not ready yet", err)
        self.assertTrue(9 <= took < 20 * harness.SLOWDOWN, f"refused after {took:.1f} s")
        # Accepting resumed: a new connection is answered at once.
        self.assertEqual(ns.http_request(port, timeout=5)[0], 200)
        clients.wait_progress()
        answered, failures = clients.stop()
        self.assertEqual(failures[:10], [], f"{len(failures)} of {answered + len(failures)}")
        self.assert_unchanged(d, workers, counters, base, "after the refusal")
        self.assertEqual(upgrade_pairs(d), [])

    @cs.needs_setpriv
    def test_non_root_client_refused(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)  # nobody reaches the socket; its group lets it in
        d.start(harness.app("a", "sleep", args=["1000"]), control_group="nogroup")
        d.wait_workers("a", 1)
        workers, base = us.workers_view(d), us.version_of(d)

        def as_nobody(*args):
            return subprocess.run([*cs.AS_NOBODY, harness.MUSTERCTL, "-s", d.socket_path, *args],
                                  capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
        self.assertEqual(as_nobody("ping").returncode, 0, "a control_group member is let in")
        r = as_nobody("upgrade", "--binary", MUSTERD_ALT)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("upgrade refused: only root or musterd's own user (uid 0) may upgrade "
                      f"it; you are uid {cs.NOBODY}", r.stderr)
        self.assertEqual((us.version_of(d), us.workers_view(d)), (base, workers))
        self.assertEqual(upgrade_pairs(d), [])


# Prints a numbered line every 20 ms: its output must flow across the exec.
TICKER = f"""#!{harness.PYTHON}
import itertools, time
for n in itertools.count():
    print("tick", n, flush=True)
    time.sleep(0.02)
"""


def ticks(d, app):
    """The tick numbers `logs APP` shows, oldest first."""
    rc, out, err = d.ctl("logs", app, "-n", "1000")
    assert rc == 0, out + err
    return [int(line.split()[-1]) for line in out.splitlines() if " tick " in line]


class WhatCrosses(us.TestCase):
    def test_on_demand_sockets_output_pipes_and_log_tails_cross(self):
        port = ns.free_port()
        d = self.daemon()
        d.write_script("ticker.py", TICKER)
        # No [sockets] table: hello.js's listen() gets a socket bound on demand.
        d.start(harness.app("ticker", "./ticker.py", cwd=".") +
                ns.node_app("od", "hello.js", instances=2, scheduling="rr",
                            env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "od", 2)
        d.wait_for(lambda: len(ticks(d, "ticker")) > 10, 10, "ticks in the logs")
        first = ticks(d, "ticker")[0]
        on_demand = [s for s in d.status()["sockets"] if s.get("on_demand")]
        self.assertEqual(len(on_demand), 1, on_demand)
        workers, base = us.workers_view(d), us.version_of(d)
        follower = subprocess.Popen(
            [harness.MUSTERCTL, "-s", d.socket_path, "--json", "logs", "ticker", "--follow"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: follower.poll() is None and follower.kill())
        for binary in (MUSTERD_ALT, MUSTERD):
            rc, out, err = d.ctl("upgrade", "--binary", binary, timeout=40)
            self.assertEqual(rc, 0, out + err + d.log_tail())
            self.assertEqual(ns.http_request(port, timeout=5)[0], 200)
        self.assertEqual(us.version_of(d), base)
        # The follower's last line says why its stream ended.
        out, _ = follower.communicate(timeout=10)
        last = json.loads(out.decode().splitlines()[-1])
        self.assertIn("musterd is upgrading itself in place", last["line"], out[-300:])
        # Same workers; the socket bound on demand is the same socket.
        self.assertEqual(us.workers_view(d), workers)
        self.assertEqual([s for s in d.status()["sockets"] if s.get("on_demand")], on_demand)
        # The ticker's pipe crossed twice: no tick lost, none missing in the
        # tail, and the lines from before the first upgrade are still shown.
        d.wait_for(lambda: ticks(d, "ticker")[-1] > first + 60, 10, "more ticks")
        seen = ticks(d, "ticker")
        self.assertEqual(seen, list(range(seen[0], seen[0] + len(seen))))
        self.assertLessEqual(seen[0], first)
        self.assertEqual(d.events(event="exit"), [])


    def test_reuseport_slot_sockets_cross(self):
        port = ns.free_port()
        d = self.start(ns.socket_table("web", f"127.0.0.1:{port}") +
                       ns.node_app("web", "hello.js", instances=2, sockets=["web"],
                                   scheduling="reuseport",
                                   env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 2)
        # In name order: each slot's socket opens when its worker starts,
        # which may be slot 1 first; the new musterd opens them in name order.
        def by_name():
            return sorted(d.status()["sockets"], key=lambda s: s["name"])
        sockets, workers = by_name(), us.workers_view(d)
        self.assertEqual([s["name"] for s in sockets], ["web#0", "web#1"])
        rc, out, err = d.ctl("upgrade", "--binary", MUSTERD_ALT, timeout=40)
        self.assertEqual(rc, 0, out + err + d.log_tail())
        # musterd holds each slot's socket again (so that connections queued
        # on it wait for the slot's next worker), none closed as unknown.
        self.assertEqual(by_name(), sockets)
        self.assertEqual(us.workers_view(d), workers)
        self.assertNotIn("which the config does not name", d.log_text())
        self.assertEqual(ns.http_request(port, timeout=5)[0], 200)


class Sigusr2(us.TestCase):
    def test_sigusr2_upgrades_to_the_start_path(self):
        port = ns.free_port()
        d = self.start(us.node_rr("node", port))
        us.wait_all_up(d, node=["node"])
        workers, base = us.workers_view(d), us.version_of(d)
        alt = base + "+alt"
        d.signal(signal.SIGUSR2)
        d.wait_log(f"upgraded from {base} to {base}", timeout=30)
        self.assertEqual((us.version_of(d), us.workers_view(d)), (base, workers))
        # From musterd-alt, SIGUSR2 goes back to the path musterd was started
        # from: it crossed the exec, it is not the running binary.
        rc, out, err = d.ctl("upgrade", "--binary", MUSTERD_ALT, timeout=40)
        self.assertEqual(rc, 0, out + err)
        d.signal(signal.SIGUSR2)
        d.wait_log(f"upgraded from {alt} to {base}", timeout=30)
        self.assertEqual((us.version_of(d), us.workers_view(d)), (base, workers))
        self.assertEqual(upgrade_pairs(d), [(kind, was, now) for was, now in
                                            ((base, base), (base, alt), (alt, base))
                                            for kind in ("upgrading", "upgraded")])
        us.round_trip(d, "node", "after SIGUSR2")
        self.assertEqual(ns.http_request(port)[0], 200)


if __name__ == "__main__":
    unittest.main()
