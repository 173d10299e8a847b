"""musterd as a systemd service, with this test playing systemd: a
NOTIFY_SOCKET that must see READY / STATUS / RELOADING / STOPPING / WATCHDOG
in order; listening sockets passed with LISTEN_FDS / LISTEN_FDNAMES and served
without binding; and the fd store: the sockets musterd stores survive its
death and a client that connects in between is served by the next musterd."""

import array
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

import harness
import systemd_support as sd
from systemd_support import sd_server_app, socket_table

# Puts the passed fds at 3, 4, ... and sets LISTEN_PID to its own pid before
# exec'ing musterd, as systemd's service manager does.
LAUNCHER = r"""
import os, sys
fds = [int(x) for x in os.environ.pop("TEST_PASS_FDS").split(",") if x]
high = [os.dup(fd) for fd in fds]
for fd in high:
    os.set_inheritable(fd, True)
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)
for fd in high:
    if fd >= 3 + len(high):
        os.close(fd)
if fds:
    os.environ["LISTEN_FDS"] = str(len(fds))
    os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
"""


class FakeSystemd:
    """The service manager's end of NOTIFY_SOCKET: every datagram with its
    sender's pid and any fds it carried (FDSTORE)."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.messages = []  # (pid, {key: value}, [fds], raw text)
        self.store = {}     # FDNAME -> [socket objects]: systemd's fd store

    def close(self):
        self.sock.close()
        for fds in self.store.values():
            for s in fds:
                s.close()

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4) +
                                                    socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        fds, pid = [], None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                fds.extend(a)
            elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = int.from_bytes(payload[:4], sys.byteorder)
        text = data.decode()
        fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
        message = (pid, fields, fds, text)
        self.messages.append(message)
        if fields.get("FDSTORE") == "1":
            for fd in fds:
                self.store.setdefault(fields.get("FDNAME", "stored"), []).append(
                    socket.socket(fileno=fd))
        elif fields.get("FDSTOREREMOVE") == "1":
            for s in self.store.pop(fields.get("FDNAME", ""), []):
                s.close()
        else:
            for fd in fds:
                os.close(fd)
        return message

    def wait(self, predicate, timeout, what):
        """Receives until a message satisfies `predicate`; returns it."""
        for m in self.messages:
            if predicate(m[1]):
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.receive(max(0.01, deadline - time.monotonic()))
            if m and predicate(m[1]):
                return m
        raise AssertionError(f"no {what} from musterd within {timeout}s; got "
                             f"{[m[3] for m in self.messages]}")

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.receive(max(0.01, deadline - time.monotonic()))

    def kinds(self):
        """The notifications so far, in order, by their first key."""
        return [m[3].split("=", 1)[0] for m in self.messages]


class ServiceCase(sd.TestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        self.systemd = FakeSystemd(self.d.dir)
        self.addCleanup(self.systemd.close)

    def launch(self, passed=(), names=None, notify=True, env=None, check_ping=True):
        """Starts musterd on the written config, as systemd would: `passed`
        sockets become fds 3.. with LISTEN_FDNAMES `names`."""
        d = self.d
        environ = dict(os.environ)
        for k in ("MUSTER_SOCKET", "MUSTER_CONFIG", "NOTIFY_SOCKET", "LISTEN_FDS",
                  "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"):
            environ.pop(k, None)
        if notify:
            environ["NOTIFY_SOCKET"] = self.systemd.path
        fds = [s.fileno() for s in passed]
        environ["TEST_PASS_FDS"] = ",".join(map(str, fds))
        if names is not None:
            environ["LISTEN_FDNAMES"] = ":".join(names)
        environ.update(env or {})
        log = open(d.log_path, "ab")
        self.addCleanup(log.close)
        d.proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, harness.MUSTERD, "-c",
                                   d.config_path], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, env=environ, cwd=d.dir,
                                  pass_fds=fds)
        d._closed = False
        if check_ping:
            d.wait_for(d._answers_ping, 10, "musterd to answer ping")
        return d.proc


class Notify(ServiceCase):
    def test_ready_waits_for_the_first_workers_then_reloading_ready_and_stopping_follow(self):
        d = self.d
        d.write_config(socket_table("web") +
                       sd_server_app(ready="notify", instances=2,
                                     env={"SD_SERVER_NO_READY": "1"}))
        self.launch()
        workers = d.wait_workers("web", 2, state="online")
        port = sd.bound_port(d, "web")
        self.systemd.wait(lambda f: "STATUS" in f and "0/2 ready" in f["STATUS"], 10,
                          "STATUS with 0/2 ready")
        self.assertNotIn("READY", self.systemd.kinds(), "READY before the workers are")
        # The first worker to say READY=1 (on musterd's NOTIFY_SOCKET) is not
        # enough: READY=1 waits for the second.
        sd.worker_notify(port, b"READY=1")
        d.wait_for(lambda: sum(w["ready"] for w in d.workers("web")) == 1, 10,
                   "one ready worker")
        self.systemd.drain(0.5)
        self.assertNotIn("READY", self.systemd.kinds(), "READY with one of two workers ready")
        def notify_until_both_ready():
            if all(w["ready"] for w in d.workers("web")):
                return True
            sd.worker_notify(port, b"READY=1")  # whichever worker accepts it
            return False
        d.wait_for(notify_until_both_ready, 20, "both workers ready")
        self.systemd.wait(lambda f: f.get("READY") == "1", 10, "READY=1")
        self.assertTrue(all(w["ready"] for w in d.workers("web")))
        self.systemd.wait(lambda f: f.get("STATUS") == "web: 2/2 ready", 10,
                          "STATUS web: 2/2 ready")

        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        d.signal(signal.SIGHUP)
        pid, reloading, _, _ = self.systemd.wait(lambda f: f.get("RELOADING") == "1", 10,
                                                 "RELOADING=1")
        self.assertEqual(pid, d.proc.pid)
        usec = int(reloading["MONOTONIC_USEC"])
        self.assertLessEqual(before * 1e6, usec)
        self.assertLessEqual(usec, time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6)
        n = len(self.systemd.messages)
        self.systemd.wait(lambda f: f.get("READY") == "1" and
                          len(self.systemd.messages) > n, 10, "READY=1 after the reload")

        d.signal(signal.SIGTERM)
        self.systemd.wait(lambda f: f.get("STOPPING") == "1", 10, "STOPPING=1")
        self.assertEqual(d.wait_exit(15), 0)
        kinds = [k for k in self.systemd.kinds() if k in ("READY", "RELOADING", "STOPPING")]
        self.assertEqual(kinds, ["READY", "RELOADING", "READY", "STOPPING"])

    def test_watchdog_pings_at_half_the_interval_systemd_set(self):
        d = self.d
        d.write_config(harness.app("idle", "sleep", args=["1000"]))
        self.launch(env={"WATCHDOG_USEC": "400000"})
        self.systemd.wait(lambda f: f.get("READY") == "1", 10, "READY=1")
        # Counted from here: musterd pings from its start, and on a loaded
        # machine READY may come late enough for the pings before it to push
        # a count since the start over any fixed bound (CI once failed so).
        before = len(self.systemd.messages)
        self.systemd.drain(2.0)
        pings = [m for m in self.systemd.messages[before:] if m[1].get("WATCHDOG") == "1"]
        # Every 200 ms: about 10 in 2 s; a loaded machine may delay a few.
        self.assertGreaterEqual(len(pings), 5, self.systemd.kinds())
        self.assertLessEqual(len(pings), 12, self.systemd.kinds())
        everything = [m for m in self.systemd.messages if m[1].get("WATCHDOG") == "1"]
        self.assertTrue(all(m[0] == d.proc.pid for m in everything))

    def test_without_watchdog_usec_there_are_no_pings(self):
        d = self.d
        d.write_config(harness.app("idle", "sleep", args=["1000"]))
        self.launch()
        self.systemd.wait(lambda f: f.get("READY") == "1", 10, "READY=1")
        self.systemd.drain(1.0)
        self.assertNotIn("WATCHDOG", self.systemd.kinds())

    def test_an_app_that_never_gets_ready_delays_ready_only_until_its_ready_timeout(self):
        d = self.d
        d.write_config(socket_table("web") +
                       sd_server_app(ready="notify", ready_timeout="2s",
                                     env={"SD_SERVER_NO_READY": "1"}))
        started = time.monotonic()
        self.launch()
        self.systemd.wait(lambda f: f.get("READY") == "1", 15, "READY=1")
        self.assertGreaterEqual(time.monotonic() - started, 1.5)
        d.wait_log("telling systemd READY=1 anyway")

    def test_workers_do_not_see_musterds_own_systemd_variables(self):
        d = self.d
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        d.write_config(socket_table("web", listen=f"127.0.0.1:{listener.getsockname()[1]}") +
                       sd_server_app())
        self.launch(passed=[listener], names=["web"], env={"WATCHDOG_USEC": "10000000"})
        sd.wait_ready(d, "web", 1)
        info = sd.get_json(sd.bound_port(d, "web"))
        (w,) = d.workers("web")
        environ = harness.proc_environ(w["pid"])
        self.assertEqual(environ.get("LISTEN_FDS"), "1")  # the worker's own, from musterd
        self.assertEqual(environ.get("LISTEN_PID"), str(w["pid"]))
        self.assertNotEqual(environ.get("NOTIFY_SOCKET"), self.systemd.path)
        self.assertNotIn("WATCHDOG_USEC", environ)
        self.assertEqual(info["pid"], w["pid"])


class SocketActivation(ServiceCase):
    def test_passed_sockets_are_served_without_binding(self):
        d = self.d
        # No SO_REUSEADDR/SO_REUSEPORT: had musterd tried to bind the same
        # address, it would have failed with EADDRINUSE.
        web = socket.socket()
        self.addCleanup(web.close)
        web.bind(("127.0.0.1", 0))
        web.listen(16)
        port = web.getsockname()[1]
        d.write_config(socket_table("web", listen=f"127.0.0.1:{port}") + sd_server_app())
        proc = self.launch(passed=[web], names=["web"], notify=False)
        sd.wait_ready(d, "web", 1)
        self.assertEqual(sd.bound_port(d, "web"), port)
        status, body = sd.http_request(port)
        self.assertEqual(status, 200)
        d.wait_log("(from systemd)")
        inode = os.fstat(web.fileno()).st_ino
        held = {os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{proc.pid}/fd")}
        self.assertIn(f"socket:[{inode}]", held)

    def test_a_socket_passed_blocking_reaches_a_systemd_worker_as_its_config_says(self):
        # systemd passes sockets blocking (NonBlocking=no); musterd makes them
        # non-blocking for itself, and each worker gets its config's mode.
        d = self.d
        passed = []
        for _ in range(2):
            s = socket.socket()
            self.addCleanup(s.close)
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            passed.append(s)
        web, admin = (p.getsockname()[1] for p in passed)
        d.write_config(socket_table("web", listen=f"127.0.0.1:{web}") +
                       socket_table("admin", listen=f"127.0.0.1:{admin}", nonblocking=True) +
                       sd_server_app(sockets=["web", "admin"]))
        self.launch(passed=passed, names=["web", "admin"], notify=False)
        sd.wait_ready(d, "web", 1)
        info = sd.get_json(web)
        self.assertEqual([(s["port"], s["nonblocking"]) for s in info["sockets"]],
                         [(web, False), (admin, True)])

    def test_a_passed_socket_on_another_address_is_a_clear_error(self):
        d = self.d
        web = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(web.close)
        other = socket.create_server(("127.0.0.1", 0))
        wanted = other.getsockname()[1]
        other.close()
        d.write_config(socket_table("web", listen=f"127.0.0.1:{wanted}") + sd_server_app())
        proc = self.launch(passed=[web], names=["web"], notify=False, check_ping=False)
        self.assertEqual(proc.wait(15), 1)
        log = d.log_text()
        self.assertIn("sockets.web", log)
        self.assertIn(f"127.0.0.1:{web.getsockname()[1]}", log)
        self.assertIn(f"the config says 127.0.0.1:{wanted}", log)

    def test_a_passed_socket_without_a_name_is_a_clear_error(self):
        d = self.d
        web = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(web.close)
        d.write_config(socket_table("web") + sd_server_app())
        proc = self.launch(passed=[web], names=None, notify=False, check_ping=False)
        self.assertEqual(proc.wait(15), 2)
        self.assertIn("FileDescriptorName=", d.log_text())


class FdStore(ServiceCase):
    def test_stored_sockets_outlive_musterd_and_a_client_in_between_is_served(self):
        d = self.d
        d.write_config(socket_table("web") + sd_server_app(instances=2))
        first = self.launch()
        sd.wait_ready(d, "web", 2)
        port = sd.bound_port(d, "web")
        self.systemd.wait(lambda f: f.get("FDSTORE") == "1" and f.get("FDNAME") == "web", 10,
                          "FDSTORE=1 FDNAME=web")
        (stored,) = self.systemd.store["web"]
        self.assertEqual(stored.getsockname()[1], port)
        old_workers = [w["pid"] for w in d.workers("web")]

        first.kill()  # as hard as it gets: no chance to clean up
        first.wait(10)
        for pid in old_workers:  # PDEATHSIG takes the workers along
            d.wait_for(lambda pid=pid: not harness.pid_alive(pid), 10, f"worker {pid} to go")
        # The port stays open (systemd holds the socket): this client waits
        # in the backlog instead of being refused.
        client = sd.connect(port, timeout=20)
        self.addCleanup(client.close)
        client.sendall(sd.request_bytes("/"))

        self.launch(passed=[stored], names=["web"])
        status, body = sd.parse_response(sd.read_all(client))
        self.assertEqual(status, 200)
        new_pids = {w["pid"] for w in sd.wait_ready(d, "web", 2)}
        self.assertIn(sd.pid_of(body), new_pids)
        d.wait_log("(from systemd)")

    def test_a_removed_socket_leaves_the_store_and_an_unknown_stored_one_is_dropped(self):
        d = self.d
        d.write_config(socket_table("web") + socket_table("extra") +
                       sd_server_app(sockets=("web", "extra")))
        self.launch()
        sd.wait_ready(d, "web", 1)
        self.systemd.wait(lambda f: f.get("FDNAME") == "extra", 10, "FDSTORE of extra")
        d.write_config(socket_table("web") + sd_server_app(sockets=("web",)))
        self.assertEqual(d.ctl("reload-config")[0], 0)
        self.systemd.wait(lambda f: f.get("FDSTOREREMOVE") == "1" and f.get("FDNAME") == "extra",
                          10, "FDSTOREREMOVE=1 FDNAME=extra")
        self.assertNotIn("extra", self.systemd.store)

        # A stored socket whose name the config no longer has is closed and
        # removed from the store at the next start.
        stale = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(stale.close)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(15), 0)
        self.launch(passed=[self.systemd.store["web"][0], stale], names=["web", "gone"])
        self.systemd.wait(lambda f: f.get("FDSTOREREMOVE") == "1" and f.get("FDNAME") == "gone",
                          10, "FDSTOREREMOVE=1 FDNAME=gone")
        d.wait_log("systemd passed a socket named gone")


if __name__ == "__main__":
    unittest.main()
