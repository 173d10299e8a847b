"""Security properties (docs/SECURITY.md): who may use the control socket,
privilege drop, what a worker inherits (environment, fds), no shell anywhere,
and a config file others could change is refused while running as root.

Tests that need another uid run clients through setpriv as nobody; they need
root and are skipped, saying so, without it.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import unittest

import chaos_support as cs
import harness
import node_support as ns
from harness import MUSTERCTL, MUSTERD, app

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
IS_ROOT = os.geteuid() == 0
needs_root = unittest.skipUnless(IS_ROOT, "needs root (a second uid, chown, privilege drop)")
needs_setpriv = unittest.skipUnless(IS_ROOT and shutil.which("setpriv") and
                                    os.access(SYSTEM_PYTHON, os.X_OK),
                                    "needs root, setpriv and /usr/bin/python3")

SLEEPER = app("web", "/bin/sleep", args=["600"])

# Connects as whoever runs it; prints what happened as one JSON line.
CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(json.dumps({"connect_error": e.errno})); sys.exit(0)
try:
    s.sendall(sys.argv[2].encode() + b"\\n")
    s.shutdown(socket.SHUT_WR)  # no more requests: an admitted client is answered, then closed
except OSError:
    pass
data = b""
while True:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:
        break
    if not chunk:
        break
    data += chunk
print(json.dumps({"replies": [json.loads(l) for l in data.decode().splitlines()]}))
"""


def as_nobody(*argv, gid=NOBODY):
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={gid}", "--clear-groups", *argv],
        capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)


def client_as_nobody(socket_path, request, gid=NOBODY):
    r = as_nobody(SYSTEM_PYTHON, "-c", CLIENT, socket_path, json.dumps(request), gid=gid)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def status_ids(proc_status_text, key):
    for line in proc_status_text.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"no {key} in /proc status")


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return f.read()


@needs_setpriv
class ControlSocketAccess(harness.TestCase):
    def test_another_uid_cannot_even_connect_to_the_default_0600_socket(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)  # the directory lets nobody through; the socket must not
        d.start(SLEEPER)
        self.assertEqual(stat.S_IMODE(os.lstat(d.socket_path).st_mode), 0o600)
        got = client_as_nobody(d.socket_path, {"verb": "shutdown"})
        self.assertEqual(got, {"connect_error": 13})  # EACCES
        r = as_nobody(MUSTERCTL, "-s", d.socket_path, "shutdown")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIsNone(d.proc.poll())

    def test_a_reachable_socket_still_refuses_every_verb_to_another_uid(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)
        d.start(SLEEPER, control_mode="0666")
        (w,) = d.wait_workers("web", 1)
        base_fds = cs.fd_count(d.proc.pid)
        for request in ({"verb": "shutdown"}, {"verb": "kill", "id": w["id"]},
                        {"verb": "stop", "app": "web"}, {"verb": "status"},
                        {"verb": "events", "follow": True}):
            got = client_as_nobody(d.socket_path, request)
            self.assertEqual(len(got["replies"]), 1, got)
            self.assertIs(got["replies"][0]["ok"], False)
            self.assertIn("permission denied: uid 65534", got["replies"][0]["error"])
        self.assertIsNone(d.proc.poll())
        self.assertEqual([x["id"] for x in d.wait_workers("web", 1)], [w["id"]])
        cs.wait_back_to(d, base_fds)  # refused sessions are not kept

    def test_control_group_admits_its_members_only(self):
        d = self.daemon()
        os.chmod(d.dir, 0o755)
        d.start(SLEEPER, control_group="nogroup")
        st = os.lstat(d.socket_path)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, NOBODY))
        member = client_as_nobody(d.socket_path, {"verb": "ping"})
        self.assertEqual(member["replies"], [{"ok": True, "pong": True}])
        # Same uid, but running without the group: the socket's mode stops it.
        outsider = client_as_nobody(d.socket_path, {"verb": "ping"}, gid=12345)
        self.assertEqual(outsider, {"connect_error": 13})


