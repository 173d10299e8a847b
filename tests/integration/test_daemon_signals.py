"""No stray signal kills musterd and its workers (issue 19 §4).

Every signal whose default action would end musterd (and, through their
parent-death signal, every worker) is answered: TERM, INT and QUIT stop
gracefully, HUP reloads the config, USR1 reopens the apps' output files,
USR2 upgrades musterd in place (to the binary it started from: the same pid,
the same workers), PIPE and XFSZ are ignored, the rest (ALRM, VTALRM, PROF,
IO, PWR, STKFLT, XCPU, the real-time signals) are logged and ignored. Workers
start with every disposition at its default and nothing blocked, whatever
musterd inherited. And an operator's `kill --signal` no longer makes every
later death of that worker "voluntary": a crash after it is a crash."""

import os
import signal
import time
import unittest

import harness
from client_support import wait_event


def sleeper(name="a", instances=2, **keys):
    return harness.app(name, "sleep", args=["600"], instances=instances, **keys)


def pids(workers):
    return [w["pid"] for w in workers]


def proc_status(pid):
    """/proc/PID/status as a dict of its fields."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def signal_name(signo):
    """As musterd names it (config::signal_name): SIGUSR2, SIG34."""
    if signal.SIGRTMIN <= signo <= signal.SIGRTMAX:
        return f"SIG{signo}"
    return signal.Signals(signo).name


def wait_log_alive(d, line):
    """d.wait_log(line), failing at once if musterd is gone."""
    def logged():
        if d.proc.poll() is not None:
            raise AssertionError(f"musterd exited with {d.proc.returncode} "
                                 f"before logging {line!r}{d.log_tail()}")
        return line in d.log_text()
    d.wait_for(logged, 10, f"{line!r} in the log")


# Signals musterd gives no meaning to: each is logged, then ignored.
IGNORED = [signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO, signal.SIGPWR,
           signal.SIGSTKFLT, signal.SIGXCPU, signal.SIGRTMIN, signal.SIGRTMIN + 5,
           signal.SIGRTMAX]


class StraySignals(harness.TestCase):
    def test_stray_signals_leave_musterd_and_its_workers_up(self):
        d = self.daemon()
        d.start(sleeper())
        before = pids(d.wait_workers("a", 2))
        expected = {signal.SIGUSR2: "upgraded from "}
        expected.update({s: f"{signal_name(s)} received: musterd gives it no meaning; ignored"
                         for s in IGNORED})
        for signo, line in expected.items():
            d.signal(signo)
            wait_log_alive(d, line)
            self.assertTrue(d.request({"verb": "ping"}).get("pong"))
            self.assertEqual(pids(d.workers("a")), before, signal_name(signo))
        # SIGPIPE is ignored without a word: the kernel raises it for
        # musterd's own writes to a closed pipe (a log line could raise more).
        d.signal(signal.SIGPIPE)
        self.assertTrue(d.request({"verb": "ping"}).get("pong"))
        self.assertEqual(pids(d.workers("a")), before)
        self.assertEqual(d.events(event="exit"), [])
        self.assertTrue(all(harness.pid_alive(p) for p in before))

    def test_sigusr1_with_no_output_file_is_logged_and_harmless(self):
        d = self.daemon()
        d.start(sleeper())
        before = pids(d.wait_workers("a", 2))
        d.signal(signal.SIGUSR1)
        wait_log_alive(d, "SIGUSR1: reopened 0 output file(s)")
        self.assertEqual(pids(d.workers("a")), before)

    def test_sigquit_shuts_down_gracefully(self):
        d = self.daemon()
        d.start(sleeper())
        workers = pids(d.wait_workers("a", 2))
        d.signal(signal.SIGQUIT)
        self.assertEqual(d.wait_exit(), 0, d.log_tail())
        d.wait_log("shutting down (SIGQUIT)")
        d.wait_log("all workers stopped; bye")
        self.assertFalse(any(harness.pid_alive(p) for p in workers))


# Prints a numbered line every 20 ms.
TICKER = f"""#!{harness.PYTHON}
import itertools, sys, time
for n in itertools.count():
    print("tick", n, flush=True)
    time.sleep(0.02)
