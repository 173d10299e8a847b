"""`systemctl restart musterd` under load: the listening sockets wait in
systemd's fd store while musterd and its workers restart, so a client sees
no refused and no reset connection; and musterd.socket (socket activation)
together with the fd store."""

import sys
import unittest

import service_support as s

RESTARTS = 20


def no_failures(summary):
    return {k: summary[k] for k in ("refused", "reset", "closed", "timeout", "bad")}


class RestartUnderLoad(s.TestCase):
    def test_twenty_restarts_drop_no_connection(self):
        c = self.c
        # systemd allows 5 starts in 10s (StartLimitBurst=, StartLimitIntervalSec=):
        # without this the sixth restart fails with "start of the service was
        # attempted too often".
        self.drop_in("musterd.service", "[Unit]\nStartLimitIntervalSec=0\n")
        self.write_config(s.socket_table() + s.hello_app(instances=2))
        c.systemctl("start", "musterd")
        finish = self.start_load(slow=3, pause=0.5)
        pids = set()
        for i in range(RESTARTS):
            c.systemctl("restart", "musterd")
            pids.add(self.main_pid())
            self.wait_ready("hello", 2)
        summary = finish()
        # The measurement, for the record (bench/ and the README quote it).
        print(f"\n  {RESTARTS} restarts under load: {summary}", file=sys.stderr)
        self.assertEqual(len(pids), RESTARTS, "each restart is a new musterd")
        self.assertEqual(c.show("musterd", "NRestarts"), "0")
        self.assertGreater(summary["slow_ok"], RESTARTS, summary)
        self.assertEqual(no_failures(summary), dict.fromkeys(no_failures(summary), 0), summary)

    def test_a_restart_with_a_config_that_does_not_load_fails_loudly(self):
        c = self.c
        self.write_config(s.socket_table() + s.hello_app(instances=1))
        c.systemctl("start", "musterd")
        self.write_config(s.socket_table() + s.hello_app(instances=1) + "bogus = 1\n")
        r = c.systemctl("restart", "musterd", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(c.show("musterd", "ActiveState"), "failed")
        self.assertIn(f"{s.CONFIG}:", self.journal("-u", "musterd"))
        # The unit failed, so systemd emptied its fd store: the port is closed
        # (what the README warns about).
        self.assertEqual(c.show("musterd", "NFileDescriptorStore"), "0")
        status, error = self.get(timeout=5)
        self.assertIsNone(status)
        self.assertIn("Connection refused", error)


class SocketActivation(s.TestCase):
    def test_the_first_connection_starts_musterd_which_serves_it(self):
        c = self.c
        self.write_config(s.socket_table() + s.hello_app(instances=2))
        c.systemctl("start", "musterd.socket")
        self.assertEqual(c.show("musterd.service", "ActiveState"), "inactive")
        status, body = self.get(timeout=30)
        self.assertEqual(status, 200, body)
        c.wait_active("musterd.service")
        self.assertIn("socket web listening on 127.0.0.1:8000 (from systemd)",
                      self.journal("-u", "musterd"))

    def test_restarts_with_the_socket_unit_and_the_fd_store_keep_serving_without_a_warning(self):
        c = self.c
        self.write_config(s.socket_table() + s.hello_app(instances=2))
        c.systemctl("start", "musterd.socket")
        c.systemctl("start", "musterd")
        finish = self.start_load(slow=1)
        for _ in range(3):
            c.systemctl("restart", "musterd")
            self.wait_ready("hello", 2)
        summary = finish()
        self.assertEqual(no_failures(summary), dict.fromkeys(no_failures(summary), 0), summary)
        self.assertNotIn("systemd passed two", self.journal("-u", "musterd"))


if __name__ == "__main__":
    unittest.main()