@needs_root
class PrivilegeDrop(harness.TestCase):
    def ids(self, pid):
        text = proc_status(pid)
        return (status_ids(text, "Uid"), status_ids(text, "Gid"), status_ids(text, "Groups"),
                status_ids(text, "CapEff")[0], status_ids(text, "CapPrm")[0])

    def test_user_and_group_set_every_uid_and_gid_and_the_groups_and_drop_capabilities(self):
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["600"], user="nobody", group="nogroup"))
        (w,) = d.wait_workers("web", 1)
        uids, gids, groups, cap_eff, cap_prm = self.ids(w["pid"])
        self.assertEqual(uids, ["65534"] * 4)  # real, effective, saved, filesystem
        self.assertEqual(gids, ["65534"] * 4)
        self.assertEqual(groups, ["65534"])     # the user's groups, not root's
        self.assertEqual((cap_eff, cap_prm), ("0000000000000000", "0000000000000000"))

    def test_user_alone_takes_the_users_primary_group(self):
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["600"], user="nobody"))
        (w,) = d.wait_workers("web", 1)
        uids, gids, groups, _, _ = self.ids(w["pid"])
        self.assertEqual((uids, gids, groups), (["65534"] * 4, ["65534"] * 4, ["65534"]))

    def test_group_alone_keeps_the_uid_and_replaces_every_group(self):
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["600"], group="nogroup"))
        (w,) = d.wait_workers("web", 1)
        uids, gids, groups, _, _ = self.ids(w["pid"])
        self.assertEqual(uids, [str(os.geteuid())] * 4)
        self.assertEqual((gids, groups), (["65534"] * 4, ["65534"]))

    def test_an_unknown_user_is_refused_at_start_up_not_a_root_worker(self):
        d = self.daemon()
        d.write_config(app("web", "/bin/sleep", args=["600"], user="no-such-user-here",
                           restart="never"))
        r = subprocess.run([MUSTERD, "-c", d.config_path], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('no user named "no-such-user-here"', r.stderr)
        self.assertFalse(os.path.exists(d.socket_path), "musterd must not have started")


def login_variables():
    """What a worker running as this uid gets from its passwd entry."""
    entry = pwd.getpwuid(os.geteuid())
    out = {"USER": entry.pw_name, "LOGNAME": entry.pw_name}
    if entry.pw_dir.strip("/"):
        out["HOME"] = entry.pw_dir
    if not entry.pw_shell.endswith(("/nologin", "/false", "/true")):
        out["SHELL"] = entry.pw_shell
    return out


class WorkerInheritance(harness.TestCase):
    DAEMON_ENV = {"MUSTER_TEST_SECRET": "do-not-leak", "LD_PRELOAD": "", "HOME": "/root-home"}

    def environ_of(self, d, app_name, count=1, state="online"):
        (w,) = d.wait_workers(app_name, count, state=state)
        return w, harness.proc_environ(w["pid"])

    def test_a_plain_worker_gets_path_its_env_and_the_muster_variables_only(self):
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["600"], env={"GREETING": "hi"}),
                env=self.DAEMON_ENV)
        w, env = self.environ_of(d, "web")
        # HOME and the rest are its user's (root's here), never musterd's.
        self.assertEqual(env, {"PATH": os.environ["PATH"], "GREETING": "hi", "MUSTER_APP": "web",
                               "MUSTER_WORKER_ID": str(w["id"]), "MUSTER_INSTANCE": "0",
                               **login_variables()})

    def test_a_node_worker_gets_the_channel_variables_besides(self):
        d = self.daemon()
        d.start(ns.node_app("web", "hello.js"), env=self.DAEMON_ENV)
        w, env = self.environ_of(d, "web", state="listening")
        self.assertEqual(set(env), {"PATH", "MUSTER_APP", "MUSTER_WORKER_ID", "MUSTER_INSTANCE",
                                    *login_variables(), "NODE_CHANNEL_FD", "NODE_UNIQUE_ID",
                                    "NODE_CHANNEL_SERIALIZATION_MODE"})
        self.assertEqual((env["NODE_UNIQUE_ID"], env["NODE_CHANNEL_FD"]), (str(w["id"]), "3"))

    def test_a_systemd_worker_gets_the_activation_variables_besides(self):
        d = self.daemon()
        d.start(ns.socket_table("web") +
                app("web", "/bin/sleep", args=["600"], protocol="systemd", sockets=["web"],
                    scheduling="none", ready="spawn"), env=self.DAEMON_ENV)
        w, env = self.environ_of(d, "web")
        self.assertEqual(set(env), {"PATH", "MUSTER_APP", "MUSTER_WORKER_ID", "MUSTER_INSTANCE",
                                    *login_variables(), "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID", "NOTIFY_SOCKET"})
        self.assertEqual((env["LISTEN_FDS"], env["LISTEN_FDNAMES"], env["LISTEN_PID"]),
                         ("1", "web", str(w["pid"])))

    def test_a_worker_starts_with_no_signal_ignored_or_blocked(self):
        # musterd ignores SIGPIPE and SIGXFSZ itself; an ignored disposition
        # survives exec, so the child must set them back.
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["600"]))
        (w,) = d.wait_workers("web", 1)
        with open(f"/proc/{w['pid']}/status") as f:
            masks = dict(line.split(":\t") for line in f.read().splitlines()
                         if line.startswith(("SigIgn", "SigBlk")))
        ignored = [n for n in range(1, 65) if int(masks["SigIgn"], 16) >> (n - 1) & 1]
        self.assertEqual(ignored, [], f"worker ignores signals {ignored}")
        self.assertEqual(int(masks["SigBlk"], 16), 0, masks)
        with open(f"/proc/{d.proc.pid}/status") as f:
            daemon_ignores = next(line for line in f if line.startswith("SigIgn"))
        mask = int(daemon_ignores.split()[1], 16)
        for signo in (signal.SIGPIPE, signal.SIGXFSZ):
            self.assertTrue(mask >> (signo - 1) & 1, f"musterd does not ignore {signo.name}")

    def test_a_plain_worker_holds_only_stdin_stdout_and_stderr(self):
        d = self.daemon()
        d.start(ns.socket_table("web") + app("web", "/bin/sleep", args=["600"]) +
                app("other", "/bin/sleep", args=["600"]))
        (w,) = d.wait_workers("web", 1)
        d.wait_workers("other", 1)
        fds = harness.settled_fds(w["pid"])
        self.assertEqual(sorted(fds), [0, 1, 2], fds)
        self.assertEqual(fds[0], "/dev/null")