"""


class Logrotate(harness.TestCase):
    def test_sigusr1_reopens_an_output_file_renamed_by_logrotate(self):
        """logrotate without copytruncate: rename the file, then SIGUSR1."""
        d = self.daemon()
        d.write_script("ticker.py", TICKER)
        log = d.path("logs", "web.log")
        os.makedirs(d.path("logs"))
        d.start(harness.app("web", "./ticker.py", cwd=".", output="file", output_file=log))
        (w,) = d.wait_workers("web", 1)
        size = lambda p: os.path.getsize(p) if os.path.exists(p) else 0
        d.wait_for(lambda: size(log) > 0, 10, "ticks in web.log")
        os.rename(log, log + ".1")
        d.wait_for(lambda: size(log + ".1") > 200, 10, "ticks still going to web.log.1")
        self.assertFalse(os.path.exists(log))

        d.signal(signal.SIGUSR1)
        wait_log_alive(d, f"web: output_file {log} reopened")
        d.wait_log("SIGUSR1: reopened 1 output file(s)")
        d.wait_for(lambda: "tick" in d.read_file("logs/web.log"), 10, "ticks in a new web.log")
        rotated = size(log + ".1")
        d.holds(lambda: size(log + ".1") == rotated, 0.3, "web.log.1 to be left alone")
        self.assertEqual(pids(d.workers("web")), [w["pid"]])
        # Every line is in one file or the other, none lost in between.
        numbers = [int(line.split()[1]) for name in ("logs/web.log.1", "logs/web.log")
                   for line in d.read_file(name).splitlines()]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(numbers))))


def ignore_and_block():
    """preexec_fn: musterd started as by `nohup musterd &` from a script
    (HUP, INT, QUIT ignored) with more ignored and some blocked."""
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR2, signal.SIGTSTP,
              signal.SIGTTIN, signal.SIGTTOU, signal.SIGALRM, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM, signal.SIGCHLD})


class WorkerDispositions(harness.TestCase):
    def test_a_worker_starts_with_every_signal_default_and_none_blocked(self):
        d = self.daemon()
        d.start(sleeper(instances=1), preexec_fn=ignore_and_block)
        (w,) = d.wait_workers("a", 1)
        status = proc_status(w["pid"])
        fields = {k: status[k] for k in ("SigIgn", "SigBlk", "SigCgt")}
        self.assertEqual(fields, {k: "0" * 16 for k in fields}, fields)
        # musterd itself unblocked what it inherited blocked on the thread
        # that takes signals, its event loop's (the main thread, which starts
        # the workers, blocks them all: daemon/launch/spawner.h): SIGTERM works.
        masks = [int(proc_status(f"{d.proc.pid}/task/{tid}")["SigBlk"], 16)
                 for tid in os.listdir(f"/proc/{d.proc.pid}/task")]
        self.assertIn(0, masks, masks)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(), 0, d.log_tail())


# Traps SIGUSR2 and SIGTERM (noting each in ./SIGNAME.ID); on SIGTERM it
# exits with code 3. No core file when it is killed by SIGSEGV.
TRAPPER = f"""#!{harness.PYTHON}
import os, resource, signal, sys, time
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
wid = os.environ["MUSTER_WORKER_ID"]
def note(signo, frame):
    open(signal.Signals(signo).name + "." + wid, "w").close()
    if signo == signal.SIGTERM:
        sys.exit(3)
signal.signal(signal.SIGUSR2, note)
signal.signal(signal.SIGTERM, note)
open("ready." + wid, "w").close()
while True:
    time.sleep(1000)
"""


class OperatorKill(harness.TestCase):
    def start_trapper(self, **keys):
        d = self.daemon()
        d.write_script("trapper.py", TRAPPER)
        d.start(harness.app("t", "./trapper.py", cwd=".", **keys))
        (w,) = d.wait_workers("t", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10, "the worker's traps")
        return d, w

    def test_a_crash_after_a_trapped_operator_signal_is_a_crash(self):
        d, w = self.start_trapper(restart="always", restart_delay="2s")
        rc, out, err = d.ctl("kill", w["id"], "--signal", "SIGUSR2")
        self.assertEqual(rc, 0, err)
        d.wait_for(lambda: os.path.exists(d.path(f"SIGUSR2.{w['id']}")), 10,
                   "the worker to trap SIGUSR2")
        os.kill(w["pid"], signal.SIGSEGV)  # its own fault, some time later
        gone = wait_event(d, event="exit", id=w["id"])
        self.assertEqual((gone["signal"], gone["voluntary"]), ("SIGSEGV", False), gone)
        restart = wait_event(d, event="restart", app="t")
        self.assertTrue(restart["crash"], restart)
        self.assertGreaterEqual(restart["delay_ms"], 1600, restart)  # 2s, jittered by 20 %
        self.assertEqual(d.app_status("t")["restarts"], 1)
        d.holds(lambda: d.workers("t") == [], 1.2, "the slot to wait out its restart delay")
        d.wait_workers("t", 1, timeout=5)

    def test_an_exit_answering_the_operators_sigterm_is_voluntary(self):
        d, w = self.start_trapper(restart="always", restart_delay="10s")
        rc, out, err = d.ctl("kill", w["id"])  # SIGTERM; it exits with code 3
        self.assertEqual(rc, 0, err)
        gone = wait_event(d, event="exit", id=w["id"])
        self.assertEqual((gone["code"], gone["voluntary"]), (3, True), gone)
        # Refilled at once, no crash counted.
        (new,) = d.wait_workers("t", 1, timeout=5)
        self.assertGreater(new["id"], w["id"])
        self.assertEqual(d.events(event="restart"), [])
        self.assertEqual(d.app_status("t")["restarts"], 0)

    def test_a_worker_killed_by_the_operators_signal_left_voluntarily(self):
        d, w = self.start_trapper(restart="always", restart_delay="10s")
        self.assertEqual(d.ctl("kill", w["id"], "--signal", "SIGKILL")[0], 0)
        gone = wait_event(d, event="exit", id=w["id"])
        self.assertEqual((gone["signal"], gone["voluntary"]), ("SIGKILL", True), gone)
        d.wait_workers("t", 1, timeout=5)
        self.assertEqual(d.events(event="restart"), [])


if __name__ == "__main__":
    unittest.main()
