"""protocol = "systemd": socket-activated servers with no muster code (a stdlib
Python script and a C program using libsystemd) run under musterd on sockets it
owns: the fds and LISTEN_* variables they get, readiness by READY=1, STATUS=,
STOPPING=1, ready_timeout, the watchdog, and a notify socket that shrugs off
garbage and strangers."""

import os
import select
import time

import harness
import systemd_support as sd
from systemd_support import sd_hello_app, sd_server_app, socket_table


class Serving(sd.TestCase):
    def test_a_python_server_with_no_muster_code_serves_on_fd_3(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app())
        (w,) = sd.wait_ready(d, "web")
        status, body = sd.http_request(sd.bound_port(d, "web"))
        self.assertEqual(status, 200)
        self.assertEqual(sd.pid_of(body), w["pid"])

    def test_the_libsystemd_hello_program_serves(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app(instances=2))
        workers = sd.wait_ready(d, "web", 2)
        results = sd.get_many(sd.bound_port(d, "web"), 40, concurrency=4)
        self.assertEqual(sd.failures(results), [])
        served = {sd.pid_of(b) for b in sd.answered(results)}
        self.assertLessEqual(served, {w["pid"] for w in workers})

    def test_with_scheduling_none_every_worker_gets_the_same_socket(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app(instances=2, scheduling="none"))
        a, b = sd.wait_ready(d, "web", 2)
        self.assertEqual(harness.open_fds(a["pid"])[3], harness.open_fds(b["pid"])[3])
        self.assertEqual(sd.socket_names(d), ["web"])

    def test_an_app_without_sockets_gets_only_the_notify_socket(self):
        d = self.daemon()
        d.start(sd_server_app(sockets=[], env={"SD_SERVER_SOCKETLESS": "1"}))
        (w,) = sd.wait_ready(d, "web")
        env = harness.proc_environ(w["pid"])
        self.assertIn("NOTIFY_SOCKET", env)
        self.assertEqual([k for k in env if k.startswith("LISTEN_")], [])
        self.assertEqual(set(harness.open_fds(w["pid"])), {0, 1, 2})

    def test_status_shows_protocol_systemd(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app())
        sd.wait_ready(d, "web")
        self.assertEqual(d.app_status("web")["protocol"], "systemd")


