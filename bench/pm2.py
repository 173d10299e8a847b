"""PM2 for the benchmarks, in a private prefix: installed, run and killed by the harness.

install() puts `pm2@latest` from the npm registry into a temporary directory
(`npm install --prefix TMP`, npm's cache in TMP too) that is removed at exit;
PM2_HOME is TMP/home, so nothing touches ~/.pm2. Every pm2 command goes
through Pm2.run(), which sets PM2_HOME; even `pm2 --version` starts PM2's
daemon ("God") when none runs.

Pm2Server runs bench/node_cluster.js in PM2's cluster mode (an ecosystem file:
exec_mode cluster, instances N). PM2's God daemon is a Node cluster primary
(Node's own rr scheduling: PM2 does not change it), and each instance is a
cluster worker running the script's worker branch, so the workers are the same
as under node-rr. Stopping is `pm2 kill`, then a check by pid that the daemon,
the workers and any process with our PM2_HOME in its environment are gone.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import time

import benchlib as B

_PM2: "Pm2 | None" = None


class Pm2:
    """One private PM2 installation and its PM2_HOME."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.home = os.path.join(prefix, "home")
        self.bin = os.path.join(prefix, "node_modules", ".bin", "pm2")
        os.makedirs(self.home, exist_ok=True)
        self.version = self.run(["--version"]).stdout.strip().splitlines()[-1]

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("NODE_CLUSTER_SCHED_POLICY", "PM2_HOME")}
        env["PM2_HOME"] = self.home
        return env

    def run(self, args: list, timeout: float = 120, check: bool = True, **kw):
        r = subprocess.run([self.bin] + args, env=self.env(), capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"pm2 {' '.join(args)} failed ({r.returncode}): "
                               + (r.stderr or r.stdout)[-2000:])
        return r

    def jlist(self) -> list:
        out = self.run(["jlist"]).stdout
        # pm2 may print a banner before the JSON on its first call.
        return json.loads(out[out.index("["):]) if "[" in out else []

    def god_pid(self) -> int | None:
        try:
            with open(os.path.join(self.home, "pm2.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> bool:
        """`pm2 kill`, then make sure by pid that nothing of this PM2_HOME is left.
        True if nothing had to be SIGKILLed."""
        try:
            # PM2 stops its processes one by one: 1000 take it ~20 s on a loaded box.
            self.run(["kill"], timeout=120, check=False)
        except subprocess.TimeoutExpired:
            B.log("bench: pm2 kill did not return in 120 s")
        deadline = time.monotonic() + 5
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        return B.kill_left(self.processes())

    def processes(self) -> list:
        """Live processes whose environment has our PM2_HOME (the daemon, its workers)."""
        mark = f"PM2_HOME={self.home}".encode()
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if mark in f.read().split(b"\0") and B.alive(int(d)):
                        found.append(int(d))
            except OSError:
                continue
        return found


def install(log=B.log) -> Pm2 | None:
    """PM2 from the npm registry into a fresh temporary prefix (once per process);
    None, with a message, if npm or the registry is not there."""
    global _PM2
    if _PM2:
        return _PM2
    if not shutil.which("npm"):
        log("bench: npm is not on PATH; PM2 configurations skipped")
        return None
    prefix = tempfile.mkdtemp(prefix="muster-bench-pm2-")
    atexit.register(shutil.rmtree, prefix, True)
    cmd = ["npm", "install", "--prefix", prefix, "--cache", os.path.join(prefix, "npm-cache"),
           "--no-audit", "--no-fund", "--loglevel=error", "pm2@latest"]
    log(f"bench: installing PM2: {' '.join(cmd)}")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        log("bench: npm install pm2 timed out; PM2 configurations skipped")
        return None
    if r.returncode != 0:
        log(f"bench: npm install pm2 failed (registry unreachable?); PM2 configurations "
            f"skipped:\n{(r.stderr or r.stdout)[-800:]}")
        return None
    pm2 = Pm2(prefix)
    atexit.register(pm2.kill)  # runs before the prefix is removed (atexit is LIFO)
    log(f"bench: PM2 {pm2.version} in {prefix} (PM2_HOME {pm2.home})")
    _PM2 = pm2
    return pm2


def ecosystem(path: str, name: str, script: str, instances: int, mode: str,
              env: dict, args: list | None = None, interpreter: str | None = None) -> str:
    app = {"name": name, "script": script, "exec_mode": mode, "instances": instances,
           "env": env, "autorestart": False, "merge_logs": True,
           "out_file": "/dev/null", "error_file": "/dev/null", "pmx": False,
           "cwd": B.BENCH_DIR}
    if args:
        app["args"] = args
    if interpreter:
        app["interpreter"] = interpreter
    with open(path, "w") as f:
        f.write("module.exports = " + json.dumps({"apps": [app]}, indent=1) + ";\n")
    return path


class Pm2Server(B.Server):
    """pm2-cluster: bench/node_cluster.js, exec_mode cluster, N instances."""

    def __init__(self, name: str, port: int, pm2: Pm2, n_workers: int = 0):
        super().__init__(name, port, kind="pm2", scheduling="rr", worker="node",
                         n_workers=n_workers)
        self.pm2 = pm2
        self.god = None

    @property
    def pid(self) -> int:
        return self.god

    def start(self, timeout: float = 30.0) -> None:
        self.tmp = tempfile.mkdtemp(prefix=f"muster-bench-{self.name}-")
        self.log_path = os.path.join(self.tmp, "pm2.log")
        B.LIVE.append(self)
        eco = ecosystem(os.path.join(self.tmp, "ecosystem.config.js"), "bench", B.NODE_SCRIPT,
                        self.n_workers, "cluster",
                        {"PORT": str(self.port), "HOST": "127.0.0.1",
                         "BENCH_COUNT_DIR": self.tmp})
        r = self.pm2.run(["start", eco], timeout=timeout, check=False)
        with open(self.log_path, "w") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: pm2 start failed\n" + self.log_tail())
        self.god = self.pm2.god_pid()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._workers_ready() and B.http_ok(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not answering after {timeout:.0f}s\n" + self.log_tail())

    def _workers_ready(self) -> bool:
        procs = [p for p in self.pm2.jlist() if p.get("name") == "bench"]
        if len(procs) != self.n_workers or any(p.get("pm2_env", {}).get("status") != "online"
                                               for p in procs):
            return False
        self.worker_pids = [p["pid"] for p in procs]
        return all(self.worker_pids)

    def stop(self, timeout: float = 10.0) -> bool:
        if self in B.LIVE:
            B.LIVE.remove(self)
        clean = self.pm2.kill() & B.kill_left(self.worker_pids)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return clean
