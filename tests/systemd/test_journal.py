"""Logs that journald understands: musterd's own lines carry their priority
(`journalctl -p warning` shows its warnings) and no second timestamp, and
`output = "journal"` makes each worker line a journal entry of its own, with
fields naming the app, the worker, its slot and pid, stdout at info and
stderr at warning."""

import json
import re
import unittest

import service_support as s

# Prints one line on stdout and one on stderr, then waits to be stopped.
TALKER = ('[apps.talker]\nexec = "/bin/sh"\nargs = ["-c", "echo to stdout; echo to stderr >&2; '
          'exec sleep 1000"]\ninstances = 2\noutput = "journal"\nstop_timeout = "2s"\n')


class MusterdsOwnLog(s.TestCase):
    def test_warnings_have_warning_priority_and_lines_no_timestamp_of_their_own(self):
        c = self.c
        # A stored socket the config no longer names is dropped with a warning.
        self.write_config(s.socket_table() + s.socket_table("extra", 8001) + s.hello_app())
        c.systemctl("start", "musterd")
        self.write_config(s.socket_table() + s.hello_app())
        c.systemctl("restart", "musterd")
        c.wait_for(lambda: "socket named extra" in self.journal("-u", "musterd"), 10,
                   "the warning about the stored socket extra")
        warnings = self.journal("-u", "musterd", "-p", "warning", "-o", "cat")
        self.assertIn("systemd passed a socket named extra", warnings)
        self.assertNotIn("listening on", warnings)
        info = self.journal("-u", "musterd", "-o", "cat")
        line = next(l for l in info.splitlines() if "(from systemd)" in l)
        self.assertEqual(line, "info socket web listening on 127.0.0.1:8000 (from systemd)")
        entries = [json.loads(l) for l in self.journal("-u", "musterd", "-o", "json").splitlines()]
        by_text = {e["MESSAGE"]: e for e in entries if isinstance(e.get("MESSAGE"), str)}
        self.assertEqual(by_text[line]["PRIORITY"], "6")
        warning = next(m for m in by_text if "socket named extra" in m)
        self.assertEqual(by_text[warning]["PRIORITY"], "4")


class JournalOutput(s.TestCase):
    def test_each_worker_line_is_an_entry_with_fields_naming_its_worker(self):
        c = self.c
        self.write_config(TALKER)
        c.systemctl("start", "musterd")
        workers = {w["pid"]: w for w in self.workers("talker")}
        self.assertEqual(len(workers), 2)

        def entries():
            out = self.journal("MUSTER_APP=talker", "-o", "json")
            got = [json.loads(l) for l in out.splitlines()]
            return got if len(got) >= 4 else None
        got = c.wait_for(entries, 10, "four entries with MUSTER_APP=talker",
                         lambda: "\n" + self.journal("-o", "json", lines=20))
        self.assertEqual(len(got), 4, got)
        for e in got:
            w = workers[int(e["MUSTER_PID"])]
            self.assertEqual(e["MUSTER_WORKER_ID"], str(w["id"]))
            self.assertEqual(e["MUSTER_INSTANCE"], str(w["instance"]))
            self.assertEqual(e["SYSLOG_IDENTIFIER"], "talker")
            self.assertEqual(e["SYSLOG_PID"], e["MUSTER_PID"])
            self.assertEqual(e["_SYSTEMD_UNIT"], "musterd.service")
            self.assertEqual(e["PRIORITY"], {"to stdout": "6", "to stderr": "4"}[e["MESSAGE"]])
        # Not in musterd's own log as well.
        self.assertNotIn("to stdout", self.journal("-u", "musterd", "SYSLOG_IDENTIFIER=musterd"))
        self.assertEqual(self.journal("-t", "talker", "-p", "warning", "-o", "cat").split("\n")[:2],
                         ["to stderr", "to stderr"])
        # `musterctl logs` still has them.
        logs = self.musterctl("logs", "talker").stdout
        self.assertEqual(len(re.findall("to stdout", logs)), 2, logs)

    def test_musterctl_check_accepts_output_journal_here(self):
        self.write_config(TALKER)
        out = self.musterctl("check").stdout
        self.assertIn("ok (1 app", out)


if __name__ == "__main__":
    unittest.main()
