"""A Node worker gets only what its app's config gives it (docs/SECURITY.md,
"Sockets bound on demand"): musterd, running as root, binds what a worker's
listen() names with the worker's own credentials, never removes a file it did
not make, and bounds how many sockets one app's workers can make it hold.

The workers here run as nobody under a root musterd (CI runs as root); without
root these tests are skipped, saying so.
"""

import json
import os
import random
import resource
import shutil
import socket
import tempfile
import time
import unittest

import chaos_support as cs
import client_support as cli
import harness
import listen_support as ls
import node_support as ns

NOBODY, NOGROUP = 65534, 65534
needs_root = unittest.skipUnless(os.geteuid() == 0,
                                 "needs root (musterd as root, workers as nobody)")


def nobody_app(name, script, spec=None, **keys):
    """A node app whose workers run as nobody, from "/" (the test's temp dir
    is root's own, 0700), not refilled when they exit."""
    keys.setdefault("instances", 1)
    keys.setdefault("restart", "never")
    if spec is not None:
        keys["env"] = ls.env(spec)
    return ns.node_app(name, script, user="nobody", group="nogroup", cwd="/", **keys)


def report(d, app):
    """The first listen report of APP's worker: ("listening", address) or
    ("error", CODE)."""
    (message,) = ls.musterd_reports(d, app, 1)[:1]
    if "error" in message:
        return ("error", message["error"])
    address = message["listening"]
    return ("listening", address if isinstance(address, str) else address["port"])


def on_demand_sockets(d):
    return [s for s in d.status()["sockets"] if s.get("on_demand")]


def private_dir(test, owner=0, mode=0o755):
    """A new directory owned by `owner`, removed at cleanup."""
    path = tempfile.mkdtemp(prefix="muster-od-")
    test.addCleanup(shutil.rmtree, path, True)
    os.chown(path, owner, owner)
    os.chmod(path, mode)
    return path


def as_nobody(action):
    """Runs `action()` in a child process running as nobody (what a worker
    could do itself); raises if it fails."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.setgroups([])
            os.setgid(NOGROUP)
            os.setuid(NOBODY)
            action()
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the action as nobody failed"


def refused(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def unprivileged_port_start():
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            return int(f.read())
    except OSError:
        return 1024


def free_privileged_port(test, avoid=()):
    """A port below ip_unprivileged_port_start that is free on 127.0.0.1."""
    start = unprivileged_port_start()
    if start <= 2:
        test.skipTest(f"ip_unprivileged_port_start is {start}: no privileged ports here")
    for port in random.sample(range(max(1, start // 2), start), min(200, start // 2)):
        if port in avoid:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    test.skipTest("no free privileged port on 127.0.0.1")


def stale_socket(path):
    """A unix socket file nobody listens on (bound, then closed)."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()


