"""A package upgrade of a running musterd (`dpkg -i` of a newer .deb): the
package's maintainer scripts restart it through systemd, its sockets wait in
the fd store meanwhile (no refused or reset connection), the new version
answers afterwards, and the edited config (a conffile) stays as it was; with
musterd.socket enabled too, the socket unit keeps running."""

import sys
import unittest

import service_support as s

OLD = f"{s.INSIDE}/muster.deb"
NEW = f"{s.INSIDE}/muster-next.deb"


@unittest.skipUnless(s.has_next_deb(), "no newer .deb (MUSTER_SYSTEMD_BINARIES replaces the "
                     "packaged binaries, so an upgrade would test something else)")
class Upgrade(s.TestCase):
    def setUp(self):
        super().setUp()
        c = self.c
        self.old = c.run(["dpkg-deb", "-f", OLD, "Version"]).stdout.strip()
        self.new = c.run(["dpkg-deb", "-f", NEW, "Version"]).stdout.strip()
        self.assertNotEqual(self.old, self.new)
        if self.installed() != self.old:  # a test before this one upgraded it
            c.systemctl("disable", "musterd.service", "musterd.socket")
            c.run(["dpkg", "-i", OLD], timeout=180, input="")
        self.write_config(s.socket_table() + s.hello_app(instances=2))

    def installed(self):
        return self.c.run(["dpkg-query", "-W", "-f=${Version}", "muster"]).stdout

    def upgrade_under_load(self):
        """Installs the newer .deb while clients run; checks what every
        upgrade must keep and returns the client's summary."""
        c = self.c
        config = c.read(s.CONFIG)
        pid = self.main_pid()
        self.assertIn(f"musterd {self.old}", self.musterctl("version").stdout)
        finish = self.start_load(slow=2)
        # As an operator would; no terminal, so a conffile question would fail it.
        c.run(["dpkg", "-i", NEW], timeout=180, input="")
        self.wait_ready("hello", 2)
        summary = finish()
        print(f"\n  upgrade under load: {summary}", file=sys.stderr)
        self.assertEqual(self.installed(), self.new)
        self.assertNotEqual(self.main_pid(), pid, "the upgrade restarted musterd")
        self.assertEqual(c.show("musterd", "ActiveState"), "active")
        self.assertIn(f"musterd {self.new}", self.musterctl("version").stdout)
        self.assertEqual(c.read(s.CONFIG), config, "the conffile changed")
        self.assertEqual(c.run(["ls", "/etc/muster"]).stdout.split(), ["muster.toml"])
        self.assertIn("(from systemd)", self.journal("-u", "musterd"))
        failures = {k: summary[k] for k in ("refused", "reset", "closed", "timeout", "bad")}
        self.assertEqual(failures, dict.fromkeys(failures, 0), summary)
        self.assertGreater(summary["ok"], 0, summary)
        return summary

    def test_installing_a_newer_deb_restarts_musterd_without_dropping_a_connection(self):
        self.c.systemctl("enable", "--now", "musterd")
        self.upgrade_under_load()

    def test_with_musterd_socket_the_socket_unit_keeps_running_through_an_upgrade(self):
        c = self.c
        c.systemctl("enable", "--now", "musterd.socket", "musterd.service")
        self.upgrade_under_load()
        self.assertEqual(c.show("musterd.socket", "ActiveState"), "active")
        self.assertNotIn("Address already in use", self.journal())


if __name__ == "__main__":
    unittest.main()
