"""Where worker output goes: the daemon's log (prefixed), a file, or nowhere;
and the daemon's JSON log format."""

import json
import os
import re
import signal
import unittest

import harness
from harness import app

# Prints two lines on stdout and one on stderr, notes that it has done so in
# ./printed.ID, then stays up.
PRINTER = """#!/bin/sh
echo "hello from $MUSTER_WORKER_ID"
echo "second line"
echo "on stderr" >&2
touch "printed.$MUSTER_WORKER_ID"
exec sleep 1000
"""


def log_lines_with(d, text):
    return [line for line in d.log_text().splitlines() if text in line]


class LogOutput(harness.TestCase):
    def test_each_output_line_reaches_the_daemon_log_prefixed_with_app_and_id(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.start(app("printer", "./printer.sh", cwd=".", output="log"))
        (w,) = d.wait_workers("printer", 1)
        prefix = f"printer[{w['id']}] "
        d.wait_log(prefix + "on stderr")
        for text in (f"hello from {w['id']}", "second line", "on stderr"):
            (line,) = log_lines_with(d, text)
            self.assertTrue(line.endswith(prefix + text), line)

    def test_lines_of_different_workers_carry_their_own_ids(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.start(app("printer", "./printer.sh", cwd=".", instances=2))
        for w in d.wait_workers("printer", 2):
            d.wait_log(f"printer[{w['id']}] hello from {w['id']}")

    def test_a_last_line_without_a_newline_is_still_logged(self):
        d = self.daemon()
        d.write_script("partial.sh", '#!/bin/sh\nprintf "no newline at the end"\nexit 0\n')
        d.start(app("partial", "./partial.sh", cwd=".", restart="never"))
        d.wait_log("partial[1] no newline at the end")

    def test_a_long_line_is_logged_in_bounded_pieces_without_losing_text(self):
        d = self.daemon()
        d.write_script("long.py", f"""#!{harness.PYTHON}
import sys, time
sys.stdout.write("".join(chr(ord("a") + i % 26) for i in range(40000)) + "\\n")
sys.stdout.write("after the long line\\n")
sys.stdout.flush()
time.sleep(1000)
""")
        d.start(app("long", "./long.py", cwd="."))
        d.wait_log("long[1] after the long line")
        pieces = [line.split("long[1] ", 1)[1] for line in log_lines_with(d, "long[1] ")
                  if "after the long line" not in line and "started" not in line]
        joined = "".join(pieces)
        self.assertEqual(joined, "".join(chr(ord("a") + i % 26) for i in range(40000)))


def wait_file_text(d, name, text):
    """The file's text once it contains `text`: musterd writes what it reads
    from the worker's pipe, which may be after the worker's marker file."""
    return d.wait_for(lambda: t if text in (t := d.read_file(name)) else None, 10,
                      f"{text!r} in {name}")


class FileOutput(harness.TestCase):
    def test_file_output_appends_to_output_file(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.write_file("out/web.log", "from before\n")
        d.start(app("printer", "./printer.sh", cwd=".", output="file",
                    output_file="out/web.log"))
        (w,) = d.wait_workers("printer", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"printed.{w['id']}")), 10, "the output")
        self.assertEqual(wait_file_text(d, "out/web.log", "on stderr\n"),
                         f"from before\nhello from {w['id']}\nsecond line\non stderr\n")
        self.assertNotIn("second line", d.log_text())

    def test_a_replacement_worker_appends_to_the_same_file(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.start(app("printer", "./printer.sh", cwd=".", output="file",
                    output_file=d.path("web.log")))
        (w,) = d.wait_workers("printer", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"printed.{w['id']}")), 10, "the output")
        os.kill(w["pid"], signal.SIGKILL)
        d.wait_for(lambda: os.path.exists(d.path(f"printed.{w['id'] + 1}")), 10,
                   "the replacement's output")
        text = wait_file_text(d, "web.log", f"hello from {w['id'] + 1}\n")
        self.assertIn(f"hello from {w['id']}\n", text)
        self.assertIn(f"hello from {w['id'] + 1}\n", text)
        self.assertLess(text.index(f"hello from {w['id']}"),
                        text.index(f"hello from {w['id'] + 1}"))

    def test_file_output_is_relative_to_the_config_directory(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        os.mkdir(d.path("work"))
        d.start(app("printer", "../printer.sh", cwd="work", output="file",
                    output_file="printer.log"), cwd="/")
        (w,) = d.wait_workers("printer", 1)
        d.wait_for(lambda: os.path.exists(d.path("work", f"printed.{w['id']}")), 10,
                   "the output")
        self.assertIn("second line", wait_file_text(d, "printer.log", "second line"))


class NullOutput(harness.TestCase):
    def test_null_output_is_discarded(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.start(app("printer", "./printer.sh", cwd=".", output="null"))
        (w,) = d.wait_workers("printer", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"printed.{w['id']}")), 10, "the output")
        self.assertEqual(log_lines_with(d, "second line"), [])
        self.assertEqual(log_lines_with(d, "on stderr"), [])


