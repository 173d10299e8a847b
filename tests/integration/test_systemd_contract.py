"""The systemd contract a socket-activated server relies on, beyond the basics
of test_systemd_activation.py (issue #13 items 10 and 11): sockets are passed
blocking unless [sockets.NAME] says nonblocking = true (systemd's
NonBlocking=), musterd never blocks on a socket a worker made blocking,
EXTEND_TIMEOUT_USEC= moves the start-up and stop deadlines, RELOADING=1 is
logged, FDSTORE= and MAINPID= are refused with a warning. The same server
under systemd-socket-activate is compared in tests/compat/."""

import datetime
import json
import os
import time

import harness
import node_support as ns
import systemd_support as sd
from systemd_support import sd_server_app, socket_table

O_NONBLOCK = os.O_NONBLOCK


def fd_flags(pid, fd):
    """The file status flags of `fd` in process `pid` (/proc/PID/fdinfo):
    those of the open file description, shared by every holder."""
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    raise AssertionError(f"no flags in /proc/{pid}/fdinfo/{fd}")


def plain_server_app(name="web", sockets=("web",), **keys):
    keys.setdefault("protocol", "systemd")
    return harness.app(name, harness.PYTHON, args=[sd.PLAIN_SERVER], sockets=list(sockets), **keys)


class BlockingSockets(sd.TestCase):
    def test_a_blocking_accept_server_serves_many_clients(self):
        d = self.daemon()
        d.start(socket_table("web") + plain_server_app(instances=2, scheduling="none"))
        workers = sd.wait_ready(d, "web", 2)
        results = sd.get_many(sd.bound_port(d, "web"), 60, concurrency=4)
        self.assertEqual(sd.failures(results), [])
        bodies = [json.loads(b) for b in sd.answered(results)]
        self.assertEqual({b["fds"][0]["nonblocking"] for b in bodies}, {False})
        # Nobody crashed on EAGAIN: the same two workers served everything.
        self.assertEqual([w["id"] for w in d.workers("web")], [w["id"] for w in workers])
        self.assertLessEqual({b["pid"] for b in bodies}, {w["pid"] for w in workers})

    def test_sockets_are_passed_blocking_by_default(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app())
        (w,) = sd.wait_ready(d, "web")
        self.assertFalse(sd.get_json(sd.bound_port(d, "web"))["sockets"][0]["nonblocking"])
        self.assertFalse(fd_flags(w["pid"], 3) & O_NONBLOCK)

    def test_nonblocking_true_passes_the_socket_with_o_nonblock(self):
        d = self.daemon()
        d.start(socket_table("web", nonblocking=True) + socket_table("admin") +
                sd_server_app(sockets=["web", "admin"]))
        (w,) = sd.wait_ready(d, "web")
        info = sd.get_json(sd.bound_port(d, "web"))
        self.assertEqual([(s["fd"], s["nonblocking"]) for s in info["sockets"]],
                         [(3, True), (4, False)])
        # And the server, which waits in select() then, serves on it.
        self.assertEqual(sd.pid_of(sd.http_request(sd.bound_port(d, "web"))[1]), w["pid"])

    def test_reuseport_slot_sockets_are_passed_blocking_too(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(instances=2, scheduling="reuseport"))
        for w in sd.wait_ready(d, "web", 2):
            self.assertFalse(fd_flags(w["pid"], 3) & O_NONBLOCK, w)

    def test_a_node_app_may_share_a_systemd_apps_socket_when_it_is_nonblocking(self):
        d = self.daemon()
        path = d.write_config(socket_table("web", nonblocking=True) +
                              ns.node_app("api", "hello.js", sockets=["web"]) +
                              sd_server_app(name="sd", sockets=["web"]))
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 0, err)

    def test_musterd_never_blocks_on_an_rr_socket_a_worker_made_blocking(self):
        # A systemd worker sharing a nonblocking socket with an rr app clears
        # O_NONBLOCK on it (the flag is the socket's, not the worker's copy).
        d = self.daemon()
        rogue = d.write_script("rogue.py", f"""#!{harness.PYTHON}
import fcntl, os, socket, time
# Only once musterd accepts on the socket (./go): asio makes a descriptor
# non-blocking at its first wait, which would undo an earlier clear silently.
for _ in range(3000):
    if os.path.exists("go"):
        break
    time.sleep(0.01)
fcntl.fcntl(3, fcntl.F_SETFL, fcntl.fcntl(3, fcntl.F_GETFL) & ~os.O_NONBLOCK)
with open("cleared.tmp", "w") as f:
    f.write(str(fcntl.fcntl(3, fcntl.F_GETFL)))
os.rename("cleared.tmp", "cleared")
address = os.environ["NOTIFY_SOCKET"].replace("@", "\\0", 1)
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", address)
time.sleep(600)
""")
        port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{port}", nonblocking=True) +
                ns.node_app("api", "hello.js", sockets=["web"], scheduling="rr",
                            env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"}) +
                harness.app("rogue", rogue, protocol="systemd", sockets=["web"], cwd="."))
        ns.wait_listening(d, "api", 1)
        d.write_file("go", "")
        (r,) = sd.wait_ready(d, "rogue")
        # What the worker saw right after clearing it (read later from /proc,
        # musterd may already have set it again: a connection can wake it).
        self.assertFalse(int(d.read_file("cleared")) & O_NONBLOCK)
        results = sd.get_many(port, 20, concurrency=4)
        self.assertEqual(sd.failures(results), [])
        self.assertTrue(d.request({"verb": "ping"}).get("pong"))
        self.assertTrue(fd_flags(r["pid"], 3) & O_NONBLOCK)
        d.wait_log("a worker made it blocking")