@needs_root
class WorkerCredentials(ns.TestCase):
    def test_a_privileged_port_is_refused_to_a_nobody_worker_and_a_declared_one_serves(self):
        undeclared = free_privileged_port(self)
        declared = free_privileged_port(self, avoid=(undeclared,))
        d = self.daemon()
        d.start(ns.socket_table("low", f"127.0.0.1:{declared}") +
                nobody_app("asks", "listen.js",
                           {"kind": "tcp", "port": undeclared, "host": "127.0.0.1"}) +
                nobody_app("given", "listen.js",
                           {"kind": "tcp", "port": declared, "host": "127.0.0.1"},
                           sockets=["low"]) +
                nobody_app("udp", "listen.js",
                           {"kind": "udp4", "port": undeclared, "address": "127.0.0.1"}))
        self.assertEqual(report(d, "asks"), ("error", "EACCES"))
        self.assertEqual(report(d, "udp"), ("error", "EACCES"))  # dgram bind(): the same rule
        self.assertTrue(refused(undeclared), f"something listens on {undeclared}")
        self.assertEqual(on_demand_sockets(d), [])
        d.wait_log("needs root")
        # The operator's choice: a declared privileged port serves the same user.
        self.assertEqual(report(d, "given"), ("listening", declared))
        self.assertTrue(ls.tcp_client("127.0.0.1", declared).startswith("worker "))

    def test_a_unix_path_in_a_root_only_directory_is_refused_and_nothing_is_created(self):
        root_only = private_dir(self, owner=0, mode=0o755)
        path = os.path.join(root_only, "evil.sock")
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "path": path}))
        self.assertEqual(report(d, "web"), ("error", "EACCES"))
        self.assertFalse(os.path.lexists(path), "a socket file was created for nobody")
        self.assertEqual(on_demand_sockets(d), [])

    def listening_in_its_own_directory(self):
        """A nobody worker listening on web.sock in a directory of nobody's:
        (daemon, path)."""
        path = os.path.join(private_dir(self, owner=NOBODY, mode=0o755), "web.sock")
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "path": path}))
        self.assertEqual(report(d, "web"), ("listening", path))
        return d, path

    def test_a_unix_path_is_bound_as_the_worker_and_its_file_is_the_workers(self):
        d, path = self.listening_in_its_own_directory()
        st = os.lstat(path)
        self.assertEqual((st.st_uid, st.st_gid), (NOBODY, NOGROUP), "the socket is not nobody's")
        with ns.connect(path) as client:
            self.assertTrue(client.recv(64).startswith(b"worker "))
        (entry,) = on_demand_sockets(d)
        self.assertEqual((entry["app"], entry["bound"]), ("web", f"unix:{path}"))
        self.assertEqual(entry["name"], f"unix {path}")

    def test_when_its_worker_leaves_a_unix_socket_closes_after_the_grace_and_its_file_goes(self):
        d, path = self.listening_in_its_own_directory()
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        stopped = time.monotonic()
        # on_demand_grace, 10 s by default: a restarting worker would find it.
        d.holds(lambda: os.path.lexists(path), 8, "the socket file to stay for the grace")
        d.wait_for(lambda: not os.path.lexists(path), 6, "the socket file to be removed")
        self.assertGreater(time.monotonic() - stopped, 9.5)
        self.assertEqual(on_demand_sockets(d), [])

    def test_an_existing_socket_file_is_never_unlinked_or_taken_over(self):
        mine = private_dir(self, owner=NOBODY, mode=0o755)
        path = os.path.join(mine, "stale.sock")
        stale_socket(path)  # root's, and nobody listens on it
        before = os.lstat(path)
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "path": path}))
        self.assertEqual(report(d, "web"), ("error", "EADDRINUSE"))
        after = os.lstat(path)
        self.assertEqual((after.st_ino, after.st_uid), (before.st_ino, 0), "the file was replaced")
        self.assertEqual(on_demand_sockets(d), [])

    def test_a_directory_swapped_for_a_symlink_before_exit_deletes_no_file_of_roots(self):
        mine = private_dir(self, owner=NOBODY, mode=0o755)
        secret = private_dir(self, owner=0, mode=0o700)
        work = os.path.join(mine, "work")
        os.mkdir(work)
        os.chown(work, NOBODY, NOGROUP)
        path = os.path.join(work, "app.sock")
        precious = os.path.join(secret, "app.sock")
        with open(precious, "w") as f:
            f.write("root's\n")
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "path": path}))
        self.assertEqual(report(d, "web"), ("listening", path))
        # What the worker's user can do: move its directory away and leave a
        # symlink to a root-only directory in its place.
        moved = os.path.join(mine, "moved")
        def swap():
            os.rename(work, moved)
            os.symlink(secret, work)
        as_nobody(swap)
        d.signal(15)  # a plain `systemctl restart` does this
        self.assertEqual(d.wait_exit(15), 0)
        self.assertTrue(os.path.exists(precious), "musterd deleted a file of root's")
        # The socket musterd made is removed where it was made.
        self.assertFalse(os.path.lexists(os.path.join(moved, "app.sock")))


@needs_root
class OnDemandSwitch(ns.TestCase):
    def test_an_on_demand_socket_is_named_for_its_address_not_by_nodes_key(self):
        port = ls.free_port()
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "port": port}))
        self.assertEqual(report(d, "web"), ("listening", port))
        (entry,) = on_demand_sockets(d)
        self.assertEqual(entry["name"], f"tcp *:{port}")  # was "node:null:PORT:4:undefined:0"

    def test_on_demand_false_refuses_every_undeclared_listen_with_eacces(self):
        port = ls.free_port()
        d = self.daemon()
        d.start(nobody_app("web", "listen.js", {"kind": "tcp", "port": port, "host": "127.0.0.1"},
                           on_demand=False))
        self.assertEqual(report(d, "web"), ("error", "EACCES"))
        self.assertTrue(refused(port))
        self.assertEqual(on_demand_sockets(d), [])
        d.wait_log("on_demand = false")


# A raw Node-protocol worker asking for ASKS servers on the declared port
# $PORT (each with its own index, as Node numbers listens on one address);
# notes the errno of every answer in ./answers.json.
ASKS = 4100
MANY_SERVERS = ns.RAW_WORKER + f"""
port = int(os.environ["PORT"])
for seq in range({ASKS}):
    send({{"cmd": "NODE_CLUSTER", "act": "queryServer", "seq": seq, "index": seq,
           "data": None, "address": "127.0.0.1", "port": port, "addressType": 4}})
answers = {{}}
for _ in range({ASKS}):
    errno = receive().get("errno")
    answers[str(errno)] = answers.get(str(errno), 0) + 1
note("answers.json", json.dumps(answers))
time.sleep(600)
"""


