#!/usr/bin/env python3
"""How a large `scale` looks to the control socket (issue #12 §4, #14 item 2):
musterd scales an app of /bin/sleep workers from 1 to N while a client pings
it as fast as it answers; prints the scale request's round trip, the ping
latencies during the spawning (p50, p99, max) and the time until all N run,
and, to compare with, the same figures for pings of the idle daemon before.

    bench/scale_ping.py [--build-dir build] [--instances 1000]

Run it against two builds in one sitting to compare (the box is noisy)."""

import argparse
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--instances", type=int, default=1000)
    args = ap.parse_args()
    os.environ["MUSTER_BUILD_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402 (reads MUSTER_BUILD_DIR)

    with harness.Daemon() as d:
        d.start(harness.app("many", "sleep", args=["1000"], instances=1, output="null"))
        d.wait_workers("many", 1)
        idle, idle_end = [], time.monotonic() + 10
        while time.monotonic() < idle_end:  # the yardstick: 10 s of the same pings, idle
            t0 = time.monotonic()
            d.request({"verb": "ping"}, timeout=60)
            idle.append(time.monotonic() - t0)
        pings, stop = [], threading.Event()

        def ping():
            while not stop.is_set():
                t0 = time.monotonic()
                d.request({"verb": "ping"}, timeout=60)
                pings.append(time.monotonic() - t0)
        pinger = threading.Thread(target=ping)
        pinger.start()
        t0 = time.monotonic()
        d.request({"verb": "scale", "app": "many", "count": args.instances}, timeout=600)
        scale_rtt = time.monotonic() - t0
        # Running: spawned (a pid), not only listed; a worker whose spawn is
        # still under way on the spawner's thread is listed with pid 0.
        d.wait_for(lambda: sum(1 for w in d.workers("many") if w["pid"]) >= args.instances,
                   600, "all workers")
        all_up = time.monotonic() - t0
        stop.set()
        pinger.join()
        d.request({"verb": "scale", "app": "many", "count": 0}, timeout=600)
        d.wait_for(lambda: not d.workers("many"), 600, "workers gone")
    q = statistics.quantiles(pings, n=100) if len(pings) > 1 else [pings[0]] * 99
    qi = statistics.quantiles(idle, n=100)
    print(json.dumps({"build": args.build_dir, "instances": args.instances,
                      "scale_reply_ms": round(scale_rtt * 1000, 1),
                      "all_running_s": round(all_up, 2),
                      "pings": len(pings), "ping_p50_ms": round(q[49] * 1000, 1),
                      "ping_p99_ms": round(q[98] * 1000, 1),
                      "ping_max_ms": round(max(pings) * 1000, 1),
                      "idle_p50_ms": round(qi[49] * 1000, 2),
                      "idle_p99_ms": round(qi[98] * 1000, 2),
                      "idle_max_ms": round(max(idle) * 1000, 1)}))


if __name__ == "__main__":
    main()