class ExtendTimeout(sd.TestCase):
    def fork_and(self, d, event, worker_id):
        """Seconds between the worker's fork event and its `event`."""
        def at(e):
            return datetime.datetime.fromisoformat(e["time"]).timestamp()
        fork = sd.wait_event(d, event="fork", app="web", id=worker_id)
        return at(sd.wait_event(d, event=event, app="web", id=worker_id)) - at(fork)

    def test_extend_timeout_usec_keeps_a_slow_starter_past_ready_timeout(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(
            ready_timeout="1s", env={"SD_SERVER_NO_READY": "1", "SD_SERVER_EXTEND_USEC": "4000000"}))
        (w,) = d.wait_workers("web", 1, state="online")
        d.holds(lambda: [x["id"] for x in d.workers("web")] == [w["id"]] and
                not d.events(event="ready_timeout"),
                max(0.1, 2.0 - d.workers("web")[0]["uptime_ms"] / 1000), "the slow starter to stay")
        sd.worker_notify(sd.bound_port(d, "web"), b"READY=1")
        (ready,) = sd.wait_ready(d, "web")
        self.assertEqual(ready["id"], w["id"])

    def test_a_starter_silent_after_its_extension_is_killed_when_it_ends(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(
            ready_timeout="1s",
            env={"SD_SERVER_NO_READY": "1", "SD_SERVER_EXTEND_USEC": "2500000"}))
        (w,) = d.wait_workers("web", 1, state="online")
        # The extension counts from when musterd got it, after the fork.
        self.assertGreaterEqual(self.fork_and(d, "ready_timeout", w["id"]), 2.4)

    def seconds_to_exit(self, stop_timeout, message):
        """How long a ready worker lives after it sends `message` (STOPPING=1 ...)."""
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(stop_timeout=stop_timeout))
        (w,) = sd.wait_ready(d, "web")
        sd.worker_notify(sd.bound_port(d, "web"), message)
        sent = time.monotonic()
        exit_event = sd.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual(exit_event["signal"], "SIGKILL")
        return time.monotonic() - sent

    def test_extend_timeout_usec_while_stopping_delays_the_sigkill(self):
        self.assertGreaterEqual(
            self.seconds_to_exit("500ms", b"STOPPING=1\nEXTEND_TIMEOUT_USEC=2500000"), 2.0)

    def test_a_shorter_extension_never_shortens_the_deadline(self):
        self.assertGreaterEqual(self.seconds_to_exit("2s", b"STOPPING=1\nEXTEND_TIMEOUT_USEC=1"), 1.5)


class OtherNotifications(sd.TestCase):
    def start_server(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app())
        (w,) = sd.wait_ready(d, "web")
        return d, w, sd.bound_port(d, "web")

    def test_reloading_then_ready_is_logged_and_the_worker_keeps_serving(self):
        d, w, port = self.start_server()
        sd.worker_notify(port, b"RELOADING=1\nMONOTONIC_USEC=1")
        d.wait_log(f"web[{w['id']}] reloading (RELOADING=1)")
        self.assertEqual(sd.pid_of(sd.http_request(port)[1]), w["pid"])
        sd.worker_notify(port, b"READY=1")
        d.wait_log(f"web[{w['id']}] reloaded (READY=1)")
        (now,) = sd.wait_ready(d, "web")
        self.assertEqual(now["id"], w["id"])

    def test_fdstore_from_a_worker_is_refused_with_a_warning(self):
        d, w, port = self.start_server()
        sd.worker_notify(port, b"FDSTORE=1\nFDNAME=cache")
        d.wait_log(f"web[{w['id']}] sent FDSTORE=1")
        self.assertIn("which musterd does not support", d.log_text())

    def test_mainpid_is_refused_with_a_warning(self):
        d, w, port = self.start_server()
        sd.worker_notify(port, b"MAINPID=1")
        d.wait_log(f"web[{w['id']}] sent MAINPID=")
        (now,) = d.workers("web")
        self.assertEqual(now["pid"], w["pid"])


if __name__ == "__main__":
    import unittest
    unittest.main()
