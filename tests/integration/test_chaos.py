"""Chaos, bounded: the daemon under a worker kill storm with HTTP load, a
restart churn, workers that break their IPC channel, a crowd of bad control
clients, and a worker that fills its process group with children. Each test
checks the daemon's vital signs afterwards (fds, RSS, zombies). The long
versions of the storm and the churn are scripts/soak (bench/RELIABILITY.md).
"""

import json
import os
import signal
import socket
import threading
import time
import unittest

import chaos_support as cs
import harness
import node_support as ns
from node_support import node_app, socket_table

# How much musterd's RSS may differ from its baseline after churn: allocator
# slack, not growth per worker (which would be megabytes here).
RSS_SLACK = 2 << 20


class KillStorm(ns.TestCase):
    timeout = 120

    def test_a_sigkill_storm_under_load_loses_no_connection_in_the_daemons_hands(self):
        d = self.daemon()
        os.makedirs(d.path("accepted"))
        d.start(cs.storm_app(env={"STORM_LOG_DIR": d.path("accepted")}), log_level="debug")
        port = ns.bound_port(d, "web")
        cs.settle(d, "storm", 4)
        # Warm up (first connections, first restarts), then take the baseline.
        cs.Storm(d, "storm", port, d.path("accepted"), duration=1.0, period=0.25).run()
        baseline = cs.settle(d, "storm", 4)

        storm = cs.Storm(d, "storm", port, d.path("accepted"), duration=10.0, period=0.1).run()
        summary = storm.summary()
        print(f"\nkill storm: {cs.to_json(summary)}")
        self.assertIsNone(d.proc.poll(), "musterd died in the storm")
        self.assertEqual(storm.status_errors, [])
        self.assertGreaterEqual(summary["kills"], 50, "the storm did not storm")
        self.assertGreater(summary["ok"], 100, "too little load to mean anything")
        self.assertEqual(storm.lost(), [], "requests that failed without a killed worker "
                                           "having had them: the daemon lost them")
        self.assertLess(summary["status_p99_ms"], 1000 * harness.SLOWDOWN, summary)
        self.assertLess(summary["status_max_ms"], 3000 * harness.SLOWDOWN, summary)

        after = cs.settle(d, "storm", 4)
        print(f"fds by kind after the storm, minus the baseline: "
              f"{cs.fd_kinds_added(baseline['fd_targets'], after['fd_targets'])}")
        # Two more than the baseline were seen to stay (here, 2 runs of 3
        # under a loaded ctest; the fds then were the 4 workers' channels and
        # pidfds, the listening socket, its rr dup and the control socket: a
        # full set), so the baseline can be two short. A leak per kill or per
        # connection would be dozens (the storm kills at least 50 workers).
        cs.wait_back_to(d, baseline["fds"] + 2, baseline_targets=baseline["fd_targets"])
        self.assertEqual(cs.zombies_of(d.proc.pid), [])
        harness.assert_rss_below(self, after["rss"], baseline["rss"] + RSS_SLACK, (baseline, after))
        # Connections that a dying worker never touched went to another one.
        rescued = d.log_text().count("which left before touching it")
        print(f"connections handed on from a killed worker: {rescued}")
        self.assertEqual(ns.http_request(port)[0], 200)