ARGV_DUMP = """#!{python}
import json, os, sys
with open("argv-%d" % os.getpid(), "w") as f:
    json.dump(sys.argv[1:], f)
import time
time.sleep(600)
"""

TRICKY_ARGS = ["$(touch pwned1)", "; touch pwned2", "`touch pwned3`", "*", "a b  c",
               "'quoted'", "|| touch pwned4", "$HOME", ">pwned5", "\\n", ""]


class NoShell(harness.TestCase):
    def test_args_with_shell_metacharacters_arrive_literally(self):
        d = self.daemon()
        d.write_script("dump.py", ARGV_DUMP.format(python=harness.PYTHON))
        d.start(app("web", "./dump.py", cwd=".", args=TRICKY_ARGS))
        (w,) = d.wait_workers("web", 1)
        got = d.wait_for(lambda: d.read_file(f"argv-{w['pid']}"), 10, "the worker's argv")
        self.assertEqual(json.loads(got), TRICKY_ARGS)
        self.assertEqual([f for f in os.listdir(d.dir) if f.startswith("pwned")], [])

    def test_an_exec_with_metacharacters_names_one_file(self):
        d = self.daemon()
        name = "odd; touch pwned $(touch pwned2) name"
        d.write_script(name, ARGV_DUMP.format(python=harness.PYTHON))
        d.start(app("web", "./" + name, cwd=".", args=["x"]))
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: d.read_file(f"argv-{w['pid']}"), 10, "the oddly named worker ran")
        # "/bin/sleep 600" is a file name, not a command line: the config
        # check finds no such file.
        path = d.write_file("split.toml", app("split", "/bin/sleep 600"))
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 2, err)
        self.assertIn("cannot run '/bin/sleep 600': no such file", err)
        self.assertEqual([f for f in os.listdir(d.dir) if f.startswith("pwned")], [])


