"""Processes seen through /proc, and deadline polling: part of the integration
tests' fixture (harness.py, which offers all of this as harness.NAME)."""

import os
import time


# --- processes -------------------------------------------------------------

def start_time(pid):
    """The process's start time (clock ticks since boot), or None if gone.
    With the pid it names one process: pids are reused, this pair is not."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Field 2 (comm) may hold spaces; the fields after its ')' are fixed.
    return int(stat.rsplit(")", 1)[1].split()[19])


def pid_alive(pid):
    """True if the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children_of(parent):
    """Pids of the live children of `parent`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if ppid == parent:
            pids.append(int(entry))
    return pids


def recv_until_eof(sock, data=b"", limit=None):
    """`data` plus everything read from `sock` until EOF (a reset ends it
    too), or until there are `limit` bytes."""
    try:
        while limit is None or len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def proc_environ(pid, timeout=5.0):
    """A process's environment. A worker's pid is known once its exec has
    begun: the kernel lets the spawning parent go on (the vfork is done) before
    it has laid out the new environment, so /proc/PID/environ reads empty for
    a moment. Every worker musterd starts has one (MUSTER_APP at least): an
    empty read is retried until the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = [e for e in f.read().split(b"\0") if e]
        if entries or time.monotonic() > deadline:
            return dict(e.decode().split("=", 1) for e in entries)
        time.sleep(0.01)


def open_fds(pid):
    """{fd number: readlink target} of a live process (an fd closed while
    this reads is left out)."""
    d = f"/proc/{pid}/fd"
    fds = {}
    for fd in os.listdir(d):
        try:
            fds[int(fd)] = os.readlink(os.path.join(d, fd))
        except FileNotFoundError:
            pass
    return fds


def settled_fds(pid, timeout=5):
    """open_fds(pid) once the process sleeps and its fds stayed the same for
    0.1 s: a process just started may hold a passing fd of its own (the
    dynamic loader opens libc as fd 3 for a moment), which is not inherited."""
    def state():
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def settled():
        before = open_fds(pid)
        time.sleep(0.1)
        after = open_fds(pid)
        return after if before == after and state() == "S" else None
    return Poll.until(settled, timeout, f"the fds of {pid} to settle")


# --- polling ---------------------------------------------------------------

class Poll:
    """Deadline polling shared by the fixture and tests."""

    interval = 0.02

    @staticmethod
    def until(predicate, timeout, what, describe=lambda: ""):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = predicate()
            except AssertionError:
                raise  # a predicate's own verdict: no point waiting longer
            except Exception as e:  # e.g. reading /proc of a process that just died
                last = e
            if last and not isinstance(last, Exception):
                return last
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; "
                    f"last value: {last!r}{describe()}")
            time.sleep(Poll.interval)

    @staticmethod
    def holds(predicate, duration, what, describe=lambda: ""):
        """Checks that `predicate` stays true for the whole of `duration` (used
        to show that something does NOT happen, e.g. no more restarts)."""
        deadline = time.monotonic() + duration
        while True:
            value = predicate()
            if not value:
                raise AssertionError(f"expected {what} for {duration}s; "
                                     f"it stopped holding: {value!r}{describe()}")
            if time.monotonic() >= deadline:
                return value
            time.sleep(Poll.interval)