class PassedSockets(sd.TestCase):
    def test_listen_pid_is_the_workers_own_pid(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app())
        (w,) = sd.wait_ready(d, "web")
        self.assertEqual(harness.proc_environ(w["pid"])["LISTEN_PID"], str(w["pid"]))
        info = sd.get_json(sd.bound_port(d, "web"))
        self.assertEqual(info["listen_pid"], str(w["pid"]))

    def test_a_replacement_gets_its_own_pid_as_listen_pid(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app())
        (w,) = sd.wait_ready(d, "web")
        os.kill(w["pid"], 9)
        new = sd.wait_replaced(d, "web", w["id"], ready=True)
        self.assertEqual(harness.proc_environ(new["pid"])["LISTEN_PID"], str(new["pid"]))

    def test_two_sockets_arrive_as_fds_3_and_4_in_the_apps_sockets_order(self):
        d = self.daemon()
        # Declared web first, but the app lists admin first: fd 3 is admin.
        d.start(socket_table("web") + socket_table("admin") +
                sd_server_app(sockets=["admin", "web"]))
        (w,) = sd.wait_ready(d, "web")
        web, admin = sd.bound_port(d, "web"), sd.bound_port(d, "admin")
        self.assertNotEqual(web, admin)
        info = sd.get_json(web)
        self.assertEqual(info["listen_fds"], "2")
        self.assertEqual(info["listen_fdnames"], "admin:web")
        self.assertEqual([(s["fd"], s["port"]) for s in info["sockets"]], [(3, admin), (4, web)])
        # And the worker serves on both.
        self.assertEqual(sd.pid_of(sd.http_request(admin)[1]), w["pid"])

    def test_a_unix_socket_and_a_tcp_socket_are_passed_side_by_side(self):
        d = self.daemon()
        path = d.path("api.sock")
        d.start(socket_table("api", f"unix:{path}") + socket_table("web") +
                sd_server_app(sockets=["api", "web"]))
        (w,) = sd.wait_ready(d, "web")
        info = sd.get_json(path)
        self.assertEqual(info["listen_fdnames"], "api:web")
        self.assertEqual([(s["fd"], s["family"]) for s in info["sockets"]],
                         [(3, "unix"), (4, "ipv4")])
        self.assertEqual(info["sockets"][0]["address"], path)
        self.assertEqual(info["sockets"][1]["port"], sd.bound_port(d, "web"))

    def test_no_other_fd_leaks_into_a_c_worker(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        self.assert_only_fds(d, w["pid"], {0, 1, 2, 3})

    def test_no_other_fd_leaks_into_a_python_worker_with_two_sockets(self):
        d = self.daemon()
        d.start(socket_table("web") + socket_table("admin") +
                sd_server_app(sockets=["web", "admin"]))
        (w,) = sd.wait_ready(d, "web")
        self.assert_only_fds(d, w["pid"], {0, 1, 2, 3, 4})

    def assert_only_fds(self, d, pid, expected):
        # A libsystemd sd_notify() closes its socket just after sending: wait
        # (bounded) for the worker to be idle.
        def exactly_expected():
            fds = harness.open_fds(pid)
            return fds if set(fds) == expected else None
        fds = d.wait_for(exactly_expected, 5, f"worker {pid} to hold exactly fds {sorted(expected)}")
        self.assertEqual(fds[0], "/dev/null")
        for fd in expected - {0, 1, 2}:
            self.assertTrue(fds[fd].startswith("socket:"), fds)

    def test_the_notify_socket_is_in_the_environment(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        env = harness.proc_environ(w["pid"])
        self.assertEqual(env["NOTIFY_SOCKET"], f"@muster-{d.proc.pid}-notify")
        self.assertNotIn("WATCHDOG_USEC", env)


class Readiness(sd.TestCase):
    def test_a_worker_is_ready_only_after_it_sends_ready(self):
        d = self.daemon()
        d.start(socket_table("web") +
                sd_hello_app(env={"SD_HELLO_READY_DELAY_MS": "1500"}))
        before = []

        def ready_worker():
            (w,) = d.workers("web")
            if not w["ready"]:
                before.append(w)
                # READY=1 comes 1.5s after exec: nothing earlier may count.
                self.assertEqual(w["state"], "online", w)
                return None
            return w
        w = d.wait_for(ready_worker, 10, "the worker to get ready")
        self.assertTrue(before, "never saw the worker before it was ready")
        self.assertGreaterEqual(w["uptime_ms"], 1300, f"ready too early: {w}")
        self.assertEqual(w["state"], "listening")
        self.assertEqual({b["id"] for b in before}, {w["id"]})

    def test_a_python_server_that_has_not_sent_ready_is_online_not_ready(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(env={"SD_SERVER_NO_READY": "1"}))
        port = sd.bound_port(d, "web")
        (w,) = d.wait_workers("web", 1, state="online")
        # It serves (it accepts on its own), yet it has not said READY=1.
        self.assertEqual(sd.pid_of(sd.http_request(port)[1]), w["pid"])
        self.assertFalse(d.workers("web")[0]["ready"])
        sd.worker_notify(port, b"READY=1")
        (after,) = sd.wait_ready(d, "web")
        self.assertEqual(after["id"], w["id"])

    def test_status_text_appears_in_status(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app())
        sd.wait_ready(d, "web")
        d.wait_for(lambda: d.workers("web")[0].get("status") == "serving on 1 socket(s)", 5,
                   "sd_hello's STATUS= in status")

    def test_a_later_status_replaces_the_earlier_one(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(env={"SD_SERVER_STATUS": "warming up"}))
        (w,) = sd.wait_ready(d, "web")
        self.assertEqual(w.get("status"), "warming up")
        sd.worker_notify(sd.bound_port(d, "web"), b"STATUS=serving 3 clients")
        d.wait_for(lambda: d.workers("web")[0].get("status") == "serving 3 clients", 5,
                   "the new STATUS= in status")

    def test_musterctl_status_shows_the_status_text(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(env={"SD_SERVER_STATUS": "all good"}))
        sd.wait_ready(d, "web")
        code, out, err = d.ctl("status")
        self.assertEqual(code, 0, err)
        self.assertIn("all good", out)

    def test_ready_timeout_replaces_a_worker_that_never_signals(self):
        d = self.daemon()
        d.start(socket_table("web") +
                sd_hello_app(env={"SD_HELLO_NO_READY": "1"}, ready_timeout="1s"))
        (first,) = d.wait_workers("web", 1, state="online")
        self.assertFalse(first["ready"])
        sd.wait_event(d, event="ready_timeout", app="web", id=first["id"])
        exit_event = sd.wait_event(d, event="exit", app="web", id=first["id"])
        self.assertEqual(exit_event["signal"], "SIGKILL")
        self.assertFalse(exit_event["voluntary"])
        new = sd.wait_replaced(d, "web", first["id"])
        self.assertGreater(new["id"], first["id"])

    def test_a_worker_ready_within_ready_timeout_is_kept(self):
        d = self.daemon()
        d.start(socket_table("web") +
                sd_hello_app(env={"SD_HELLO_READY_DELAY_MS": "300"}, ready_timeout="1s"))
        (w,) = sd.wait_ready(d, "web")
        # Past the deadline it would have had if READY=1 had not stopped it.
        d.holds(lambda: [x["id"] for x in d.workers("web")] == [w["id"]] and
                not d.events(event="ready_timeout"),
                max(0.1, 1.5 - w["uptime_ms"] / 1000), "the ready worker to stay")

    def test_stopping_marks_the_worker_disconnecting(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(stop_timeout="1500ms"))
        (w,) = sd.wait_ready(d, "web")
        sd.worker_notify(sd.bound_port(d, "web"), b"STOPPING=1")

        def disconnecting():
            now = sd.worker_by_id(d, "web", w["id"])
            return now is not None and now["state"] == "disconnecting"
        d.wait_for(disconnecting, 5, "state disconnecting after STOPPING=1")

    def test_the_first_systemd_app_added_by_reload_config_gets_a_notify_socket(self):
        # Issue 20 item 2: the notify socket used to be opened only at start,
        # so these workers never got NOTIFY_SOCKET and were killed at every
        # ready_timeout.
        d = self.daemon()
        d.start(socket_table("web") + harness.app("idle", "/bin/sleep", args=["1000"]))
        d.write_config(socket_table("web") + harness.app("idle", "/bin/sleep", args=["1000"]) +
                       sd_hello_app(ready_timeout="2s"))
        code, out, err = d.ctl("reload-config")
        self.assertEqual(code, 0, out + err)
        (w,) = sd.wait_ready(d, "web")
        self.assertEqual(harness.proc_environ(w["pid"])["NOTIFY_SOCKET"],
                         f"@muster-{d.proc.pid}-notify")
        # Past its ready_timeout it is still the same worker.
        d.holds(lambda: [x["id"] for x in d.workers("web")] == [w["id"]], 2.5,
                "the ready worker to stay")
        self.assertEqual(d.events(event="ready_timeout"), [])

    def test_a_worker_that_sent_stopping_but_lingers_is_killed_after_stop_timeout(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(stop_timeout="500ms"))
        (w,) = sd.wait_ready(d, "web")
        sd.worker_notify(sd.bound_port(d, "web"), b"STOPPING=1")
        exit_event = sd.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual(exit_event["signal"], "SIGKILL")
        sd.wait_replaced(d, "web", w["id"])


class Watchdog(sd.TestCase):
    def test_workers_see_watchdog_usec(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app(watchdog="500ms"))
        (w,) = sd.wait_ready(d, "web")
        self.assertEqual(harness.proc_environ(w["pid"])["WATCHDOG_USEC"], "500000")

    def test_a_worker_that_stops_pinging_is_killed_and_replaced(self):
        d = self.daemon()
        d.start(socket_table("web") +
                sd_hello_app(watchdog="500ms", env={"SD_HELLO_WATCHDOG": "0"}))
        (first,) = sd.wait_ready(d, "web")
        sd.wait_event(d, event="watchdog", app="web", id=first["id"])
        exit_event = sd.wait_event(d, event="exit", app="web", id=first["id"])
        self.assertEqual(exit_event["signal"], "SIGKILL")
        self.assertFalse(exit_event["voluntary"])
        new = sd.wait_replaced(d, "web", first["id"])
        self.assertGreater(new["id"], first["id"])
        restart = sd.wait_event(d, event="restart", app="web")
        self.assertEqual(restart["instance"], 0)

    def test_a_worker_that_pings_is_not_restarted(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app(watchdog="500ms"))
        (w,) = sd.wait_ready(d, "web")
        # Four watchdog periods: sd_hello pings every 250ms.
        d.holds(lambda: [x["id"] for x in d.workers("web")] == [w["id"]] and
                not d.events(event="watchdog"), 2.0, "the pinging worker to stay")

    def test_a_worker_stopping_gracefully_is_not_killed_by_its_watchdog(self):
        # As systemd stops a service's watchdog when it leaves the running
        # state: a worker asked to stop stops pinging and finishes its work
        # within stop_timeout; that is a clean, asked-for exit, not a crash.
        d = self.daemon()
        d.start(sd_server_app(sockets=[], watchdog="1500ms", stop_timeout="10s",
                              env={"SD_SERVER_SOCKETLESS": "1", "SD_SERVER_PING_MS": "250",
                                   "SD_SERVER_STOP_MS": "3000"}))
        (w,) = sd.wait_ready(d, "web")
        code, _, err = d.ctl("stop", "web")
        self.assertEqual(code, 0, err)
        exit = sd.wait_event(d, event="exit", app="web", id=w["id"])
        self.assertEqual(d.events(event="watchdog"), [])
        self.assertEqual((exit["code"], exit["signal"], exit["voluntary"]), (0, None, True))

    def test_watchdog_trigger_restarts_at_once(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(watchdog="1m"))
        (w,) = sd.wait_ready(d, "web")
        # musterd may kill it before it answers.
        sd.worker_notify(sd.bound_port(d, "web"), b"WATCHDOG=trigger", may_die=True)
        sd.wait_event(d, event="watchdog", app="web", id=w["id"])
        sd.wait_replaced(d, "web", w["id"])


class NotifySocketRobustness(sd.TestCase):
    """Anything may arrive on the notify socket. Each test ends with a datagram
    from the worker itself (STATUS=barrier): datagrams are handled in arrival
    order, so once that shows in status, everything sent before it was
    handled too. No sleeping."""

    def start_unready_server(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_server_app(env={"SD_SERVER_NO_READY": "1"}))
        (w,) = d.wait_workers("web", 1, state="online")
        return d, w, sd.bound_port(d, "web")

    def barrier(self, d, port, text="barrier"):
        sd.worker_notify(port, b"STATUS=" + text.encode())
        d.wait_for(lambda: d.workers("web")[0].get("status") == text, 5,
                   "the barrier STATUS= in status")

    def assert_unchanged(self, d, w):
        self.assertTrue(d.request({"verb": "ping"}).get("pong"))
        (now,) = d.workers("web")
        self.assertEqual((now["id"], now["pid"], now["state"], now["ready"]),
                         (w["id"], w["pid"], "online", False))
        self.assertEqual(d.events(event="watchdog"), [])
        self.assertEqual(d.events(event="exit"), [])

    def test_garbage_datagrams_from_a_worker_change_nothing(self):
        d, w, port = self.start_unready_server()
        garbage = [b"", b"\xff\xfe\xfd", b"READY", b"READY=0", b"READY=yes", b"READY=1\0",
                   b"\0READY=1", b"=1\n=\n\n\n", b"\0\0\0\0", b"WATCHDOG=0", b"STOPPING=0",
                   b"STOPPING", b"MAINPID=1", b"MAINPID=x", b"ERRNO=-5",
                   b"ERRNO=99999999999999999999", b"FDSTORE=1", b"EXTEND_TIMEOUT_USEC=1",
                   b"\n" * 3000, bytes(range(256)) * 4]
        for g in garbage:
            sd.worker_notify(port, g)
        self.barrier(d, port)
        self.assert_unchanged(d, w)
        # The socket still works for a proper message.
        sd.worker_notify(port, b"READY=1")
        sd.wait_ready(d, "web")

    def test_an_oversized_datagram_is_ignored_entirely(self):
        d, w, port = self.start_unready_server()
        for size in (4097, 60000):
            message = b"READY=1\nSTATUS=oversized\n"
            sd.worker_notify(port, message + b"X" * (size - len(message)))
        self.barrier(d, port)
        self.assert_unchanged(d, w)

    def test_a_long_status_is_kept_printable(self):
        d, w, port = self.start_unready_server()
        sd.worker_notify(port, b"STATUS=tab\there\x01" + b"y" * 1000)
        status = d.wait_for(lambda: d.workers("web")[0].get("status"), 5, "a status")
        self.assertTrue(status.startswith("tab here y"), status)
        self.assertTrue(status.isprintable(), status)
        self.assertLess(len(status), 1000)

    def test_datagrams_from_a_process_that_is_no_worker_are_ignored(self):
        d, w, port = self.start_unready_server()
        address = sd.notify_address(d)
        for forged in (b"READY=1", b"STATUS=forged", b"WATCHDOG=trigger", b"STOPPING=1",
                       b"READY=1\nSTATUS=forged\nWATCHDOG=trigger"):
            sd.send_datagram(address, forged)
        self.barrier(d, port)
        self.assert_unchanged(d, w)

    def test_fds_passed_on_the_notify_socket_are_closed(self):
        d, w, port = self.start_unready_server()
        address = sd.notify_address(d)
        r, wr = os.pipe()
        self.addCleanup(os.close, r)
        try:
            sd.send_datagram(address, b"FDSTORE=1", fds=[wr, wr])
        finally:
            os.close(wr)
        # The pipe reads EOF once no copy of its write end is left anywhere:
        # musterd must have closed both copies it received.
        deadline = time.monotonic() + 5
        while True:
            readable, _, _ = select.select([r], [], [], max(0, deadline - time.monotonic()))
            if readable:
                self.assertEqual(os.read(r, 1), b"")
                break
            self.assertLess(time.monotonic(), deadline,
                            "musterd kept an fd it got on the notify socket" + d.log_tail())
        self.barrier(d, port)
        self.assert_unchanged(d, w)


if __name__ == "__main__":
    import unittest
    unittest.main()