class RestartChurn(harness.TestCase):
    timeout = 120

    def test_500_restarts_leave_the_daemons_fds_and_rss_flat(self):
        d = self.daemon()
        d.start(cs.churn_app())
        # The event history (1000 events) is full after a few hundred restarts:
        # the baseline is taken past that point.
        cs.wait_restarts(d, 400, 60)
        base = cs.vitals(d.proc.pid)
        cs.wait_restarts(d, 900, 60)
        after = cs.vitals(d.proc.pid)
        print(f"\nrestart churn: at 400 starts {base}, at 900 {after}")
        # Either reading may catch up to 2 workers in flight (a pidfd and an
        # output pipe each) and a spawn in progress (its /dev/null): a leak of
        # one fd per restart would show as hundreds.
        self.assertLessEqual(after["fds"], base["fds"] + 5, (base, after))
        harness.assert_rss_below(self, after["rss"], base["rss"] + RSS_SLACK, (base, after))
        self.assertEqual(d.request({"verb": "stop", "app": "churn"})["ok"], True)
        d.wait_for(lambda: not cs.zombies_of(d.proc.pid), 10, "no zombies")
        # The baseline may have caught 0, 1 or 2 workers in flight (each holds
        # a pidfd and an output pipe in musterd): with none left, at most that.
        d.wait_for(lambda: cs.fd_count(d.proc.pid) <= base["fds"] or None, 10,
                   "the stopped app's fds released")

    def test_a_worker_whose_exec_fails_after_fork_leaves_no_zombie(self):
        # Executable by mode, but not a program: execve fails (ENOEXEC) in the
        # forked child, which must still be reaped.
        d = self.daemon()
        d.write_script("not-a-program", "\x7fELF but not really\n")
        d.start(harness.app("broken", "./not-a-program", cwd=".", restart_delay="1ms",
                            restart_delay_max="1ms", max_restarts=100000000))
        d.wait_for(lambda: d.log_text().count("spawn failed") >= 20 or None, 20,
                   "20 failed starts")
        d.wait_for(lambda: not cs.zombies_of(d.proc.pid), 5,
                   f"no zombie children (have {cs.zombies_of(d.proc.pid)})")
        self.assertIn("cannot start", d.log_text())


def can_set_last_pid():
    """Whether this process may write the kernel's last allocated pid (root
    with CAP_SYS_ADMIN over its pid namespace): writes back what it reads."""
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            last = f.read().strip()
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(last)
        return True
    except OSError:
        return False


class PidReuse(harness.TestCase):
    """A replacement worker may be given the pid of the worker it replaces
    (pids wrap, 32768 by default). Boost.Process's handle for the old worker
    used to kill and block-wait on "its" pid when it was destroyed, after the
    refill had been spawned: the replacement died at once (an exit with no
    status, counted as a crash). The pid is reused here on purpose, by setting
    the kernel's last allocated pid (root only)."""
    timeout = 60

    @unittest.skipUnless(can_set_last_pid(), "needs root (writes /proc/sys/kernel/ns_last_pid)")
    def test_a_replacement_given_the_old_workers_pid_is_left_alone(self):
        d = self.daemon()
        d.start(harness.app("sleeper", "/bin/sleep", args=["600"], restart="always",
                            restart_delay="5s"))
        reused = 0
        # Any process or thread started on the machine in between takes the
        # pid first, so a few tries may be needed.
        for _ in range(50):
            (old,) = d.wait_workers("sleeper", 1)
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(old["pid"] - 1))
            # Over the control socket, not musterctl: no process of ours may
            # take the pid. An operator's kill is voluntary: refilled at once.
            self.assertTrue(d.request({"verb": "kill", "id": old["id"],
                                       "signal": "SIGKILL"})["ok"])
            (new,) = d.wait_for(
                lambda: [w for w in d.workers("sleeper")
                         if w["id"] > old["id"] and w["state"] == "online"] or None,
                10, "the refill")
            if new["pid"] != old["pid"]:
                continue
            reused += 1
            d.holds(lambda: [w["id"] for w in d.workers("sleeper")] == [new["id"]], 0.3,
                    f"the refill with the reused pid {new['pid']} staying up")
            self.assertEqual(ns.events(d, event="exit", id=new["id"]), [])
            self.assertIn(cs.proc_stat(new["pid"]), [("S", d.proc.pid), ("R", d.proc.pid)])
            if reused == 3:
                break
        self.assertGreater(reused, 0, "no refill was given its predecessor's pid in 50 tries")


