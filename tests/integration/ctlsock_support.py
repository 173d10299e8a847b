"""What the control socket tests (test_control_socket_*.py) share: running
as nobody, an impostor that binds a socket and answers like musterd, and a
shell script run in a private mount namespace with fresh /tmp and /run, so
that a test of musterd's default paths never touches the box's own /tmp or
/run (other tests run at the same time).
"""

import json
import os
import shutil
import signal
import subprocess
import unittest

import harness

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

needs_setpriv = unittest.skipUnless(
    os.geteuid() == 0 and shutil.which("setpriv") and os.access(SYSTEM_PYTHON, os.X_OK),
    "needs root, setpriv and /usr/bin/python3 (CI runs as root)")
needs_namespace = unittest.skipUnless(
    os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv"),
    "a private mount namespace needs root, unshare and setpriv (CI runs as root)")

# Binds argv[1] (the name appears once it listens), then answers every request line as musterd would say yes
# ({"ok": true, ...}), and appends what each connection sent to argv[2] as one
# JSON line {"sent": TEXT}: an empty TEXT is a client that sent nothing.
IMPOSTOR = r"""
import json, os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path + ".new")
s.listen(16)
os.rename(path + ".new", path)  # the name appears once it answers
while True:
    c, _ = s.accept()
    c.settimeout(2)
    data = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
            for line in chunk.splitlines():
                c.sendall(b'{"ok":true,"app":"a","pong":true}\n')
    except OSError:
        pass
    c.close()
    with open(log, "a") as f:
        f.write(json.dumps({"sent": data.decode(errors="replace")}) + "\n")
"""


def impostor_log(path):
    """What each connection to the impostor sent, in order."""
    try:
        with open(path) as f:
            return [json.loads(line)["sent"] for line in f]
    except FileNotFoundError:
        return []


def write_impostor(d):
    """IMPOSTOR as impostor.py in the test's directory, and its log
    impostor.log (writable by nobody)."""
    os.chmod(d.dir, 0o755)
    return d.write_file("impostor.py", IMPOSTOR), d.write_file("impostor.log", "", 0o666)


def start_impostor(test, d, socket_path):
    """Runs IMPOSTOR as nobody on `socket_path` (its directory must let nobody
    create it); returns its log path once it listens."""
    script, log = write_impostor(d)
    proc = subprocess.Popen([*AS_NOBODY, SYSTEM_PYTHON, script, socket_path, log],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    test.addCleanup(stop_group, proc)
    d.wait_for(lambda: os.path.exists(socket_path) or proc.poll() is not None, 10,
               "the impostor to listen")
    if proc.poll() is not None:
        raise AssertionError(f"the impostor failed: {proc.stderr.read().decode()}")
    return log


def stop_group(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    if proc.stderr:
        proc.stderr.close()


def clean_env(**extra):
    """The test's environment without anything that picks a control socket."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "MUSTER_SOCKET",
                        "MUSTER_CONFIG", "MUSTER_DAEMON_UID")}
    env.update(extra)
    return env


# Prepended to every namespace script: fresh tmpfs on /run and /tmp (a 1777
# /tmp, as on a host), with the test's directory bound at /run/t first.
NAMESPACE_PROLOGUE = """set -u
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/t
mount --bind {dir} /run/t
mount -t tmpfs -o mode=1777 tmpfs /tmp
MUSTERD={musterd}
MUSTERCTL={musterctl}
AS_NOBODY="{as_nobody}"
# Polls (up to 10 s) until `musterctl ARGS...` succeeds.
wait_ping() {{
  for i in $(seq 100); do "$@" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}}
"""


def run_in_namespace(d, script, timeout=60, **env):
    """Runs `script` (sh) in a private mount namespace (NAMESPACE_PROLOGUE
    first); the test's directory is /run/t there. Background processes must
    write to files, not to the script's output (which is read to its end).
    Returns the CompletedProcess (stderr merged into stdout); every process
    left in the script's process group is killed."""
    os.chmod(d.dir, 0o755)
    prologue = NAMESPACE_PROLOGUE.format(dir=d.dir, musterd=harness.MUSTERD,
                                         musterctl=harness.MUSTERCTL,
                                         as_nobody=" ".join(AS_NOBODY))
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", prologue + script],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=clean_env(MUSTER_CONFIG="/run/t/muster.toml", **env), start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        # Whatever the script left in its process group (an impostor, a
        # musterd); musterd's workers die with musterd (PDEATHSIG).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
