"""Declared unix and IPv6 sockets: a unix socket's file mode, owner and group,
a stale socket file replaced but a live one never taken over, the file removed
when musterd exits; systemd apps serving on [::1] and on the dual-stack [::]."""

import grp
import os
import pwd
import socket
import stat
import subprocess
import unittest

import harness
import systemd_support as sd
from systemd_support import sd_hello_app, socket_table

HAS_IPV6 = sd.has_ipv6_loopback()


class UnixSockets(sd.TestCase):
    def file_mode(self, path):
        st = os.stat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), f"{path} is not a socket")
        return stat.S_IMODE(st.st_mode)

    def test_a_unix_socket_has_mode_0600(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}", mode="0600"))
        self.assertEqual(oct(self.file_mode(path)), oct(0o600))

    def test_a_unix_socket_has_mode_0666_whatever_the_umask(self):
        d = self.daemon()
        path = d.path("web.sock")
        old = os.umask(0o077)  # musterd inherits it
        try:
            d.start(socket_table("web", f"unix:{path}", mode="0666"))
        finally:
            os.umask(old)
        self.assertEqual(oct(self.file_mode(path)), oct(0o666))

    def test_a_unix_socket_has_mode_0660_by_default(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}"))
        self.assertEqual(oct(self.file_mode(path)), oct(0o660))

    @unittest.skipUnless(os.geteuid() == 0, "changing a file's owner needs root")
    def test_a_unix_socket_gets_its_owner_and_group(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}", owner="nobody", group="nogroup"))
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid),
                         (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid))

    @unittest.skipUnless(os.geteuid() == 0, "changing a file's group needs root")
    def test_a_group_alone_keeps_musterds_owner(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}", group="nogroup"))
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid), (os.geteuid(), grp.getgrnam("nogroup").gr_gid))

    def test_a_systemd_app_serves_on_a_unix_socket(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        status, body = sd.http_request(path)
        self.assertEqual((status, sd.pid_of(body)), (200, w["pid"]))

    def test_a_stale_socket_file_is_replaced_at_start(self):
        d = self.daemon()
        path = d.path("web.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)  # the file stays; nothing listens on it
        with self.assertRaises(ConnectionRefusedError):
            sd.connect(path)
        d.start(socket_table("web", f"unix:{path}") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        # (Inode numbers may be reused at once, so the proof is that it serves.)
        self.assertEqual(sd.pid_of(sd.http_request(path)[1]), w["pid"])

    def run_musterd(self, d, apps, timeout=10):
        """Runs musterd to its end (it is expected to refuse to start);
        subprocess.TimeoutExpired (musterd killed) if it runs on."""
        d.write_config(apps)
        return subprocess.run([harness.MUSTERD, "-c", d.config_path], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def live_listener(self, path):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.listen(8)
        return listener

    def test_musterd_refuses_a_unix_path_with_a_live_listener(self):
        d = self.daemon()
        path = d.path("web.sock")
        self.live_listener(path)
        r = self.run_musterd(d, socket_table("web", f"unix:{path}") + sd_hello_app())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"unix:{path}", r.stderr)

    def test_musterd_refuses_a_busy_live_listener_without_hanging(self):
        # A listener whose backlog is full is still alive: musterd must see it
        # and refuse, not wait for it to accept (nor take the path over).
        d = self.daemon()
        path = d.path("web.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.listen(0)
        for _ in range(8):  # fill its queue with connections nobody accepts
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.addCleanup(c.close)
            c.setblocking(False)
            try:
                c.connect(path)
            except BlockingIOError:
                break
        else:
            self.fail("the listener's queue never filled")
        try:
            r = self.run_musterd(d, socket_table("web", f"unix:{path}"), timeout=5)
        except subprocess.TimeoutExpired as e:
            err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
            self.fail(f"musterd hung at start probing a busy listener on {path}: {err}")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"unix:{path}", r.stderr)

    def test_a_refused_start_leaves_the_live_listener_alone(self):
        d = self.daemon()
        path = d.path("web.sock")
        listener = self.live_listener(path)
        inode = os.stat(path).st_ino
        r = self.run_musterd(d, socket_table("web", f"unix:{path}"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(os.stat(path).st_ino, inode)
        listener.settimeout(5)
        with sd.connect(path):
            conn, _ = listener.accept()  # the probe's connection may come first
            conn.close()

    def test_a_refused_start_leaves_no_control_socket(self):
        d = self.daemon()
        path = d.path("web.sock")
        self.live_listener(path)
        r = self.run_musterd(d, socket_table("web", f"unix:{path}"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertFalse(os.path.exists(d.socket_path))

    def test_the_socket_file_is_removed_when_musterd_exits(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}") + sd_hello_app())
        sd.wait_ready(d, "web")
        self.assertTrue(os.path.exists(path))
        d.signal(15)
        self.assertEqual(d.wait_exit(), 0)
        self.assertFalse(os.path.exists(path))


@unittest.skipUnless(HAS_IPV6, "this machine has no IPv6 loopback")
class Ipv6(sd.TestCase):
    def test_a_systemd_app_serves_on_ipv6_loopback(self):
        d = self.daemon()
        d.start(socket_table("web", "[::1]:0") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        bound = sd.socket_status(d, "web")["bound"]
        self.assertTrue(bound.startswith("[::1]:"), bound)
        status, body = sd.http_request(("::1", sd.bound_port(d, "web")))
        self.assertEqual((status, sd.pid_of(body)), (200, w["pid"]))

    def test_an_ipv6_socket_arrives_as_an_ipv6_fd(self):
        d = self.daemon()
        d.start(socket_table("web", "[::1]:0") + sd.sd_server_app())
        sd.wait_ready(d, "web")
        port = sd.bound_port(d, "web")
        info = sd.get_json(("::1", port))
        self.assertEqual([(s["fd"], s["family"], s["host"], s["port"]) for s in info["sockets"]],
                         [(3, "ipv6", "::1", port)])

    def test_the_ipv6_wildcard_accepts_ipv4_clients_too(self):
        d = self.daemon()
        d.start(socket_table("web", "[::]:0") + sd_hello_app())
        (w,) = sd.wait_ready(d, "web")
        port = sd.bound_port(d, "web")
        for client in (("127.0.0.1", port), ("::1", port)):
            status, body = sd.http_request(client)
            self.assertEqual((status, sd.pid_of(body)), (200, w["pid"]), client)

    def test_an_ipv6_loopback_socket_and_an_ipv4_one_share_a_port(self):
        # [::1] is v6-only, so 127.0.0.1 on the same port is a different socket.
        port = _free_port_both()
        d = self.daemon()
        d.start(socket_table("v6", f"[::1]:{port}") + socket_table("v4", f"127.0.0.1:{port}") +
                sd.sd_server_app(sockets=["v6", "v4"]))
        (w,) = sd.wait_ready(d, "web")
        for client in (("::1", port), ("127.0.0.1", port)):
            self.assertEqual(sd.pid_of(sd.http_request(client)[1]), w["pid"], client)


def _free_port_both():
    """A port free on both 127.0.0.1 and ::1 right now."""
    for _ in range(20):
        with socket.socket() as s4:
            s4.bind(("127.0.0.1", 0))
            port = s4.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6) as s6:
                    s6.bind(("::1", port))
                return port
            except OSError:
                continue
    raise AssertionError("no port free on both loopbacks")


if __name__ == "__main__":
    unittest.main()
