"""dgram sockets in cluster workers: bound once by the primary and shared by
every worker (never round-robin), as under Node's primary
(docs/compatibility.md, "dgram (UDP) bind")."""

import unittest

import listen_compat as lc


class DgramBind(lc.TestCase):
    def test_udp4(self):
        seen = self.assert_same_under_both(kind="udp4")
        self.assertEqual(seen["clients"]["127.0.0.1"], "served")

    def test_udp6(self):
        seen = self.assert_same_under_both(kind="udp6")
        self.assertEqual(seen["clients"]["::1"], "served")

    def test_udp6_ipv6_only(self):
        self.assert_same_under_both(kind="udp6", ipv6Only=True)

    def test_udp4_on_localhost(self):
        self.assert_same_under_both(kind="udp4", address="127.0.0.1")

    def test_exclusive(self):
        self.assert_same_under_both(kind="udp4", exclusive=True)

    def test_reuse_addr(self):
        self.assert_same_under_both(kind="udp4", reuseAddr=True)

    def test_exclusive_with_reuse_addr(self):
        self.assert_same_under_both(kind="udp4", exclusive=True, reuseAddr=True)


if __name__ == "__main__":
    unittest.main()
