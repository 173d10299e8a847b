#!/usr/bin/env python3
"""Issue 19 §7: one Node worker, running as nobody under a root musterd whose
RLIMIT_NOFILE is --limit, listens on --count ports at once (every one bound on
demand). Prints what the worker got, how the control socket answered meanwhile
(a ping on a new connection every 50 ms: p50, max, failures), whether another
app kept serving, musterd's fds, RSS and log growth, and how many of the
worker's ports are still bound once it has been killed and on_demand_grace
(default 10 s) has passed. Needs root.

    bench/on_demand_flood.py [--build-dir build] [--count 20000] [--limit 4096]
                             [--seconds 30] [--scheduling rr|none]

The flood phase ends when the worker reports or after --seconds."""

import argparse
import os
import resource
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
FROM = 10000  # below the ephemeral range


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--limit", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--scheduling", default="rr", choices=["rr", "none"])
    return ap.parse_args()


def rss_mib(pid):
    from chaos_support import rss_bytes  # noqa: E402
    return rss_bytes(pid) / 2**20


def bound_ports(count):
    """How many of the flood's ports something holds."""
    held = 0
    for port in range(FROM, FROM + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                held += 1
    return held


def start_daemon(d, port, args):
    """musterd with RLIMIT_NOFILE args.limit: an app "other" serving `port`
    and the flood worker, running as nobody."""
    import node_support as ns  # noqa: E402
    d.write_config(
        ns.socket_table("other", f"127.0.0.1:{port}") +
        ns.node_app("other", "hello.js", sockets=["other"], env={"HELLO_PORT": str(port)}) +
        ns.node_app("flood", "listen_flood.js", user="nobody", group="nogroup", cwd="/",
                    restart="never", scheduling=args.scheduling,
                    env={"FLOOD_FROM": str(FROM), "FLOOD_COUNT": str(args.count)}))
    d.start(preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                  (args.limit, args.limit)))
    d.wait_workers("other", 1, state="listening", timeout=15)


def watch_flood(d, seconds, fds0, began):
    """Pings musterd every 50 ms and samples its fds and RSS until the flood
    worker reports, musterd exits or `seconds` have passed."""
    import node_support as ns  # noqa: E402
    from chaos_support import fd_count as fds  # noqa: E402
    pid = d.proc.pid
    pings, failed, peak_fds, peak_rss, outcome = [], 0, fds0, rss_mib(pid), None
    died = None
    while outcome is None and time.monotonic() - began < seconds:
        if d.proc.poll() is not None:
            died = f"musterd exited with {d.proc.returncode} after " \
                   f"{time.monotonic() - began:.1f} s"
            break
        t0 = time.monotonic()
        try:
            d.request({"verb": "ping"}, timeout=2)
            pings.append((time.monotonic() - t0) * 1000)
        except OSError:
            failed += 1
        try:
            peak_fds, peak_rss = max(peak_fds, fds(pid)), max(peak_rss, rss_mib(pid))
        except (OSError, AssertionError):
            continue  # exiting
        try:
            found = ns.messages(d, "flood", "flood")
            outcome = found[0]["flood"] if found else None
        except OSError:
            pass
        time.sleep(0.05)
    return pings, failed, peak_fds, peak_rss, outcome, died


def main():
    args = parse_args()
    os.environ["MUSTER_BUILD_DIR"] = os.path.abspath(args.build_dir)
    import client_support as cs  # noqa: E402 (reads MUSTER_BUILD_DIR)
    import harness  # noqa: E402
    import node_support as ns  # noqa: E402

    from chaos_support import fd_count as fds  # noqa: E402

    with harness.Daemon() as d:
        port = ns.free_port()
        start_daemon(d, port, args)
        pid = d.proc.pid
        fds0, log0 = fds(pid), os.path.getsize(d.log_path)
        load = cs.Load(unittest_stub(), port, threads=2, pause=0.05)
        began = time.monotonic()
        pings, failed, peak_fds, peak_rss, outcome, died = watch_flood(d, args.seconds, fds0,
                                                                        began)
        flood_s = time.monotonic() - began
        served = load.stop()
        log_mib = (os.path.getsize(d.log_path) - log0) / 2**20
        print(f"flood: {outcome or 'no report'} after {flood_s:.1f} s")
        if died:
            print(died + "\n" + d.log_tail(8))
            return
        if pings:
            print(f"pings: {len(pings)} answered, p50 {statistics.median(pings):.1f} ms, "
                  f"max {max(pings):.1f} ms; {failed} failed (2 s timeout)")
        else:
            print(f"pings: none answered; {failed} failed (2 s timeout)")
        print(f"other app: {len(served) - len(cs.failures([r for _, _, r in served]))} of "
              f"{len(served)} requests served")
        print(f"musterd: fds {fds0} -> peak {peak_fds}, RSS peak {peak_rss:.1f} MiB, "
              f"log +{log_mib:.1f} MiB")
        try:
            (worker,) = d.workers("flood")
            os.kill(worker["pid"], 9)
        except (OSError, ValueError, AssertionError) as e:
            print(f"could not kill the flood worker: {e}")
        time.sleep(12)
        print(f"12 s after the worker was killed: {bound_ports(args.count)} of the flood's "
              f"ports bound, musterd fds {fds(pid)}")


def unittest_stub():
    """Load registers its stop() as a test cleanup; here it is stopped by hand."""
    class Stub:
        def addCleanup(self, *a):
            pass
    return Stub()


if __name__ == "__main__":
    main()
