#!/usr/bin/env python3
"""A plain supervised process (protocol = "none") whose memory grows on request.

It polls GROW_DIR every 20 ms. When the file GROW_DIR/grow-<MUSTER_WORKER_ID>
appears it allocates GROW_MIB MiB (default 64) and writes every page, so the
memory is resident, then writes GROW_DIR/grown-<ID> (its RSS in bytes).
SIGTERM ends it with exit code 0 after writing GROW_DIR/stopped-<ID>, so a test
can tell a graceful stop from a SIGKILL.

At start it writes GROW_DIR/started-<ID> (its pid).
"""

import os
import signal
import sys
import time

MiB = 1 << 20


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # readers never see a half-written file


def main():
    directory = os.environ["GROW_DIR"]
    worker = os.environ["MUSTER_WORKER_ID"]
    size = int(os.environ.get("GROW_MIB", "64")) * MiB

    def stop(signo, frame):
        write(os.path.join(directory, f"stopped-{worker}"), "SIGTERM\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    write(os.path.join(directory, f"started-{worker}"), f"{os.getpid()}\n")
    trigger = os.path.join(directory, f"grow-{worker}")
    hoard = []
    while True:
        if not hoard and os.path.exists(trigger):
            hoard.append(b"\x01" * size)  # bytes * n writes every page
            write(os.path.join(directory, f"grown-{worker}"), f"{rss_bytes()}\n")
        time.sleep(0.02)


if __name__ == "__main__":
    main()
