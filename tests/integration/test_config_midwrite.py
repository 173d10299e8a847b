"""A config file caught mid-write never stops everything (issue 19 §3).

A tool that truncates the config and then writes it (`cat new > muster.toml`,
many editors' save) leaves it empty for a moment, and a `reload-config` or
SIGHUP in that moment used to apply it: every app removed, every worker
stopped. musterd now refuses an empty or whitespace-only file (at start and on
reload: nothing changed, the reason in the reply and the log, musterctl exit
1), and refuses a reload that would remove every app unless the operator says
so (`musterctl reload-config --allow-empty`; SIGHUP never does). A file that
changes while musterd reads it is read again.

Each test rewrites the daemon's own config file in place, as the careless
operator does."""

import os
import random
import signal
import subprocess
import threading
import time
import unittest

import harness


def sleeper(name, instances=1):
    return harness.app(name, "sleep", args=["600"], instances=instances)


def identities(workers):
    return [(w["instance"], w["id"], w["pid"]) for w in workers]


def reload_config(d, **fields):
    return d.request({"verb": "reload-config", **fields}, timeout=20)


class TestCase(harness.TestCase):
    def start_two_apps(self):
        """musterd running apps a (2 workers) and b (1); their identities."""
        d = self.daemon()
        d.start(sleeper("a", instances=2) + sleeper("b"))
        return d, {name: identities(d.wait_workers(name, n)) for name, n in (("a", 2), ("b", 1))}

    def assert_untouched(self, d, before, duration=0.3):
        """Both apps keep exactly their workers, no worker exits, no setup event."""
        now = lambda: {name: identities(d.workers(name)) for name in before}
        d.holds(lambda: now() == before, duration, "the same workers")
        self.assertEqual(d.events(event="exit"), [])
        self.assertEqual(d.events(event="setup"), [])
        self.assertIsNone(d.proc.poll())


class EmptyFile(TestCase):
    def test_an_empty_file_is_refused_and_changes_nothing(self):
        d, before = self.start_two_apps()
        d.write_file("muster.toml", "")
        reply = reload_config(d)
        self.assertIs(reply.get("ok"), False, reply)
        (error,) = reply["errors"]
        self.assertTrue(error.startswith(d.config_path + ": the file is empty"), error)
        self.assertIn("mid-write", error)
        self.assertIn("rename it over", error)
        self.assertIn("nothing was changed", reply["error"])
        d.wait_log(f"reload-config: {error}")
        # musterctl: exit 1, the reason on stderr.
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("the file is empty", err)
        self.assert_untouched(d, before)

    def test_a_whitespace_only_file_is_refused_and_changes_nothing(self):
        d, before = self.start_two_apps()
        d.write_file("muster.toml", "\n  \n\t\r\n")
        reply = reload_config(d)
        self.assertIs(reply.get("ok"), False, reply)
        self.assertIn("the file holds only whitespace", reply["error"])
        self.assert_untouched(d, before)

    def test_sighup_with_an_empty_file_changes_nothing(self):
        d, before = self.start_two_apps()
        d.write_file("muster.toml", "")
        d.signal(signal.SIGHUP)
        d.wait_log(f"reload-config: {d.config_path}: the file is empty")
        self.assert_untouched(d, before)
        # Written again, the file applies as usual.
        d.write_config(sleeper("a", instances=2) + sleeper("b") + sleeper("c"))
        d.signal(signal.SIGHUP)
        d.wait_for(lambda: "c" in [a["name"] for a in d.status()["apps"]], 10, "app c")
        d.wait_workers("c", 1)

    def test_musterd_refuses_to_start_on_an_empty_file(self):
        d = self.daemon()
        d.write_file("muster.toml", "")
        # Its default control socket, should it start, in the test's own dir.
        env = dict(os.environ, RUNTIME_DIRECTORY=d.dir)
        r = subprocess.run([harness.MUSTERD, "-c", d.config_path], capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL, env=env)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn(d.config_path + ": the file is empty", r.stderr)
        rc, out, err = d.ctl("check", d.config_path)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("the file is empty", err)


class NoApps(TestCase):
    def test_a_file_with_no_apps_is_refused_unless_allowed(self):
        d, before = self.start_two_apps()
        d.write_config("# every app commented out\n")
        reply = reload_config(d)
        self.assertIs(reply.get("ok"), False, reply)
        self.assertTrue(reply["error"].startswith("the reload was refused; nothing was changed"),
                        reply)
        (error,) = reply["errors"]
        self.assertIn("would remove every app (a, b)", error)
        self.assertIn("--allow-empty", error)
        d.wait_log("reload-config: " + error)
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("would remove every app", err)
        self.assert_untouched(d, before)

        # The operator means it: every app goes.
        rc, out, err = d.ctl("reload-config", "--allow-empty")
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("apps_removed: a b", out)
        d.wait_for(lambda: d.status()["apps"] == [], 10, "every app to leave status")
        exits = d.events(event="exit")
        self.assertEqual(len(exits), 3, exits)
        self.assertTrue(all(e["voluntary"] for e in exits), exits)
        # With no apps running, a file with none is no removal: nothing to allow.
        self.assertIs(reload_config(d).get("ok"), True)

    def test_sighup_never_removes_every_app(self):
        d, before = self.start_two_apps()
        d.write_config("")
        d.signal(signal.SIGHUP)
        d.wait_log("would remove every app (a, b)")
        self.assert_untouched(d, before)

    def test_allow_empty_is_no_licence_for_an_empty_file(self):
        d, before = self.start_two_apps()
        d.write_file("muster.toml", "")
        reply = reload_config(d, allow_empty=True)
        self.assertIs(reply.get("ok"), False, reply)
        self.assertIn("the file is empty", reply["error"])
        self.assert_untouched(d, before)


class RewrittenInPlace(TestCase):
    TRIES = 60

    def test_a_file_rewritten_in_place_during_reloads_never_stops_every_app(self):
        """The issue's race: `cat good.toml > muster.toml` (truncate, then
        write) against reload-config, 60 times, with the two at random
        offsets of up to 10 ms. No reload may remove an app; each either
        sees the whole file (no changes) or refuses."""
        d, before = self.start_two_apps()
        good = d.read_file("muster.toml")
        rng = random.Random(19)
        outcomes = {"no changes": 0, "refused": 0, "removed apps": 0}
        for _ in range(self.TRIES):
            def rewrite(pause=rng.uniform(0, 0.01)):
                with open(d.config_path, "w") as f:  # truncates
                    time.sleep(pause)
                    f.write(good)
            writer = threading.Thread(target=rewrite)
            writer.start()
            time.sleep(rng.uniform(0, 0.01))
            reply = reload_config(d)
            writer.join()
            if reply.get("ok"):
                removed = reply.get("apps_removed")
                outcomes["removed apps" if removed else "no changes"] += 1
                if removed:  # put them back for the next try
                    reload_config(d)
            else:
                outcomes["refused"] += 1
                self.assertRegex(reply["error"], "the file is empty|would remove every app|"
                                 "changed while it was read", reply)
        print(f"\n{self.TRIES} rewrites racing reload-config: {outcomes}", flush=True)
        self.assertEqual(outcomes["removed apps"], 0, outcomes)
        self.assertEqual({name: identities(d.workers(name)) for name in before}, before)
        self.assertEqual(d.events(event="exit"), [])


if __name__ == "__main__":
    unittest.main()
