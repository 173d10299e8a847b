"""Shared pieces of muster's benchmark harness (bench/run, bench/profile).

Python 3 standard library only. Every server this module starts is tracked in
LIVE and stopped by stop_all(), which bench/run and bench/profile call from
atexit and from their SIGINT/SIGTERM/SIGHUP handlers: no run leaves a daemon,
a Node primary or a worker behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

# The system helpers live in benchsys.py; callers keep using them as B.name.
from benchsys import (alive, cpu_ticks, enter_cpu_group,  # noqa: F401
                      group_members, http_ok, kill_left, leave_cpu_group, listen_sockets, log,
                      port_free, rss_kib)
# Running wrk and reading its report live in benchwrk.py (WRK: the wrk processes
# running, which stop_all() kills).
from benchwrk import WRK, parse_wrk, run_wrk, wrk_cmd  # noqa: F401

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
BUILD = os.path.join(REPO, "build")
MUSTERD = os.path.join(BUILD, "musterd")
MUSTERCTL = os.path.join(BUILD, "musterctl")
MUSTER_HELLO = os.path.join(BUILD, "muster-hello")
NODE_SCRIPT = os.path.join(BENCH_DIR, "node_cluster.js")
SD_SCRIPT = os.path.join(BENCH_DIR, "fairness_sd_worker.py")  # worker "sd" (protocol systemd)
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKERS = 2

# name -> (kind, scheduling, worker). kind: "musterd", "node" (Node's own primary)
# or "single" (one Node process, no cluster: node_cluster.js with BENCH_SINGLE=1);
# scheduling: rr | none | reuseport (Node: rr | none; single: ""); worker: "node"
# (node_cluster.js), "cpp" (muster-hello) or "sd" (fairness_sd_worker.py,
# protocol = "systemd"). bench/fairness passes these to Server directly.
# bench/run adds pm2-cluster (pm2.py) and c-floor (c_floor.py).
CONFIGS = {
    "node-single": ("single", "", "node"),
    "node-rr": ("node", "rr", "node"),
    "node-none": ("node", "none", "node"),
    "musterd-rr-node": ("musterd", "rr", "node"),
    "musterd-none-node": ("musterd", "none", "node"),
    "musterd-reuseport-node": ("musterd", "reuseport", "node"),
    "musterd-rr-cpp": ("musterd", "rr", "cpp"),
    "musterd-none-cpp": ("musterd", "none", "cpp"),
    "musterd-reuseport-cpp": ("musterd", "reuseport", "cpp"),
}

LIVE: list = []  # servers that are running (or may be)


def set_build_dir(path: str) -> None:
    """Use musterd, musterctl and muster-hello from another build directory."""
    global BUILD, MUSTERD, MUSTERCTL, MUSTER_HELLO
    BUILD = os.path.abspath(path)
    MUSTERD, MUSTERCTL, MUSTER_HELLO = (os.path.join(BUILD, n)
                                        for n in ("musterd", "musterctl", "muster-hello"))


def check_binaries(need_wrk: bool = True) -> None:
    missing = [p for p in (MUSTERD, MUSTERCTL, MUSTER_HELLO) if not os.access(p, os.X_OK)]
    if missing:
        sys.exit("bench: missing " + ", ".join(os.path.relpath(p, REPO) for p in missing)
                 + "\nbench: build first:  cd " + REPO + " && scripts/build")
    tools = ["node"] + (["wrk"] if need_wrk else [])
    for tool in tools:
        if not shutil.which(tool):
            sys.exit(f"bench: '{tool}' is not on PATH")


def snapshot_binaries() -> dict:
    """Copies musterd, musterctl and muster-hello to a private directory and uses the
    copies, so a rebuild during a long session cannot change what is measured.
    Returns {name: sha256 prefix}."""
    import atexit
    import hashlib
    global MUSTERD, MUSTERCTL, MUSTER_HELLO
    d = tempfile.mkdtemp(prefix="muster-bench-bin-")
    atexit.register(shutil.rmtree, d, True)
    sums = {}
    for name in ("musterd", "musterctl", "muster-hello"):
        dst = os.path.join(d, name)
        shutil.copy2(os.path.join(BUILD, name), dst)
        with open(dst, "rb") as f:
            sums[name] = hashlib.sha256(f.read()).hexdigest()[:12]
    MUSTERD, MUSTERCTL, MUSTER_HELLO = (os.path.join(d, n)
                                        for n in ("musterd", "musterctl", "muster-hello"))
    return sums



# ---------------------------------------------------------------- servers

@dataclass
class Server:
    """One configuration's server side: musterd + workers, or a Node primary + workers."""
    name: str
    port: int
    kind: str = ""
    scheduling: str = ""
    worker: str = ""
    tmp: str = ""
    proc: subprocess.Popen | None = None
    worker_pids: list = field(default_factory=list)
    socket: str = ""
    log_path: str = ""
    generations: dict = field(default_factory=dict)
    wrapper: list = field(default_factory=list)  # e.g. valgrind: prefix of musterd's command
    n_workers: int = 0  # 0: WORKERS
    serves: bool = True  # False: workers that do not listen (bench/ops); start() asks no GET

    def __post_init__(self):
        if not self.kind:
            self.kind, self.scheduling, self.worker = CONFIGS[self.name]
        self.n_workers = 1 if self.kind == "single" else (self.n_workers or WORKERS)

    @property
    def pid(self) -> int:
        return self.proc.pid

    # -- start

    def start(self, timeout: float = 20.0) -> None:
        self.tmp = tempfile.mkdtemp(prefix=f"muster-bench-{self.name}-")
        self.log_path = os.path.join(self.tmp, "server.log")
        logf = open(self.log_path, "wb")
        LIVE.append(self)
        if self.kind == "musterd":
            cfg = self._write_config()
            self.socket = os.path.join(self.tmp, "muster.sock")
            env = {k: v for k, v in os.environ.items()
                   if k not in ("NODE_CLUSTER_SCHED_POLICY", "MUSTER_SCHED_POLICY", "MUSTER_SOCKET")}
            self.proc = subprocess.Popen(self.wrapper + [MUSTERD, "-c", cfg], stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        else:
            env = dict(os.environ, PORT=str(self.port), HOST="127.0.0.1",
                       BENCH_COUNT_DIR=self.tmp, BENCH_WORKERS=str(self.n_workers),
                       BENCH_READY_FILE=os.path.join(self.tmp, "ready"),
                       NODE_CLUSTER_SCHED_POLICY=self.scheduling,
                       BENCH_SINGLE="1" if self.kind == "single" else "0")
            self.proc = subprocess.Popen(["node", NODE_SCRIPT], stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT, env=env,
                                         cwd=BENCH_DIR, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: server exited with {self.proc.returncode}\n"
                                   + self.log_tail())
            if self._workers_ready() and (not self.serves or http_ok(self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: not answering after {timeout:.0f}s\n" + self.log_tail())

    def _write_config(self) -> str:
        protocol = "node"
        if self.worker == "node":
            exec_, args = "node", [NODE_SCRIPT]
        elif self.worker == "sd":
            exec_, args, protocol = sys.executable, [SD_SCRIPT], "systemd"
        else:
            exec_, args = MUSTER_HELLO, [str(self.port), "127.0.0.1"]
        env = {"PORT": str(self.port), "HOST": "127.0.0.1", "BENCH_COUNT_DIR": self.tmp}
        q = json.dumps  # TOML basic strings are JSON-compatible for these values
        text = f"""# generated by bench/run for configuration {self.name}
[daemon]
control_socket = {q(os.path.join(self.tmp, "muster.sock"))}
log_level = "warn"
shutdown_timeout = "5s"

[sockets.web]
listen = {q(f"127.0.0.1:{self.port}")}
backlog = 511

[apps.bench]
exec = {q(exec_)}
args = [{", ".join(q(a) for a in args)}]
cwd = {q(BENCH_DIR)}
env = {{ {", ".join(f"{k} = {q(v)}" for k, v in env.items())} }}
instances = {self.n_workers}
protocol = {q(protocol)}
sockets = ["web"]
scheduling = {q(self.scheduling)}
restart = "never"
stop_timeout = "2s"
"""
        path = os.path.join(self.tmp, "muster.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def status(self) -> dict | None:
        try:
            out = subprocess.run([MUSTERCTL, "-s", self.socket, "--json", "status"],
                                 capture_output=True, text=True, timeout=5)
        except subprocess.TimeoutExpired:
            return None
        if out.returncode != 0:
            return None
        try:
            return json.loads(out.stdout)
        except ValueError:
            return None

    def _workers_ready(self) -> bool:
        if self.kind == "musterd":
            st = self.status()
            if not st:
                return False
            workers = [w for a in st.get("apps", []) for w in a.get("workers", [])]
            if len(workers) != self.n_workers or any(w.get("state") != "listening" for w in workers):
                return False
            self.worker_pids = [w["pid"] for w in workers]
            return True
        ready = os.path.join(self.tmp, "ready")
        if not os.path.exists(ready):
            return False
        with open(ready) as f:
            self.worker_pids = [int(x) for x in f.read().split()]
        return len(self.worker_pids) == self.n_workers

    # -- measurements

    def connections(self) -> dict | None:
        """musterd: connections handed to each worker so far, by worker pid."""
        if self.kind != "musterd":
            return None
        st = self.status()
        if not st:
            return None
        return {w["pid"]: w.get("connections", 0)
                for a in st.get("apps", []) for w in a.get("workers", [])}

    def request_counts(self, timeout: float = 3.0) -> dict | None:
        """Node workers: requests served so far, by worker pid (SIGUSR2 side channel)."""
        counts = self.worker_counts(timeout)
        return counts and {pid: c[0] for pid, c in counts.items()}

    def worker_counts(self, timeout: float = 3.0) -> dict | None:
        """Node workers: (requests served, connections received, first, last) by worker
        pid: counts so far, and the monotonic ns of the first and last connection since
        the previous call (0: none). See bench/node_cluster.js."""
        if self.worker != "node":
            return None
        for pid in self.worker_pids:
            self.generations[pid] = self.generations.get(pid, 0) + 1
            os.kill(pid, signal.SIGUSR2)
        counts: dict = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(counts) < len(self.worker_pids):
            for pid in self.worker_pids:
                if pid in counts:
                    continue
                try:
                    with open(os.path.join(self.tmp, f"worker-{pid}.count")) as f:
                        gen, *fields = (int(x) for x in f.read().split())
                except (OSError, ValueError):
                    continue
                if gen == self.generations[pid]:
                    counts[pid] = tuple(fields)
            time.sleep(0.01)
        return counts if len(counts) == len(self.worker_pids) else None

    def cpu(self) -> tuple:
        """(primary ticks, sum of worker ticks); primary None where there is none."""
        workers = [cpu_ticks(p) for p in self.worker_pids]
        primary = None if self.kind == "single" else cpu_ticks(self.pid)
        return primary, sum(t or 0 for t in workers)

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- stop

    def stop(self, timeout: float = 10.0) -> bool:
        """Graceful stop, bounded; True if it went without SIGKILL."""
        if self in LIVE:
            LIVE.remove(self)
        clean = True
        if self.proc and self.proc.poll() is None:
            if self.kind == "musterd":
                try:
                    subprocess.run([MUSTERCTL, "-s", self.socket, "shutdown"],
                                   capture_output=True, timeout=3)
                except subprocess.TimeoutExpired:
                    pass
                if not self._wait(timeout):
                    self.proc.send_signal(signal.SIGTERM)
            else:
                self.proc.send_signal(signal.SIGTERM)
            if not self._wait(timeout):
                clean = False
                self.proc.kill()
                self.proc.wait(5)
        # Workers die with their primary; make sure of it, by pid.
        deadline = time.monotonic() + 3
        while any(alive(p) for p in self.worker_pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        clean &= kill_left(self.worker_pids)
        # Anything else left in the server's own process group (it was started in a
        # new session), by pid; zombies (reparented to an init that may not reap) are gone.
        if self.proc:
            clean &= kill_left(group_members(self.proc.pid))
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return clean

    def _wait(self, timeout: float) -> bool:
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


def stop_all() -> None:
    for p in list(WRK):
        try:
            p.kill()
            p.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
    WRK.clear()
    for s in list(LIVE):
        try:
            s.stop(timeout=5)
        except Exception as e:  # cleanup must go on
            log(f"bench: stopping {s.name}: {e}")


def install_cleanup() -> None:
    import atexit
    atexit.register(stop_all)

    def on_signal(signo, _frame):
        log(f"bench: {signal.Signals(signo).name}: cleaning up")
        stop_all()
        sys.exit(128 + signo)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


# ---------------------------------------------------------------- run metadata

def loadavg() -> float | None:
    """The 1-minute load average."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def machine_info() -> dict:
    """CPUs, kernel, tool versions and the checkout, for a results file."""
    import platform

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                                  cwd=REPO).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    rev = out(["git", "rev-parse", "--short", "HEAD"])
    if out(["git", "status", "--porcelain", "--untracked-files=no"]):
        rev += " (uncommitted changes)"
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "node": out(["node", "--version"]),
            "wrk": out(["sh", "-c", "wrk -v 2>&1 | head -1"]),
            "musterd": out([MUSTERD, "--version"]), "git": rev,
            "python": platform.python_version()}
