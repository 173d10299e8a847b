"""Every form of a worker's net listen() ends up where Node's primary would
put it: the same address in server.address(), the same clients served
(docs/compatibility.md, "listen() address")."""

import unittest

import listen_compat as lc

BOTH = {"127.0.0.1": "served", "::1": "served"}


class ListenAddress(lc.TestCase):
    def test_listen_with_no_host(self):
        seen = self.assert_same_under_both(kind="tcp")
        self.assertEqual(seen["clients"], BOTH)

    def test_listen_port_positionally(self):
        seen = self.assert_same_under_both(kind="tcp", args=["PORT"])
        self.assertEqual(seen["clients"], BOTH)

    def test_listen_on_the_ipv6_wildcard(self):
        self.assert_same_under_both(kind="tcp", host="::")

    def test_listen_on_the_ipv4_wildcard(self):
        seen = self.assert_same_under_both(kind="tcp", host="0.0.0.0")
        self.assertEqual(seen["clients"]["::1"], "refused")

    def test_listen_on_localhost(self):
        self.assert_same_under_both(kind="tcp", host="localhost")

    def test_ipv6_only(self):
        seen = self.assert_same_under_both(kind="tcp", host="::", ipv6Only=True)
        self.assertEqual(seen["clients"]["127.0.0.1"], "refused")

    def test_ipv6_only_without_a_host(self):
        self.assert_same_under_both(kind="tcp", ipv6Only=True)

    def test_exclusive(self):
        self.assert_same_under_both(kind="tcp", exclusive=True)


if __name__ == "__main__":
    unittest.main()
