#!/usr/bin/env python3
"""A worker that fills its process group with descendants that ignore SIGTERM
(test_chaos.py): FORKS children, each with GRANDCHILDREN of its own. With
ESCAPE=1 one more child calls setsid() (a session and group of its own) and
forks a grandchild that outlives it: a process that has left the worker's
group. Every pid is appended to ./pids ("kind pid" per line); "ready" is
written to ./ready when all are running. The worker itself ignores SIGTERM
too unless OBEY=1.
"""
import os
import signal
import time

FORKS = int(os.environ.get("FORKS", "50"))
GRANDCHILDREN = int(os.environ.get("GRANDCHILDREN", "2"))


def note(kind, pid):
    with open("pids", "a") as f:
        f.write(f"{kind} {pid}\n")


def linger():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(60)


if os.environ.get("OBEY") != "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
note("worker", os.getpid())
for _ in range(FORKS):
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for _ in range(GRANDCHILDREN):
            if os.fork() == 0:
                note("grandchild", os.getpid())
                linger()
        note("child", os.getpid())
        linger()
if os.environ.get("ESCAPE") == "1":
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            note("escaped", os.getpid())
            os.close(r)
            os.write(w, b"x")
            linger()
        os._exit(0)  # its child is orphaned: adopted by the subreaper above
    os.close(w)
    os.read(r, 1)
with open("ready.tmp", "w") as f:
    f.write("ready\n")
os.rename("ready.tmp", "ready")
while True:
    time.sleep(60)