class InheritOutput(harness.TestCase):
    def test_inherit_output_goes_to_the_daemons_own_stdout_and_stderr_unprefixed(self):
        d = self.daemon()
        d.write_script("printer.sh", PRINTER)
        d.start(app("printer", "./printer.sh", cwd=".", output="inherit"))
        (w,) = d.wait_workers("printer", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"printed.{w['id']}")), 10, "the output")
        lines = d.log_text().splitlines()  # the harness sends musterd's stdout+stderr here
        self.assertIn("second line", lines)
        self.assertIn("on stderr", lines)


class JsonLog(harness.TestCase):
    def test_json_log_format_gives_one_object_per_line_with_worker_text_intact(self):
        text = 'say "hi" \\ back\tslash {"json": [1]} ünïcode'
        d = self.daemon()
        d.write_file("message.txt", text + "\n")
        d.start(app("quoter", "cat", args=["message.txt"], cwd=".", restart="never"),
                log_format="json")
        def messages():
            return [json.loads(line)["msg"] for line in d.log_text().splitlines()]
        d.wait_for(lambda: f"quoter[1] {text}" in messages(), 10, "the worker's line")
        for line in d.log_text().splitlines():
            record = json.loads(line)  # every line is one JSON object
            self.assertIsInstance(record, dict)
            self.assertIn("time", record)
            self.assertIn("level", record)


def journal_stream_of(path):
    """JOURNAL_STREAM as systemd sets it for a stderr that is `path`."""
    with open(path, "ab"):
        pass
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


class JournalStream(harness.TestCase):
    # Issue 20 item 4: under systemd every line used to reach the journal at
    # priority info, with musterd's timestamp beside journald's.
    def test_when_stderr_is_the_journal_lines_carry_a_priority_prefix_and_no_time(self):
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"]),
                env={"JOURNAL_STREAM": journal_stream_of(d.log_path)})
        d.wait_log("web[1] started")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(15), 0)
        lines = d.log_text().splitlines()
        self.assertIn(f"<6>info musterd running with 1 app(s) from {d.config_path}",
                      [re.sub(r"musterd \S+ running", "musterd running", line) for line in lines])
        self.assertTrue(all(line.startswith(("<3>", "<4>", "<6>", "<7>")) for line in lines),
                        lines)

    def test_a_journal_stream_that_is_not_stderr_changes_nothing(self):
        d = self.daemon()
        other = d.path("elsewhere")
        d.start(app("web", "sleep", args=["1000"]), env={"JOURNAL_STREAM": journal_stream_of(other)})
        d.wait_log("web[1] started")
        self.assertRegex(d.log_text().splitlines()[0], r"^\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d info ")


@unittest.skipIf(os.path.exists("/run/systemd/journal/socket"),
                 "this host runs journald (tests/systemd checks output = journal there)")
class JournalOutputWithoutJournal(harness.TestCase):
    def test_output_journal_is_refused_where_no_journald_listens(self):
        d = self.daemon()
        d.write_config(app("web", "sleep", args=["1000"], output="journal"))
        code, out, err = d.ctl("check", d.config_path)
        self.assertEqual(code, 2, out + err)
        self.assertIn('apps.web.output: output = "journal" needs the systemd journal', out + err)


if __name__ == "__main__":
    unittest.main()
