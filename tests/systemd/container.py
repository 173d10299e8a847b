"""A Debian 12 container booted with `systemd-nspawn --boot`: a real systemd
as PID 1, for the checks in tests/systemd/.

The root filesystem (tests/systemd/rootfs) is mounted with --volatile=overlay:
everything a test writes lands in a tmpfs and is gone at power-off, so every
boot starts from the same clean system. The container has a network namespace
of its own with only loopback (--private-network): nothing it binds can clash
with the host or another run. Commands run inside through `nsenter` into all
of its namespaces (`run`); host programs such as the load client run in its
network namespace only (`host_in_netns`).

Confinement: systemd-nspawn runs in a cgroup of its own, so that power-off can
be verified (no process left in it) and anything left is killed. On a host
whose PID 1 is not systemd (a plain VM or a CI runner's container) that cgroup
is created directly, in the name=systemd and unified hierarchies (or the one
cgroup2 hierarchy); on a systemd host, `systemd-run --scope -p Delegate=yes`
makes it. In both cases nspawn is told --keep-unit --register=no: it needs
neither D-Bus nor systemd-machined then.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Poll  # noqa: E402

# PATH and locale inside; no pager, no colours, no "press a key".
INSIDE_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=",
              "SYSTEMD_COLORS=0", "SYSTEMD_LOG_COLOR=0", "TERM=dumb"]


class CommandFailed(AssertionError):
    pass


def systemd_is_pid1():
    return os.path.isdir("/run/systemd/system")


class Cgroup:
    """The cgroup systemd-nspawn and the whole container run in (see module doc)."""

    def __init__(self, name):
        self.name = name
        self.dirs = []      # directories created by us (cgroupfs, no systemd)
        self.scope = None   # or a systemd scope unit
        if systemd_is_pid1():
            self.scope = name + ".scope"
            return
        root = "/sys/fs/cgroup"
        if os.path.exists(os.path.join(root, "cgroup.controllers")):
            hierarchies = [root]  # cgroup2 only
        else:
            hierarchies = [os.path.join(root, h) for h in ("systemd", "unified")
                           if os.path.ismount(os.path.join(root, h))]
        for h in hierarchies:
            path = os.path.join(h, name)
            os.mkdir(path)
            self.dirs.append(path)

    def command_prefix(self):
        if self.scope:
            return ["systemd-run", "--quiet", "--scope", "--unit", self.scope,
                    "-p", "Delegate=yes", "--"]
        return []

    def enter(self):
        """preexec_fn: moves the child into the cgroup before it execs nspawn."""
        for d in self.dirs:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write("0")

    def pids(self):
        """Every process still in the cgroup tree."""
        pids = set()
        tops = self.dirs[:1]
        if self.scope:
            out = subprocess.run(["systemctl", "show", "-P", "ControlGroup", self.scope],
                                 capture_output=True, text=True).stdout.strip()
            if out:
                base = "/sys/fs/cgroup"
                for h in ("", "systemd", "unified"):
                    candidate = os.path.join(base, h, out.lstrip("/"))
                    if os.path.isdir(candidate):
                        tops = [candidate]
                        break
        for top in tops:
            for dirpath, _, files in os.walk(top):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(dirpath, "cgroup.procs")) as f:
                            pids.update(int(p) for p in f.read().split())
                    except OSError:
                        pass
        return pids

    def kill_all(self):
        if self.scope:
            subprocess.run(["systemctl", "kill", "--signal=SIGKILL", self.scope],
                           capture_output=True)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self):
        if self.scope:
            subprocess.run(["systemctl", "stop", self.scope], capture_output=True)
            subprocess.run(["systemctl", "reset-failed", self.scope], capture_output=True)
        for d in self.dirs:
            # Deepest first; the container's own cgroups are empty by now.
            for dirpath, _, _ in sorted(os.walk(d), key=lambda e: -e[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


class Container:
    def __init__(self, rootfs, binds=(), name=None, log_path=None):
        """`binds`: (host path, path inside) pairs, mounted read-only."""
        self.rootfs = rootfs
        self.binds = list(binds)
        self.name = name or f"muster-systemd-test-{os.getpid()}"
        self.log_path = log_path or f"/tmp/{self.name}.nspawn.log"
        self.cgroup = None
        self.proc = None
        self.leader = None

    # --- life ---------------------------------------------------------------

    def boot(self, timeout=90):
        """Starts the container and waits until its systemd says the system
        is running (`systemctl is-system-running --wait`)."""
        self.cgroup = Cgroup(self.name)
        args = self.cgroup.command_prefix() + [
            "systemd-nspawn", "--quiet", "--boot", "--directory", self.rootfs,
            "--machine", self.name, "--volatile=overlay", "--private-network",
            "--register=no", "--keep-unit", "--console=passive"]
        for host, inside in self.binds:
            args.append(f"--bind-ro={host}:{inside}")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, preexec_fn=self.cgroup.enter)
        log.close()
        self.leader = Poll.until(self._find_leader, timeout, "the container's systemd to start",
                                 lambda: "\n" + self.nspawn_log())
        # The leader exists before its systemd has set up /run; until then
        # systemctl answers "offline" or cannot connect.
        self.wait_for(lambda: self.run(["systemctl", "is-system-running"], check=False)
                      .stdout.strip() in ("initializing", "starting", "running", "degraded"),
                      timeout, "the container's systemd to answer",
                      lambda: "\n" + self.nspawn_log())
        state = self.run(["systemctl", "is-system-running", "--wait"], check=False,
                         timeout=timeout)
        if state.stdout.strip() not in ("running", "degraded"):
            raise CommandFailed(f"the container did not boot: {state.stdout.strip()} "
                                f"{state.stderr.strip()}\n{self.nspawn_log()}")
        if state.stdout.strip() == "degraded":
            failed = self.run(["systemctl", "--failed", "--no-legend"], check=False).stdout
            raise CommandFailed(f"the container booted degraded; failed units:\n{failed}")

    def _find_leader(self):
        """The container's PID 1 as the host sees it: the process running
        systemd whose parent is nspawn (or the scope's nspawn)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited with {self.proc.returncode}:\n"
                                 f"{self.nspawn_log()}")
        for pid in self.cgroup.pids():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                with open(f"/proc/{pid}/status") as f:
                    nspid = [line.split()[1:] for line in f if line.startswith("NSpid:")][0]
            except (OSError, IndexError):
                continue
            # NSpid: host pid, then its pid in the container's namespace.
            if comm == "systemd" and len(nspid) > 1 and nspid[-1] == "1":
                return pid
        return None

    def nspawn_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def poweroff(self, timeout=60):
        """Powers the container off and verifies that nothing of it is left;
        kills what is (and says so). Safe to call more than once."""
        if self.proc is None:
            return
        left = set()
        try:
            if self.proc.poll() is None:
                # nspawn turns SIGTERM into the container's orderly power-off.
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            left = self.cgroup.pids()
            if left:
                self.cgroup.kill_all()
                Poll.until(lambda: not self.cgroup.pids(), 10, "the container's processes to die")
        finally:
            self.cgroup.remove()
            self.proc = None
            try:
                os.unlink(self.log_path)
            except OSError:
                pass
        if left:
            raise AssertionError(f"processes left after the container powered off: {sorted(left)}")

    # --- commands -----------------------------------------------------------

    def _nsenter(self, namespaces):
        return ["nsenter", "--target", str(self.leader)] + namespaces

    def run(self, args, check=True, timeout=60, input=None):
        """Runs a command inside the container (all its namespaces, its
        root); returns the CompletedProcess (text). With check, a non-zero
        exit raises CommandFailed with the command's output."""
        cmd = self._nsenter(["--all", "--", "env", "-i"] + INSIDE_ENV) + list(args)
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                    input=input, errors="replace")
        except subprocess.TimeoutExpired as e:
            raise CommandFailed(f"{' '.join(args)} took longer than {timeout}s; output so far:\n"
                                f"{e.stdout or ''}{e.stderr or ''}") from None
        if check and result.returncode != 0:
            raise CommandFailed(f"{' '.join(args)} exited with {result.returncode}:\n"
                                f"{result.stdout}{result.stderr}")
        return result

    def sh(self, script, **kw):
        return self.run(["sh", "-c", script], **kw)

    def write(self, path, text, mode="0644"):
        self.run(["sh", "-c", f'umask 022 && mkdir -p "$(dirname "$0")" && cat > "$0" && '
                  f'chmod {mode} "$0"', path], input=text)

    def read(self, path):
        return self.run(["cat", path]).stdout

    def host_in_netns(self, args, **popen):
        """Starts a host program in the container's network namespace only
        (it sees the container's 127.0.0.1, the host's files)."""
        return subprocess.Popen(self._nsenter(["--net", "--"]) + list(args), **popen)

    def host_in_netns_run(self, args, timeout=30):
        return subprocess.run(self._nsenter(["--net", "--"]) + list(args), capture_output=True,
                              text=True, timeout=timeout)

    # --- systemd ------------------------------------------------------------

    def systemctl(self, *args, check=True, timeout=90):
        return self.run(["systemctl", "--no-pager"] + list(args), check=check, timeout=timeout)

    def show(self, unit, prop):
        return self.systemctl("show", "-P", prop, unit).stdout.strip()

    def journal(self, *args, lines=None):
        extra = ["-n", str(lines)] if lines else []
        return self.run(["journalctl", "--no-pager", "-q"] + extra + list(args),
                        check=False).stdout

    def wait_for(self, predicate, timeout, what, describe=lambda: ""):
        return Poll.until(predicate, timeout, what, describe)

    def wait_active(self, unit, timeout=30):
        return self.wait_for(lambda: self.show(unit, "ActiveState") == "active", timeout,
                             f"{unit} to be active",
                             lambda: "\n" + self.journal("-u", unit, lines=40))

    def unit_pids(self, unit):
        """The pids in the unit's cgroup, as the container sees them (none
        once it is gone)."""
        group = self.show(unit, "ControlGroup")
        if not group:
            return []
        out = self.sh(f'for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do '
                      f'  f="$h{group}/cgroup.procs"; [ -f "$f" ] && {{ cat "$f"; exit 0; }}; '
                      f'done; exit 0', check=False).stdout
        return sorted(int(p) for p in out.split())
