"""`musterctl help [VERB]` prints what --help and VERB --help print (issue #12)."""

import subprocess
import unittest

import harness
from harness import MUSTERCTL


def run(*args):
    r = subprocess.run([MUSTERCTL, *args], capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


class Help(harness.TestCase):
    def test_help_alone_is_the_same_as_dash_dash_help(self):
        rc, out, err = run("help")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, run("--help")[1])
        self.assertIn("reload-config", out)

    def test_help_with_a_verb_is_the_same_as_that_verbs_dash_dash_help(self):
        for verb in ("stop", "logs", "send", "upgrade", "check", "help"):
            with self.subTest(verb=verb):
                rc, out, err = run("help", verb)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, run(verb, "--help")[1])
                self.assertIn(f"musterctl {verb}", out)

    def test_help_needs_no_daemon(self):
        rc, out, err = run("-s", "/nonexistent/muster.sock", "help", "status")
        self.assertEqual(rc, 0, err)

    def test_help_with_an_unknown_verb_is_a_usage_error(self):
        rc, out, err = run("help", "frob")
        self.assertEqual(rc, 2)
        self.assertIn("no verb 'frob'", err)


if __name__ == "__main__":
    unittest.main()
