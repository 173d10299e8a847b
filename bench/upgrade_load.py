"""The client side of bench/upgrade_gap (issue 25): processes that hammer the
rr socket with short connections and log when each was answered, and the
arithmetic that turns those logs into the window in which nothing was
accepted. A module of its own because the clients must be separate processes
(no GIL shared with the harness, which waits on `musterctl upgrade`), and
because the gap is the delicate part: it is read from the client's side only.

What a client logs per connection (CLOCK_MONOTONIC, shared by every process
of the box, so the harness's timestamps line up with the clients'):
  start     before connect()
  answered  the first byte of the reply arrived: musterd had accepted the
            connection and handed it to a worker, which answered
  ok        the whole reply came (200, then EOF); False for a refused, reset
            or timed-out connection (an upgrade must cause none)
During an upgrade's pause musterd stops accepting: connects still complete in
the kernel (backlog), but no reply comes until the new binary accepts again.
So the longest interval between consecutive answers (all clients merged) that
overlaps the verb is the client-visible no-accept window, to within one
request's service time (sub-millisecond here)."""

from __future__ import annotations

import socket
import statistics
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def one_request(port: int) -> tuple:
    """(start, answered, ok) of one short connection; answered 0.0 if none came."""
    start, answered, ok = time.monotonic(), 0.0, False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(REQUEST)
            head = s.recv(4096)
            answered = time.monotonic()
            while s.recv(4096):
                pass
            ok = head.startswith(b"HTTP/1.1 200")
    except OSError:
        pass
    return start, answered, ok


def client(port: int, stop, results) -> None:
    """Back-to-back short connections until `stop` is set; the log goes back
    through `results` at the end (a few hundred thousand tuples at most)."""
    log = []
    while not stop.is_set():
        log.append(one_request(port))
    results.put(log)


def gaps(answers: list, since: float, until: float) -> list:
    """(length, from, to) of each interval between consecutive answers that
    overlaps [since, until], longest first."""
    out = []
    for a, b in zip(answers, answers[1:]):
        if b >= since and a <= until:
            out.append((b - a, a, b))
    return sorted(out, reverse=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def window(logs: list, t0: float, t1: float) -> dict:
    """One upgrade's figures from the merged client logs; [t0, t1] is the
    verb's wall time (musterctl started, musterctl returned)."""
    answers = sorted(a for _, a, ok in logs if a)
    found = gaps(answers, t0, t1)
    longest, g_from, g_to = found[0] if found else (0.0, t0, t0)
    # A connection that waited in the backlog across the pause: the longest
    # any single client saw (started before or during the verb).
    waits = [a - s for s, a, ok in logs if a and s <= t1 and a >= t0]
    return {
        "gap_ms": ms(longest),
        "gap_starts_after_verb_ms": ms(g_from - t0),
        "gap_ends_before_reply_ms": ms(t1 - g_to),
        "second_gap_ms": ms(found[1][0]) if len(found) > 1 else 0.0,
        "longest_wait_ms": ms(max(waits, default=0.0)),
        "failed": sum(1 for s, a, ok in logs if not ok and t0 - 1 <= s <= t1 + 1),
        "answers_during_verb": sum(1 for a in answers if t0 <= a <= t1),
    }


def baseline(logs: list, runs: list) -> dict:
    """The same gap measure where nothing upgrades: for each upgrade, a
    stretch as long as its verb, ending `margin` before it (within the settle
    time). What this box's scheduling alone makes of the interval between
    answers over as long a time."""
    answers = sorted(a for _, a, ok in logs if a)
    margin, longest = 0.05, []
    for r in runs:
        length = r["t1"] - r["t0"]
        found = gaps(answers, r["t0"] - margin - length, r["t0"] - margin)
        if found:
            longest.append(found[0][0])
    rate = len(answers) / (answers[-1] - answers[0]) if len(answers) > 1 else 0.0
    if not longest:
        return {"gap_median_ms": 0.0, "gap_max_ms": 0.0, "answers_per_s": round(rate)}
    return {"gap_median_ms": ms(statistics.median(longest)), "gap_max_ms": ms(max(longest)),
            "answers_per_s": round(rate)}
