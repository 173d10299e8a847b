"""A package upgrade of a running musterd (`dpkg -i` of a newer .deb): the
package's postinst has musterd take the new binary over in place (`musterctl
upgrade`): the same main pid and worker pids, no refused or reset
connection, the new version answers afterwards, and the edited config (a
conffile) stays as it was; with musterd.socket enabled too, the socket unit
keeps running. When the in-place upgrade fails, the postinst says so and
restarts musterd through systemd (its sockets wait in the fd store: still no
connection lost); a stopped musterd is not upgraded in place (an enabled one is
started, with the new binary)."""

import sys
import unittest

import service_support as s

OLD = f"{s.INSIDE}/muster.deb"
NEW = f"{s.INSIDE}/muster-next.deb"
MUSTERCTL = "/usr/bin/musterctl"
# Stands in for a musterctl upgrade that fails (refused, an older musterd
# without the verb, no answer): the postinst's fallback is what is checked.
FAILING_UPGRADE = """#!/bin/sh
# tests/systemd test_upgrade: every `upgrade` fails, all else is musterctl's.
for arg in "$@"; do
  if [ "$arg" = upgrade ]; then
    echo "musterctl: upgrade refused: made to fail by test_upgrade" >&2
    exit 1
  fi
done
exec /usr/bin/musterctl.real "$@"
"""


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

    def worker_pids(self, app):
        return sorted(w["pid"] for w in self.wait_ready(app, 2))

    def upgrade_under_load(self):
        """Installs the newer .deb while clients run; checks what every
        upgrade must keep and returns dpkg's output, musterd's pid and its
        workers' from before."""
        c = self.c
        config = c.read(s.CONFIG)
        pid = self.main_pid()
        workers = self.worker_pids("hello")
        self.assertIn(f"musterd {self.old}", self.musterctl("version").stdout)
        finish = self.start_load(slow=2)
        # As an operator would; no terminal, so a conffile question would fail it.
        dpkg = c.run(["dpkg", "-i", NEW], timeout=180, input="").stdout
        self.wait_ready("hello", 2)
        summary = finish()
        print(f"\n  upgrade under load: {summary}", file=sys.stderr)
        self.assertEqual(self.installed(), self.new)
        self.assertEqual(c.show("musterd", "ActiveState"), "active")
        self.assertIn(f"musterd {self.new}", self.musterctl("version").stdout)
        self.assertEqual(c.read(s.CONFIG), config, "the conffile changed")
        self.assertEqual(c.run(["ls", "/etc/muster"]).stdout.split(), ["muster.toml"])
        failures = {k: summary[k] for k in ("refused", "reset", "closed", "timeout", "bad")}
        self.assertEqual(failures, dict.fromkeys(failures, 0), summary)
        self.assertGreater(summary["ok"], 0, summary)
        return dpkg, pid, workers

    def assert_upgraded_in_place(self, dpkg, pid, workers):
        self.assertIn(f"musterd: upgraded from {self.old} to {self.new} (pid {pid})", dpkg)
        self.assertNotIn("in-place upgrade failed", dpkg)
        self.assertEqual(self.main_pid(), pid, "the upgrade restarted musterd")
        self.assertEqual(self.worker_pids("hello"), workers, "the upgrade restarted workers")
        self.assertEqual([w["restarts"] for w in self.workers("hello")], [0, 0])
        self.assertIn(f"upgraded from {self.old} to {self.new}", self.journal("-u", "musterd"))

    def test_installing_a_newer_deb_upgrades_musterd_in_place_under_load(self):
        self.c.systemctl("enable", "--now", "musterd")
        self.assert_upgraded_in_place(*self.upgrade_under_load())

    def test_with_musterd_socket_the_socket_unit_keeps_running_through_an_upgrade(self):
        c = self.c
        c.systemctl("enable", "--now", "musterd.socket", "musterd.service")
        self.assert_upgraded_in_place(*self.upgrade_under_load())
        self.assertEqual(c.show("musterd.socket", "ActiveState"), "active")
        self.assertNotIn("Address already in use", self.journal())

    def test_when_the_in_place_upgrade_fails_the_postinst_says_so_and_restarts_musterd(self):
        c = self.c
        c.run(["dpkg-divert", "--local", "--rename", "--divert", f"{MUSTERCTL}.real",
               "--add", MUSTERCTL])
        self.addCleanup(c.run, ["dpkg-divert", "--local", "--rename", "--remove", MUSTERCTL])
        self.addCleanup(c.run, ["rm", "-f", MUSTERCTL])
        c.write(MUSTERCTL, FAILING_UPGRADE, mode="0755")
        c.systemctl("enable", "--now", "musterd")
        dpkg, pid, workers = self.upgrade_under_load()
        self.assertIn("musterd: in-place upgrade failed (upgrade refused: made to fail by "
                      "test_upgrade); restarting it", dpkg)
        self.assertNotEqual(self.main_pid(), pid, "the fallback did not restart musterd")
        self.assertNotEqual(self.worker_pids("hello"), workers)
        # The restarted musterd took its listening socket back from the fd store.
        self.assertIn("(from systemd)", self.journal("-u", "musterd"))

    def test_a_stopped_musterd_is_not_upgraded_in_place_but_started_if_enabled(self):
        c = self.c
        c.systemctl("enable", "musterd")  # and stopped (setUp)
        dpkg = c.run(["dpkg", "-i", NEW], timeout=180, input="").stdout
        self.assertEqual(self.installed(), self.new)
        self.assertNotIn("musterd:", dpkg)
        c.wait_active("musterd")  # debhelper's postinst part starts an enabled musterd
        self.assertIn(f"musterd {self.new}", self.musterctl("version").stdout)
        self.assertNotIn("upgraded from", self.journal("-u", "musterd"))


if __name__ == "__main__":
    unittest.main()
