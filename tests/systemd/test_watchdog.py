"""Watchdogs under a real systemd: musterd's own (WatchdogSec= in a drop-in:
musterd pings, and a hung musterd is killed and restarted with its sockets
kept) and a worker's (`watchdog` of a systemd-protocol app: musterd, not
systemd, watches it, even when the unit has a watchdog of its own)."""

import unittest

import service_support as s

WATCHDOG = "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=3s\n"


class MusterdWatchdog(s.TestCase):
    def test_a_pinging_musterd_outlives_many_watchdog_periods(self):
        c = self.c
        self.drop_in("musterd.service", WATCHDOG)
        self.write_config(s.socket_table() + s.hello_app(instances=1))
        c.systemctl("start", "musterd")
        pid = self.main_pid()
        self.assertEqual(c.show("musterd", "WatchdogUSec"), "2s")
        self.assertIn("systemd watchdog: WATCHDOG=1 every 1000ms", self.journal("-u", "musterd"))
        stamp = c.show("musterd", "WatchdogTimestampMonotonic")
        # Three periods later: still the same process, and systemd saw pings.
        c.wait_for(lambda: c.show("musterd", "WatchdogTimestampMonotonic") != stamp, 5,
                   "systemd to see a WATCHDOG=1")
        c.run(["sleep", "6"])
        self.assertEqual(self.main_pid(), pid)
        self.assertEqual(c.show("musterd", "NRestarts"), "0")

    def test_a_hung_musterd_is_killed_and_restarted_and_its_socket_kept(self):
        c = self.c
        self.drop_in("musterd.service", WATCHDOG)
        self.write_config(s.socket_table() + s.hello_app(instances=1))
        c.systemctl("start", "musterd")
        pid = self.main_pid()
        c.run(["kill", "-STOP", str(pid)])  # its event loop, and so its pings, stop
        c.wait_for(lambda: "Watchdog timeout" in self.journal("-u", "musterd"), 15,
                   "systemd's watchdog timeout")
        c.wait_for(lambda: c.show("musterd", "NRestarts") == "1" and
                   c.show("musterd", "ActiveState") == "active", 30,
                   "musterd restarted by Restart=on-failure")
        self.assertNotEqual(self.main_pid(), pid)
        self.wait_ready("hello", 1)
        self.assertIn("(from systemd)", self.journal("-u", "musterd"))
        self.assertEqual(self.get()[0], 200)


class WorkerWatchdog(s.TestCase):
    def test_a_worker_that_stops_pinging_is_replaced_by_musterd(self):
        c = self.c
        # The unit's own watchdog must not reach the workers or be fed by them.
        self.drop_in("musterd.service", WATCHDOG)
        self.write_config(
            s.socket_table() +
            s.sd_hello_app("quiet", extra='watchdog = "1s"\nenv = { SD_HELLO_WATCHDOG = "0" }\n') +
            s.socket_table("other", 8001) +
            s.sd_hello_app("pinging", socket="other", extra='watchdog = "1s"\n'))
        c.systemctl("start", "musterd")
        pid = self.main_pid()
        first = self.workers("quiet")[0]["pid"]
        c.wait_for(lambda: any(w["pid"] != first for w in self.workers("quiet")), 10,
                   "the silent worker to be replaced")
        self.assertIn("watchdog", self.journal("-u", "musterd"))
        pinging = self.workers("pinging")[0]["pid"]
        c.run(["sleep", "3"])
        self.assertEqual(self.workers("pinging")[0]["pid"], pinging)
        env = c.read(f"/proc/{pinging}/environ").split("\0")
        self.assertIn("WATCHDOG_USEC=1000000", env)
        # systemd's WATCHDOG_PID (musterd's pid) would make sd_watchdog_enabled()
        # in the worker say no.
        self.assertEqual([e for e in env if e.startswith("WATCHDOG_PID=")], [])
        # musterd itself kept feeding systemd meanwhile.
        self.assertEqual(self.main_pid(), pid)
        self.assertEqual(c.show("musterd", "NRestarts"), "0")


if __name__ == "__main__":
    unittest.main()
