"""Chaos machinery shared by test_chaos.py (bounded runs) and scripts/soak
(long runs): the daemon's own vital signs, the kill storm under HTTP load,
and the restart churn. Nothing here sleeps to hope for a state; the storm's
pacing (a kill every N ms) is the point of it, not a wait.
"""

import json
import os
import random
import signal
import socket
import threading
import time

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
CHAOS_WORKERS = os.path.join(HERE, "chaos_workers")


def chaos_worker(name):
    return os.path.join(CHAOS_WORKERS, name)


# --- the daemon's vital signs -------------------------------------------------

def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def proc_stat(pid):
    """(state, ppid) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def zombies_of(parent):
    """Pids of `parent`'s children that have exited and not been reaped."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[1] == parent and st[0] == "Z":
                out.append(int(entry))
    return out


def vitals(pid):
    return {"fds": fd_count(pid), "rss": rss_bytes(pid), "zombies": len(zombies_of(pid)),
            "fd_targets": fd_targets(pid)}


def timed_status(d, timeout=10):
    """(seconds, reply) of one status request on a fresh connection."""
    began = time.monotonic()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(d.socket_path)  # blocking: a full backlog is waited for, and timed
        s.settimeout(timeout)
        s.sendall(b'{"verb":"status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    return time.monotonic() - began, json.loads(data)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- the kill storm -------------------------------------------------------------

def storm_app(port_socket="web", instances=4, **keys):
    """Sockets and app tables for storm_http.js under rr scheduling. Restart
    delays are tiny and crash-loop detection is off: the storm kills faster
    than any sane max_restarts."""
    keys = {"protocol": "node", "sockets": [port_socket], "scheduling": "rr",
            "instances": instances, "restart_delay": "10ms", "restart_delay_max": "20ms",
            "min_uptime": "10ms", "max_restarts": 1000000, "restart_window": "1s",
            "pending_timeout": "60s", "output": "null", **keys}
    return (harness.toml_table(f"sockets.{port_socket}", {"listen": "127.0.0.1:0"}) +
            harness.app("storm", harness_node(), args=[chaos_worker("storm_http.js")], **keys))


def harness_node():
    import node_support
    node = node_support.NODE
    if not node:
        raise RuntimeError("node is not on PATH (scripts/setup-deps installs it)")
    return node


def source_address(n):
    """A loopback address of its own for the n-th client connection."""
    return f"127.{1 + n // 62500 % 250}.{n // 250 % 250 + 1}.{n % 250 + 2}"


class Storm:
    """HTTP load on `port` from `clients` threads (each request a new
    connection from an address of its own) while a killer SIGKILLs a random
    worker of `app` every `period` seconds and a prober times `status`.
    run() returns when `duration` is over and every request has ended."""

    def __init__(self, d, app, port, log_dir, duration, period=0.1, clients=8,
                 request_timeout=30):
        self.d, self.app, self.port, self.log_dir = d, app, port, log_dir
        self.duration, self.period, self.clients = duration, period, clients
        self.request_timeout = request_timeout
        self.lock = threading.Lock()
        self.next_client = 0
        self.ok = []          # source addresses answered 200
        self.failed = []      # (source address, what happened)
        self.killed = set()   # worker pids we SIGKILLed
        self.status_latency = []
        self.status_errors = []
        self.stop = threading.Event()

    def _address(self):
        with self.lock:
            self.next_client += 1
            return source_address(self.next_client)

    def _one_request(self):
        addr = self._address()
        try:
            with socket.socket() as s:
                s.settimeout(self.request_timeout)
                s.bind((addr, 0))
                s.connect(("127.0.0.1", self.port))
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            if data.startswith(b"HTTP/1.1 200") and b"\r\n\r\nok " in data:
                with self.lock:
                    self.ok.append(addr)
            else:
                with self.lock:
                    self.failed.append((addr, f"answer {data[:60]!r}"))
        except OSError as e:
            with self.lock:
                self.failed.append((addr, repr(e)))

    def _client(self):
        while not self.stop.is_set():
            self._one_request()

    def _killer(self):
        rng = random.Random(7)
        next_kill = time.monotonic()
        while not self.stop.is_set():
            next_kill += self.period
            try:
                workers = [w for w in self.d.workers(self.app) if w["pid"] and w["state"] != "dead"]
            except Exception:  # noqa: BLE001 - the prober reports status failures
                workers = []
            if workers:
                pid = rng.choice(workers)["pid"]
                try:
                    os.kill(pid, signal.SIGKILL)
                    with self.lock:
                        self.killed.add(pid)
                except ProcessLookupError:
                    pass
            self.stop.wait(max(0.0, next_kill - time.monotonic()))

    def _prober(self):
        while not self.stop.is_set():
            try:
                seconds, reply = timed_status(self.d)
                if not reply.get("ok"):
                    raise AssertionError(f"status failed: {reply}")
                self.status_latency.append(seconds)
            except Exception as e:  # noqa: BLE001 - reported by the caller
                self.status_errors.append(repr(e))
            self.stop.wait(0.05)

    def run(self):
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        threads.append(threading.Thread(target=self._killer, daemon=True))
        threads.append(threading.Thread(target=self._prober, daemon=True))
        for t in threads:
            t.start()
        self.stop.wait(self.duration)
        self.stop.set()
        for t in threads:
            t.join(self.request_timeout + 10)
            if t.is_alive():
                raise AssertionError("a storm thread did not finish")
        return self

    # -- the verdict --

    def accepted_by(self):
        """{client address: [pids of the workers that noted it]}."""
        seen = {}
        for name in os.listdir(self.log_dir):
            if not name.startswith("accepted-"):
                continue
            pid = int(name.split("-", 1)[1])
            with open(os.path.join(self.log_dir, name)) as f:
                for line in f:
                    seen.setdefault(line.strip(), []).append(pid)
        return seen

    def lost(self):
        """Failed requests that no killed worker had: lost in the daemon's hands."""
        seen = self.accepted_by()
        return [(addr, why, seen.get(addr, [])) for addr, why in self.failed
                if not any(pid in self.killed for pid in seen.get(addr, []))]

    def summary(self):
        lat = self.status_latency
        return {
            "requests": len(self.ok) + len(self.failed), "ok": len(self.ok),
            "failed": len(self.failed), "lost": len(self.lost()), "kills": len(self.killed),
            "status_probes": len(lat), "status_errors": len(self.status_errors),
            "status_p50_ms": round(1000 * (percentile(lat, 50) or 0), 1),
            "status_p99_ms": round(1000 * (percentile(lat, 99) or 0), 1),
            "status_max_ms": round(1000 * max(lat or [0]), 1),
        }


def settle(d, app, instances, timeout=60):
    """Waits until the app has its workers listening, nothing held, and the
    daemon has no zombie children; returns the daemon's vitals then."""
    d.wait_workers(app, instances, timeout=timeout, state="listening")

    def idle():
        a = d.app_status(app)
        return a["pending"] == 0 and not zombies_of(d.proc.pid)
    d.wait_for(idle, timeout, f"{app}: nothing pending and no zombies")
    return vitals(d.proc.pid)


def wait_back_to(d, baseline_fds, timeout=30, baseline_targets=None):
    """Waits until musterd holds no more than `baseline_fds` fds again (the
    baseline may include a transient one, e.g. a worker's output pipe)."""
    try:
        return d.wait_for(lambda: fd_count(d.proc.pid) <= baseline_fds or None, timeout,
                          f"musterd's fd count back at {baseline_fds}")
    except AssertionError as e:
        # What the extra ones are says where they leak (or who holds them).
        now = fd_targets(d.proc.pid)
        raise AssertionError(f"{e}\nmusterd's fds now: {now}\nat the baseline: "
                             f"{baseline_targets}\nby kind, now minus then: "
                             f"{fd_kinds_added(baseline_targets or [], now)}") from None


def fd_kinds_added(before, after):
    """How many more fds of each kind (socket, pidfd, pipe, a path) `after` has."""
    def kinds(targets):
        counts = {}
        for t in targets:
            kind = t.split("->", 1)[1].split(":[", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts
    b, a = kinds(before), kinds(after)
    return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b) if a.get(k, 0) != b.get(k, 0)}


def fd_targets(pid):
    """Each open fd of `pid` with what it is (socket:[inode], pipe:[inode], a path)."""
    targets = []
    for n in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            targets.append(f"{n}->{os.readlink(f'/proc/{pid}/fd/{n}')}")
        except OSError:
            pass  # closed meanwhile
    return targets


# --- restart churn ----------------------------------------------------------------

def churn_app(instances=2, **keys):
    """An app whose workers exit at once and are restarted at once."""
    keys = {"restart": "always", "restart_delay": "1ms", "restart_delay_max": "1ms",
            "min_uptime": "1ms", "max_restarts": 100000000, "restart_window": "1s",
            "instances": instances, "output": "null", **keys}
    return harness.app("churn", "/bin/true", **keys)


def last_worker_id(d):
    """The highest worker id the daemon has handed out so far (from status)."""
    return max((w["id"] for w in d.app_status("churn")["workers"]), default=0)


def wait_restarts(d, count, timeout):
    """Waits until `count` workers in all have been started."""
    return d.wait_for(lambda: last_worker_id(d) >= count or None, timeout,
                      f"{count} worker starts")


def to_json(obj):
    return json.dumps(obj, indent=2, sort_keys=True)