class ServersPerWorker(ns.TestCase):
    def test_a_worker_holds_at_most_4096_servers_then_gets_emfile(self):
        d = self.daemon()
        d.write_script("many.py", MANY_SERVERS)
        port = ns.free_port()
        d.start(ns.socket_table("web", f"127.0.0.1:{port}") +
                harness.app("web", "./many.py", cwd=".", protocol="node", sockets=["web"],
                            restart="never", env={"PORT": str(port)}))
        d.wait_for(lambda: d.read_file("answers.json"), 20, "the worker's answers")
        answers = json.loads(d.read_file("answers.json"))
        self.assertEqual(answers, {"None": 4096, "-24": ASKS - 4096})  # -EMFILE


def ping_ms(d):
    """One ping on a new control connection: milliseconds to the answer
    (infinite if there was none within 5 s, or the connection failed)."""
    began = time.monotonic()
    try:
        if not d.request({"verb": "ping"}, timeout=5).get("pong"):
            return float("inf")
    except (OSError, ValueError):
        return float("inf")
    return (time.monotonic() - began) * 1000


FLOOD_FROM = 10000  # below the ephemeral range (32768-): ports nobody else picks
FLOOD_COUNT = 20000
MUSTERD_NOFILE = 4096


@needs_root
class Flood(ns.TestCase):
    timeout = 90

    def test_a_worker_asking_for_20000_ports_gets_max_on_demand_sockets_and_harms_nobody(self):
        d = self.daemon()
        port = ls.free_port()

        def limit_fds():
            resource.setrlimit(resource.RLIMIT_NOFILE, (MUSTERD_NOFILE, MUSTERD_NOFILE))
        d.write_config(
            ns.socket_table("other", f"127.0.0.1:{port}") +
            ns.node_app("other", "hello.js", sockets=["other"], env={"HELLO_PORT": str(port)}) +
            nobody_app("flood", "listen_flood.js",
                       env={"FLOOD_FROM": str(FLOOD_FROM), "FLOOD_COUNT": str(FLOOD_COUNT)}))
        d.start(preexec_fn=limit_fds)
        ns.wait_listening(d, "other", 1)
        pid = d.proc.pid
        fds_before, rss_before = cs.fd_count(pid), cs.rss_bytes(pid)
        load = cli.Load(self, port, threads=2, pause=0.05)
        pings, fds_seen, rss_seen = [], [], []
        outcome = None
        deadline = time.monotonic() + 60
        while outcome is None:
            self.assertLess(time.monotonic(), deadline, "the flood never ended" + d.log_tail())
            pings.append(ping_ms(d))
            fds_seen.append(cs.fd_count(pid))
            rss_seen.append(cs.rss_bytes(pid))
            found = ns.messages(d, "flood", "flood")
            outcome = found[0]["flood"] if found else None
            time.sleep(0.05)
        for _ in range(10):  # and a little after
            pings.append(ping_ms(d))
            time.sleep(0.05)
        served = load.stop()
        failed = load.failures()
        summary = (f"\nflood: {outcome}\npings (ms): max {max(pings):.1f} over {len(pings)}"
                   f"\nfds: {fds_before} -> max {max(fds_seen)}")
        # max_on_demand_sockets (64 by default) listen; the rest get EMFILE
        # (a port something else on this host holds: EADDRINUSE).
        others = sum(n for code, n in outcome["errors"].items() if code != "EMFILE")
        self.assertEqual(outcome["listening"], 64, summary)
        self.assertEqual(outcome["errors"].get("EMFILE"), FLOOD_COUNT - 64 - others, summary)
        self.assertLess(max(pings), 100 * harness.SLOWDOWN, summary)
        self.assertEqual(failed, [], summary)
        self.assertGreater(len(served), 10, summary)
        # 64 sockets and their round-robin copies, whatever the flood asked for.
        self.assertLess(max(fds_seen), fds_before + 2 * 64 + 32, summary)
        harness.assert_rss_below(self, max(rss_seen), rss_before + 64 * 1024 * 1024, summary)
        self.assertEqual(d.log_text().count("max_on_demand_sockets"), 1, "warned once")
        held = [int(s["bound"].rsplit(":", 1)[1]) for s in on_demand_sockets(d)]
        self.assertEqual(len(held), 64)
        # The worker dies: after on_demand_grace (10 s) its sockets close.
        (worker,) = d.workers("flood")
        os.kill(worker["pid"], 9)
        d.wait_for(lambda: on_demand_sockets(d) == [], 20, "the flood's sockets to close")
        self.assertEqual([p for p in held if not refused(p)], [], "flood ports still bound")
        self.assertLess(cs.fd_count(pid), fds_before + 8)


if __name__ == "__main__":
    unittest.main()
