"""c-floor: the C "floor" dispatcher (bench/floor/dispatcher.c) for bench/run.

The floor is the least a primary can do per connection (accept, sendmsg the
fd with a Node `newconn`, read the worker's answer): what musterd's rr is
measured against. The harness compiles it with `cc -O2` into a temporary
directory and runs

    dispatcher --ack --workers N PORT -- muster-hello PORT 127.0.0.1

(N = 2 workers, the C++ worker as in musterd-rr-cpp). `--ack` is the floor's
Node-protocol mode: one handle in flight per worker, free again after its
NODE_HANDLE_ACK and `{accepted}`, as musterd's rr; its `--no-ack` mode (fire
and forget) is bench/handoff's business. When the source is not
in the checkout, available() says why and bench/run skips the configuration.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time

import benchlib as B

SOURCE = os.path.join(B.BENCH_DIR, "floor", "dispatcher.c")
_BINARY: str | None = None


def available() -> str | None:
    """None if c-floor can run, else the reason it is skipped."""
    if not os.path.exists(SOURCE):
        return f"{os.path.relpath(SOURCE, B.REPO)} is not in this checkout"
    if not shutil.which("cc"):
        return "no C compiler (cc) on PATH"
    return None


def build() -> str:
    """Compiles the dispatcher once per process; returns the binary's path."""
    global _BINARY
    if _BINARY:
        return _BINARY
    d = tempfile.mkdtemp(prefix="muster-bench-floor-")
    atexit.register(shutil.rmtree, d, True)
    out = os.path.join(d, "dispatcher")
    r = subprocess.run(["cc", "-O2", "-o", out, SOURCE], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cc -O2 {SOURCE} failed:\n{r.stderr[-2000:]}")
    _BINARY = out
    return out


def children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class FloorServer(B.Server):
    """The dispatcher and its muster-hello workers, in a new session."""

    def __init__(self, name: str, port: int, n_workers: int = 0):
        super().__init__(name, port, kind="floor", scheduling="rr", worker="cpp",
                         n_workers=n_workers)

    def start(self, timeout: float = 20.0) -> None:
        binary = build()
        self.tmp = tempfile.mkdtemp(prefix=f"muster-bench-{self.name}-")
        self.log_path = os.path.join(self.tmp, "server.log")
        B.LIVE.append(self)
        cmd = [binary, "--ack", "--workers", str(self.n_workers), str(self.port), "--",
               B.MUSTER_HELLO, str(self.port), "127.0.0.1"]
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: dispatcher exited with {self.proc.returncode}\n"
                                   + self.log_tail())
            self.worker_pids = children(self.proc.pid)
            if len(self.worker_pids) == self.n_workers and B.http_ok(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: not answering after {timeout:.0f}s\n" + self.log_tail())

    def connections(self):
        return None  # the dispatcher keeps no per-worker counts we can read