@needs_root
class UnsafeConfigRefused(harness.TestCase):
    """As root, musterd (start and reload-config) and musterctl check refuse
    a config file that a user other than root could change."""

    def prepared(self):
        d = self.daemon()
        d.write_config(SLEEPER)
        return d

    def musterd_check(self, d):
        return subprocess.run([MUSTERD, "-c", d.config_path], capture_output=True, text=True,
                              timeout=20, stdin=subprocess.DEVNULL)

    def assert_refused_at_start(self, d, fragment):
        r = self.musterd_check(d)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{d.config_path}: refusing a config that others could change", r.stderr)
        self.assertIn(fragment, r.stderr)
        self.assertFalse(os.path.exists(d.socket_path), "it must not have started")

    def test_a_world_writable_config_file_is_refused_at_start(self):
        d = self.prepared()
        os.chmod(d.config_path, 0o666)
        self.assert_refused_at_start(d, f"file {d.config_path} is world-writable (mode 0666)")

    def test_a_config_in_a_world_writable_directory_is_refused_at_start(self):
        d = self.prepared()
        os.chmod(d.dir, 0o777)
        self.assert_refused_at_start(d, f"directory {d.dir} is world-writable (mode 0777)")

    def test_a_config_writable_by_a_group_other_than_roots_is_refused(self):
        d = self.prepared()
        os.chmod(d.config_path, 0o664)
        os.chown(d.config_path, -1, NOBODY)
        self.assert_refused_at_start(d, "is writable by group 65534")

    def test_a_config_owned_by_another_user_is_refused(self):
        d = self.prepared()
        os.chown(d.config_path, NOBODY, -1)
        self.assert_refused_at_start(d, "is owned by uid 65534, not root")

    def test_group_writable_by_root_and_a_sticky_directory_are_accepted(self):
        d = self.prepared()
        os.chmod(d.config_path, 0o664)  # group root
        os.chmod(d.dir, 0o1777)
        d.start()
        d.wait_workers("web", 1)

    def test_musterd_check_refuses_it_too(self):
        d = self.prepared()
        os.chmod(d.config_path, 0o646)
        r = subprocess.run([MUSTERD, "--check", "-c", d.config_path], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("world-writable", r.stderr)

    def test_musterctl_check_refuses_it_too(self):
        d = self.prepared()
        os.chmod(d.config_path, 0o646)
        r = subprocess.run([MUSTERCTL, "check", d.config_path], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("world-writable", r.stderr)
        r = subprocess.run([MUSTERCTL, "--json", "check", d.config_path], capture_output=True,
                           text=True, timeout=20)
        out = json.loads(r.stdout)
        self.assertIs(out["ok"], False)
        self.assertIn("world-writable", out["errors"][0]["message"])

    def test_reload_config_refuses_a_file_made_world_writable_and_keeps_running(self):
        d = self.prepared()
        d.start()
        (w,) = d.wait_workers("web", 1)
        d.write_config(SLEEPER + app("extra", "/bin/sleep", args=["600"]))
        os.chmod(d.config_path, 0o666)
        reply = d.request({"verb": "reload-config"})
        self.assertIs(reply["ok"], False, reply)
        self.assertIn("world-writable", json.dumps(reply))
        self.assertEqual([a["name"] for a in d.status()["apps"]], ["web"])
        self.assertEqual(d.workers("web")[0]["id"], w["id"])
        os.chmod(d.config_path, 0o644)
        self.assertIs(d.request({"verb": "reload-config"})["ok"], True)
        d.wait_workers("extra", 1)


if __name__ == "__main__":
    unittest.main()
