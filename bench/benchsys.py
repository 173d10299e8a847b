"""System helpers of muster's benchmark harness (split from benchlib.py):
the cpu cgroup every run moves into, what /proc says about a process, and
whether a port is free or answers. Python 3 standard library only."""

from __future__ import annotations

import http.client
import os
import signal
import sys
import time


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)

# ---------------------------------------------------------------- CPU group

CPU_CGROUP_ROOT = "/sys/fs/cgroup/cpu"


def enter_cpu_group() -> str:
    """Moves this process (and so everything it starts from now on) into a fresh
    cgroup-v1 cpu group, and returns a note for the results.

    Why: with kernel.sched_autogroup_enabled = 1, CFS shares the CPU between
    *sessions* first. musterd starts every worker in its own session, Node's
    primary keeps its workers in its own, so on a busy box musterd's workers
    would get two shares where Node's get one (and wrk another) -- a scheduling
    artefact, not a property of the primary. Tasks in a non-root cpu cgroup are
    never autogrouped: inside our group every process competes on its own, as in
    a systemd service. The group is removed at exit (leave_cpu_group)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            autogroup = f.read().strip() == "1"
    except OSError:
        autogroup = False
    path = os.path.join(CPU_CGROUP_ROOT, f"muster-bench-{os.getpid()}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    except OSError as e:
        try:
            os.rmdir(path)
        except OSError:
            pass
        if autogroup:
            log(f"bench: could not use a cpu cgroup ({e}); autogroup stays on, results are "
                "skewed in favour of musterd on a busy machine")
            return "autogroup on, not neutralized (no cpu cgroup)"
        return "autogroup off"
    import atexit
    atexit.register(leave_cpu_group, path)
    return f"all benchmark processes in one cpu cgroup ({path}; autogroup bypassed)"


def leave_cpu_group(path: str) -> None:
    try:
        with open(os.path.join(CPU_CGROUP_ROOT, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    except OSError:
        pass
    for _ in range(50):  # children that have just exited may still be listed briefly
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    log(f"bench: could not remove {path} (still in use?)")


# ---------------------------------------------------------------- /proc

def cpu_ticks(pid: int) -> int | None:
    """utime + stime of one process, in clock ticks (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])  # fields 14 and 15
    except (OSError, IndexError, ValueError):
        return None


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_members(pgid: int) -> list:
    """Live (non-zombie) processes in process group pgid."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) == pgid and rest[0] != "Z":
            found.append(int(d))
    return found


def kill_left(pids) -> bool:
    """SIGKILLs those of pids still alive; True if none was."""
    left = [p for p in pids if alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return not left


def port_free(port: int) -> bool:
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def http_ok(port: int, timeout: float = 1.0) -> str | None:
    """One GET with Connection: close; the body, or None."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", "/", headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        c.close()
        return body if r.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None


def listen_sockets(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:port, from /proc/net/tcp: 1 for one shared
    socket, one per slot under a working reuseport."""
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    n += 1
    except (OSError, ValueError, IndexError, StopIteration):
        return 0
    return n