class BadChannels(ns.TestCase):
    """Workers that break Node's channel framing (chaos_workers/bad_channel.py)
    are disconnected and replaced; a well-behaved app next to them is not
    disturbed. (test_node_messages.py covers garbage, blank lines, NODE_HANDLE
    without an fd, stray ACKs, an over-long message and a message flood.)"""

    def misbehave(self, mode, complaint=None, replaced_by="SIGKILL"):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("good", "hello.js", sockets=["web"], instances=2) +
                harness.app("bad", harness.PYTHON, args=[cs.chaos_worker("bad_channel.py")],
                            cwd=".", protocol="node", env={"BAD_MODE": mode}))
        good = ns.wait_listening(d, "good", 2)
        first = ns.wait_event(d, event="fork", app="bad")
        gone = ns.wait_event(d, event="exit", app="bad", id=first["id"], timeout=20)
        self.assertEqual(gone["signal"], replaced_by)
        self.assertFalse(gone["voluntary"])
        if complaint:
            self.assertIn(f"bad[{first['id']}] broke the IPC protocol ({complaint}", d.log_text())
        replacement = ns.wait_event(d, event="fork", app="bad",
                                    where=lambda e: e["id"] > first["id"])
        self.assertGreater(replacement["id"], first["id"])
        # The good app kept its workers and serves.
        self.assertEqual([w["id"] for w in ns.wait_listening(d, "good", 2)],
                         [w["id"] for w in good])
        self.assertEqual(ns.failures(ns.get_many(ns.bound_port(d, "web"), 20)), [])
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})
        return d

    def test_a_worker_sending_fds_with_ordinary_messages_is_killed_and_replaced(self):
        self.misbehave("fds-unasked", "worker sent file descriptors without NODE_HANDLE")

    def test_a_worker_sending_a_burst_of_fds_is_killed_and_replaced(self):
        self.misbehave("fds-burst", "worker sent more file descriptors than allowed")

    def test_a_worker_trickling_an_oversized_line_is_killed_and_replaced(self):
        self.misbehave("oversized", "worker sent a message over 1 MiB")

    def test_a_worker_closing_its_channel_mid_message_is_stopped_and_replaced(self):
        # EOF with half a message: not a message, and the worker is leaving;
        # it lingers, so stop_timeout ends it.
        d = self.misbehave("close-mid-message")
        self.assertNotIn("broke the IPC protocol", d.log_text())
        self.assertEqual(ns.events(d, event="listening", app="bad"), [])

    def test_a_worker_that_never_reads_its_channel_is_dropped_when_its_queue_is_full(self):
        d = self.daemon()
        d.start(harness.app("bad", harness.PYTHON, args=[cs.chaos_worker("bad_channel.py")],
                            cwd=".", protocol="node", env={"BAD_MODE": "deaf"}))
        first = ns.wait_event(d, event="fork", app="bad")
        d.wait_for(lambda: d.read_file(f"bad-{first['pid']}"), 10, "the deaf worker online")
        payload = {"pad": "x" * 60000}
        with d.connect() as c:
            for _ in range(200):  # 12 MB, over the 8 MiB bound
                reply = c.request({"verb": "send", "id": first["id"], "message": payload})
                if not reply.get("ok") or reply.get("sent") == 0:
                    break
        gone = ns.wait_event(d, event="exit", app="bad", id=first["id"], timeout=20)
        self.assertEqual(gone["signal"], "SIGKILL")
        self.assertIn("worker does not read its channel", d.log_text())
        ns.wait_event(d, event="fork", app="bad", where=lambda e: e["id"] > first["id"])
        harness.assert_rss_below(self, cs.rss_bytes(d.proc.pid), 100 << 20)


