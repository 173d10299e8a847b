#!/usr/bin/env python3
"""How a large `scale` looks to the control socket (issue #12 §4, #14 item 2,
#21 §1): musterd scales an app of /bin/sleep workers from 1 to N while a
client pings it as fast as it answers. Three phases, one pinger, one run:

  idle   10 s of pings, one worker, nothing else happening (the yardstick)
  start  the scale to N, until every worker has a pid
  after  10 s of pings at N workers, nothing else happening

    bench/scale_ping.py [--build-dir build] [--instances 1000] [--idle 10]

The pinger is a process of its own (no GIL shared with the harness), a fresh
connection per ping. Around every ping it reads the schedstat (proc(5):
nanoseconds on a CPU, nanoseconds runnable but waiting for one) of
musterd's loop thread (its main thread: io.run(), daemon/common/event_loop.cc)
and of itself, so a slow ping is split into
  loop run   the loop thread on a CPU (its own work: a stall if long)
  loop wait  the loop thread runnable, waiting for a CPU (the box's load)
  ping wait  the pinger runnable, waiting for a CPU
  rest       neither ran nor waited for a CPU: the loop asleep or blocked
             in the kernel, the pinger blocked (the time the reply travels)
On a noisy box a ping can be slow with a quiet loop; "loop run" is what
musterd itself held the loop for while the client waited. Every worker is
counted from /proc (the daemon's children) while it starts, then one status
confirms every worker has a pid: the harness sends no status meanwhile.

Run it against two builds in one sitting to compare (the box is noisy)."""

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def read_schedstat(fd):
    """(ns on a CPU, ns runnable waiting) from an open schedstat file."""
    run, wait, _ = os.pread(fd, 128, 0).split()
    return int(run), int(wait)


def pinger(sock_path, loop_tid, daemon_pid, conn):
    """Pings until told to stop; each ping as (phase, start s, duration s,
    loop run, loop wait, own run, own wait) in seconds, sent back at the end."""
    loop_fd = os.open(f"/proc/{daemon_pid}/task/{loop_tid}/schedstat", os.O_RDONLY)
    own_fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
    line = json.dumps({"verb": "ping"}).encode() + b"\n"
    phase, pings = None, []
    while True:
        if conn.poll():
            phase = conn.recv()
            if phase is None:
                break
        if phase is None:
            time.sleep(0.001)
            continue
        l0, o0 = read_schedstat(loop_fd), read_schedstat(own_fd)
        t0 = time.monotonic()
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(60)
            s.connect(sock_path)
            s.sendall(line)
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    raise AssertionError(f"musterd closed the connection: {reply!r}")
                reply += chunk
        t1 = time.monotonic()
        l1, o1 = read_schedstat(loop_fd), read_schedstat(own_fd)
        pings.append((phase, t0, t1 - t0, (l1[0] - l0[0]) / 1e9, (l1[1] - l0[1]) / 1e9,
                      (o1[0] - o0[0]) / 1e9, (o1[1] - o0[1]) / 1e9))
    conn.send(pings)


def children(pid):
    """The daemon's children: each thread lists those it started (the
    spawner's thread starts the workers)."""
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                n += len(f.read().split())
        except OSError:
            pass
    return n


def thread_cpu(pid):
    """{tid: (ns on a CPU, ns waiting)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = f.read().split()
            out[int(tid)] = (int(run), int(wait))
        except OSError:
            pass
    return out


def ms(x):
    return round(x * 1000, 2)


def summary(pings):
    d = sorted(p[2] for p in pings)
    q = statistics.quantiles(d, n=100) if len(d) > 1 else d * 99
    slow = max(pings, key=lambda p: p[2])
    _, _, dur, lrun, lwait, orun, owait = slow
    return {
        "pings": len(d), "p50_ms": ms(q[49]), "p99_ms": ms(q[98]), "max_ms": ms(d[-1]),
        # The slowest ping, split (see the module's doc).
        "slowest": {"ms": ms(dur), "loop_run_ms": ms(lrun), "loop_wait_ms": ms(lwait),
                    "ping_wait_ms": ms(owait), "ping_run_ms": ms(orun),
                    "rest_ms": ms(max(0.0, dur - lrun - lwait - orun - owait))},
        # Over every ping: the longest the loop ran / waited for a CPU while
        # one ping waited for its answer.
        "max_loop_run_ms": ms(max(p[3] for p in pings)),
        "max_loop_wait_ms": ms(max(p[4] for p in pings)),
        # The slowest ping less the CPU waits of both ends (an upper bound on
        # what the loop held it for, if their waits did not overlap).
        "max_without_cpu_waits_ms": ms(max(p[2] - p[4] - p[6] for p in pings)),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of each idle phase")
    args = ap.parse_args()
    os.environ["MUSTER_BUILD_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402 (reads MUSTER_BUILD_DIR)

    with harness.Daemon() as d:
        d.start(harness.app("many", "sleep", args=["1000"], instances=1, output="null"))
        d.wait_workers("many", 1)
        pid = d.proc.pid
        tell, conn = multiprocessing.Pipe()
        ping_proc = multiprocessing.Process(target=pinger, args=(d.socket_path, pid, pid, conn))
        ping_proc.start()
        load = {"before": loadavg()}
        tell.send("idle")
        time.sleep(args.idle)
        cpu0 = thread_cpu(pid)
        tell.send("start")
        t0 = time.monotonic()
        d.request({"verb": "scale", "app": "many", "count": args.instances}, timeout=600)
        scale_rtt = time.monotonic() - t0
        deadline = t0 + 600
        while children(pid) < args.instances:
            if time.monotonic() > deadline:
                raise AssertionError(f"{children(pid)} children after 600 s")
            time.sleep(0.005)
        # Running: spawned and its pid known on the loop (a worker whose
        # spawn is still on the spawner's thread is listed with pid 0).
        d.wait_for(lambda: sum(1 for w in d.workers("many") if w["pid"]) >= args.instances,
                   600, "all workers with a pid")
        all_up = time.monotonic() - t0
        cpu1 = thread_cpu(pid)
        load["start"] = loadavg()
        tell.send("after")
        time.sleep(args.idle)
        tell.send(None)
        pings = tell.recv()
        ping_proc.join()
        load["after"] = loadavg()
        d.request({"verb": "scale", "app": "many", "count": 0}, timeout=600)
        d.wait_for(lambda: not d.workers("many"), 600, "workers gone")
    phases = {ph: summary([p for p in pings if p[0] == ph]) for ph in ("idle", "start", "after")}
    # musterd's threads over the start: on a CPU, waiting for one (s).
    threads = {("loop" if tid == pid else str(tid)):
               {"run_s": round((cpu1[tid][0] - run) / 1e9, 3),
                "wait_s": round((cpu1[tid][1] - wait) / 1e9, 3)}
               for tid, (run, wait) in cpu0.items() if tid in cpu1}
    print(json.dumps({"build": args.build_dir, "instances": args.instances,
                      "loadavg_1min": load, "scale_reply_ms": ms(scale_rtt),
                      "all_running_s": round(all_up, 2), "daemon_threads_during_start": threads,
                      **phases}, indent=1))


if __name__ == "__main__":
    main()
