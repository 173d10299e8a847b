"""Where a Node worker's listen() and dgram bind() end up under musterd: the
address Node's primary would bind (lib/net.js createServerHandle,
lib/dgram.js _createSocketHandle), what server.address() says in the worker,
and which clients get through. The expected values are what Node 20's own
primary does (tests/compat/test_compat_listen.py, test_compat_dgram.py run
both side by side)."""

import subprocess
import unittest

import listen_support as ls
import node_support as ns

NODE_MAJOR = int(subprocess.run([ns.NODE, "--version"], capture_output=True, text=True,
                                check=True).stdout.strip().lstrip("v").split(".")[0])

SERVED_BOTH = {"127.0.0.1": "served", "::1": "served"}
IPV4_ONLY = {"127.0.0.1": "served", "::1": "refused"}
IPV6_ONLY = {"127.0.0.1": "refused", "::1": "served"}
DUAL = [("listening", "::", "IPv6")] * 2


class TcpListen(ns.TestCase):
    def observe(self, scheduling="rr", **spec):
        port = ls.free_port()
        return ls.under_musterd(self, {"kind": "tcp", "port": port, **spec},
                                scheduling=scheduling)[1]

    def test_listen_with_no_host_is_dual_stack_on_the_ipv6_wildcard(self):
        for scheduling in ("rr", "none"):
            with self.subTest(scheduling=scheduling):
                seen = self.observe(scheduling)
                self.assertEqual(seen, {"workers": DUAL, "clients": SERVED_BOTH})

    def test_listen_port_positionally_is_the_same_as_listen_with_no_host(self):
        port = ls.free_port()
        _, seen = ls.under_musterd(self, {"kind": "tcp", "port": port, "args": [port]})
        self.assertEqual(seen, {"workers": DUAL, "clients": SERVED_BOTH})

    def test_listen_on_the_ipv6_wildcard_takes_ipv4_clients_too(self):
        self.assertEqual(self.observe(host="::"), {"workers": DUAL, "clients": SERVED_BOTH})

    def test_listen_on_the_ipv4_wildcard_takes_ipv4_clients_only(self):
        seen = self.observe("none", host="0.0.0.0")
        self.assertEqual(seen, {"workers": [("listening", "0.0.0.0", "IPv4")] * 2,
                                "clients": IPV4_ONLY})

    def test_listen_on_localhost_binds_what_the_worker_resolved(self):
        seen = self.observe(host="localhost")
        (address,) = {w[1] for w in seen["workers"]}
        self.assertIn(address, ls.CLIENTS)
        self.assertEqual(seen["clients"][address], "served")

    def test_ipv6_only_on_the_ipv6_wildcard_refuses_ipv4_clients(self):
        for scheduling in ("rr", "none"):
            with self.subTest(scheduling=scheduling):
                seen = self.observe(scheduling, host="::", ipv6Only=True)
                self.assertEqual(seen, {"workers": DUAL, "clients": IPV6_ONLY})

    def test_ipv6_only_without_a_host_is_kept_when_the_worker_sends_it(self):
        # Node 20's listen() drops ipv6Only without a host (no flags in the
        # query), so its primary binds dual stack; Node 22 and later send it.
        expected = SERVED_BOTH if NODE_MAJOR <= 20 else IPV6_ONLY
        self.assertEqual(self.observe(ipv6Only=True), {"workers": DUAL, "clients": expected})

    def test_exclusive_workers_bind_themselves_and_the_second_finds_the_port_taken(self):
        # Each worker binds the wildcard itself, so a port another test took
        # meanwhile (on any address: ctest runs two at once) fails both: then
        # it is tried again on another port, three times at most.
        for _ in range(3):
            seen = self.observe(exclusive=True)
            if seen["workers"] != [("error", "EADDRINUSE")] * 2:
                break
        self.assertEqual(seen, {"workers": [("error", "EADDRINUSE"), ("listening", "::", "IPv6")],
                                "clients": SERVED_BOTH})


class DeclaredDualStackSocket(ns.TestCase):
    def test_listen_with_no_host_gets_a_declared_ipv6_wildcard_socket_on_its_port(self):
        for scheduling in ("rr", "none"):
            with self.subTest(scheduling=scheduling):
                port = ls.free_port()
                d, seen = ls.under_musterd(
                    self, {"kind": "tcp", "port": port}, scheduling=scheduling,
                    sockets=ns.socket_table("web", f"[::]:{port}"), app_sockets=["web"])
                self.assertEqual(seen, {"workers": DUAL, "clients": SERVED_BOTH})
                self.assertEqual([s["name"] for s in d.status()["sockets"]], ["web"])

    def test_listen_on_ipv4_addresses_gets_a_declared_ipv6_wildcard_socket_on_its_port(self):
        port = ls.free_port()
        d, seen = ls.under_musterd(
            self, {"kind": "tcp", "port": port, "host": "127.0.0.1"},
            sockets=ns.socket_table("web", f"[::]:{port}"), app_sockets=["web"])
        self.assertEqual(seen["clients"], SERVED_BOTH)
        self.assertEqual([s["name"] for s in d.status()["sockets"]], ["web"])


class UdpBind(ns.TestCase):
    def observe(self, kind, instances=2, **spec):
        port = ls.free_port()
        return ls.under_musterd(self, {"kind": kind, "port": port, **spec},
                                instances=instances)

    def test_udp4_workers_share_one_socket_bound_by_musterd(self):
        d, seen = self.observe("udp4")
        self.assertEqual(seen, {"workers": [("listening", "0.0.0.0", "IPv4")] * 2,
                                "clients": {"127.0.0.1": "served", "::1": "no answer"}})
        (udp,) = [s for s in d.status()["sockets"] if s.get("protocol") == "udp"]
        self.assertTrue(udp["on_demand"])
        self.assertTrue(udp["bound"].startswith("0.0.0.0:"), udp)
        self.assertIn(" udp ", d.ctl("status")[1])

    def test_datagrams_are_answered_by_the_workers(self):
        port = ls.free_port()
        ls.under_musterd(self, {"kind": "udp4", "port": port})
        answers = {ls.udp_client("127.0.0.1", port) for _ in range(20)}
        self.assertTrue(answers and all(a.startswith("worker ") and a.endswith(": ping")
                                        for a in answers), answers)

    def test_udp6_is_dual_stack_unless_ipv6_only(self):
        _, seen = self.observe("udp6")
        self.assertEqual(seen, {"workers": [("listening", "::", "IPv6")] * 2,
                                "clients": {"127.0.0.1": "served", "::1": "served"}})
        _, seen = self.observe("udp6", ipv6Only=True)
        self.assertEqual(seen["clients"], {"127.0.0.1": "no answer", "::1": "served"})

    def test_exclusive_udp_workers_bind_themselves(self):
        d, seen = self.observe("udp4", exclusive=True)
        self.assertEqual(seen["workers"], [("error", "EADDRINUSE"),
                                           ("listening", "0.0.0.0", "IPv4")])
        self.assertEqual([s for s in d.status()["sockets"] if s.get("protocol") == "udp"], [])

    def test_reuse_addr_lets_exclusive_udp_workers_bind_the_same_port(self):
        _, seen = self.observe("udp4", exclusive=True, reuseAddr=True)
        self.assertEqual(seen["workers"], [("listening", "0.0.0.0", "IPv4")] * 2)
        _, seen = self.observe("udp4", reuseAddr=True)
        self.assertEqual(seen["workers"], [("listening", "0.0.0.0", "IPv4")] * 2)
        self.assertEqual(seen["clients"]["127.0.0.1"], "served")


if __name__ == "__main__":
    unittest.main()