class ControlCrowd(harness.TestCase):
    timeout = 90

    def test_200_bad_control_clients_do_not_delay_a_good_one(self):
        d = self.daemon()
        d.start(harness.app("sleeper", "/bin/sleep", args=["600"], instances=2))
        d.wait_workers("sleeper", 2)
        base_fds = cs.fd_count(d.proc.pid)
        crowd = []
        try:
            for i in range(200):
                s = socket.socket(socket.AF_UNIX)
                s.connect(d.socket_path)  # blocking: waits while the backlog is full
                s.settimeout(10)
                crowd.append(s)
                kind = i % 5
                if kind == 1:
                    s.sendall(b'{"verb": "sta')               # half a line, forever
                elif kind == 2:
                    s.sendall(b'{"verb":"status"}\n' * 200)   # pipelined, never reads the replies
                elif kind == 3:
                    s.sendall(b"\x00garbage\xff{{{\n" * 50)   # nonsense, keeps the line
                elif kind == 4:
                    try:
                        s.sendall(b"x" * (1200 << 10))         # a line over 1088 KiB
                    except OSError:
                        pass  # the daemon hung up mid-line: fine
                # kind 0: connects and never says anything
            slowest = 0.0
            for _ in range(20):
                seconds, reply = cs.timed_status(d)
                self.assertTrue(reply["ok"])
                slowest = max(slowest, seconds)
            rc, out, err = d.ctl("ping")
            self.assertEqual(rc, 0, err)
            print(f"\n200 bad clients: slowest status {slowest * 1000:.0f} ms, "
                  f"musterd fds {cs.fd_count(d.proc.pid)}, rss {cs.rss_bytes(d.proc.pid) >> 20} MiB")
            self.assertLess(slowest, 1.0 * harness.SLOWDOWN)
            # The over-long lines were answered with an error and closed.
            for s in crowd[4::5]:
                s.settimeout(10)
                self.assertIn(b"request line too long", harness.recv_until_eof(s))
        finally:
            for s in crowd:
                s.close()
        cs.wait_back_to(d, base_fds)
        self.assertEqual(d.request({"verb": "ping"}), {"ok": True, "pong": True})


class ForkBomb(harness.TestCase):
    timeout = 90

    def start_forker(self, d, **env):
        d.start(harness.app("forker", harness.PYTHON, args=[cs.chaos_worker("forker.py")],
                            cwd=".", stop_timeout="2s", restart="never", env=env))
        return d.wait_workers("forker", 1)[0]

    def pids(self, d, expected):
        def all_noted():
            lines = d.read_file("pids").splitlines()
            return lines if len(lines) >= expected and d.read_file("ready") else None
        lines = d.wait_for(all_noted, 30, f"{expected} processes started")
        return [(kind, int(pid)) for kind, pid in (l.split() for l in lines)]

    def test_stop_ends_the_whole_process_group_even_if_it_ignores_sigterm(self):
        d = self.daemon()
        w = self.start_forker(d, FORKS="50", GRANDCHILDREN="2")
        procs = self.pids(d, 1 + 50 * 3)
        self.assertTrue(all(harness.pid_alive(p) for _, p in procs))
        self.assertEqual(d.request({"verb": "stop", "app": "forker"}, timeout=30)["ok"], True)
        d.wait_for(lambda: not [p for _, p in procs if harness.pid_alive(p)], 15,
                   "every process of the worker's group gone")
        # The group's members were orphaned when the worker died: musterd, a
        # subreaper, adopted and reaped them.
        d.wait_for(lambda: not cs.zombies_of(d.proc.pid), 10, "no zombies left")
        self.assertEqual(harness.children_of(d.proc.pid), [])
        exit_event = ns.wait_event(d, event="exit", app="forker", id=w["id"])
        self.assertTrue(exit_event["voluntary"])

    def test_a_descendant_that_left_the_group_is_adopted_and_reaped_by_musterd(self):
        # What is not guaranteed: a process that setsid()s out of the worker's
        # group survives the stop (docs/SECURITY.md). What is: musterd adopts
        # it once its parent is gone, and reaps it when it ends.
        d = self.daemon()
        self.start_forker(d, FORKS="3", GRANDCHILDREN="1", ESCAPE="1")
        procs = self.pids(d, 1 + 3 * 2 + 1)
        (escaped,) = [p for kind, p in procs if kind == "escaped"]
        d.wait_for(lambda: (cs.proc_stat(escaped) or ("", 0))[1] == d.proc.pid, 10,
                   "the escaped process adopted by musterd")
        self.assertEqual(d.request({"verb": "stop", "app": "forker"}, timeout=30)["ok"], True)
        d.wait_for(lambda: not [p for k, p in procs if k != "escaped" and harness.pid_alive(p)],
                   15, "the worker's group gone")
        self.assertTrue(harness.pid_alive(escaped), "escaped the group, so not signalled")
        os.kill(escaped, signal.SIGKILL)
        d.wait_for(lambda: cs.proc_stat(escaped) is None, 10, "the escaped process reaped")
        self.assertEqual(cs.zombies_of(d.proc.pid), [])


if __name__ == "__main__":
    unittest.main()
