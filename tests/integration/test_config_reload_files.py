"""Config reload, continued (apps: test_config_reload.py): new sockets are
bound, moved ones rebound, removed ones closed. A file with errors changes
nothing, and every error is reported as FILE:LINE:COLUMN in the reply and in
the log. SIGHUP applies the file as reload-config does. An unchanged file
touches nothing.

Each test rewrites the daemon's own config file (harness: Daemon.config_path,
written in place by Daemon.write_config) and asks for a reload. Everything is
awaited with deadlines; nothing sleeps and hopes."""

import os
import re
import signal
import unittest

import node_support as ns
from node_support import socket_table
from config_reload_support import (
    sleeper, hello, sd_server, reload_config, ids, pids, identities, wait_gone, refused, TestCase)


class Sockets(TestCase):
    def test_a_new_socket_is_bound_and_served(self):
        d = self.daemon()
        d.start(sleeper("a"))
        a = d.wait_workers("a", 1)
        self.assertEqual(d.status()["sockets"], [])

        d.write_config(sleeper("a") + socket_table("api") + hello("api", "api", instances=1))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_added=["api"], sockets_added=["api"])
        (api,) = ns.wait_listening(d, "api", 1)
        port = ns.bound_port(d, "api")
        self.assertNotEqual(port, 0)
        results = ns.get_many(port, 10, concurrency=2)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual({ns.worker_of(b) for b in ns.answered(results)}, {api["id"]})
        self.assertEqual(identities(d.workers("a")), identities(a))

    def test_a_socket_whose_port_changed_is_rebound_and_its_app_reloaded(self):
        d = self.daemon()
        old_port, new_port = ns.free_port(), ns.free_port()
        while new_port == old_port:
            new_port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{old_port}") + sd_server())
        before = ns.wait_listening(d, "web", 2)
        status, body = ns.http_request(old_port)
        self.assertEqual(status, 200)
        self.assertIn(int(body.split()[-1]), pids(before))

        d.write_config(socket_table("web", f"127.0.0.1:{new_port}") + sd_server())
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["web"], sockets_rebound=["web"])
        self.wait_reload_done(d, "web")
        after = ns.wait_listening(d, "web", 2)
        self.assertTrue(min(ids(after)) > max(ids(before)), (before, after))
        self.assertEqual(ns.socket_status(d, "web")["bound"], f"127.0.0.1:{new_port}")

        # The new port is served by the new workers...
        bodies = ns.answered(ns.get_many(new_port, 10, concurrency=2))
        self.assertEqual(len(bodies), 10)
        self.assertLessEqual({int(b.split()[-1]) for b in bodies}, set(pids(after)))
        # ... and the old one is closed once its workers are gone.
        wait_gone(d, pids(before))
        d.wait_for(lambda: refused(old_port), 5, f"old port {old_port} to be closed")

    def test_a_rebound_round_robin_socket_closes_its_old_port(self):
        """A Node app (round-robin: musterd accepts) whose socket and listen
        port both move: the new port serves, the old one is closed once the
        old workers are gone."""
        d = self.daemon()
        old_port, new_port = ns.free_port(), ns.free_port()
        while new_port == old_port:
            new_port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{old_port}") +
                hello(env={"HELLO_PORT": str(old_port)}))
        before = ns.wait_listening(d, "web", 2)
        self.assertEqual(ns.http_request(old_port)[0], 200)

        d.write_config(socket_table("web", f"127.0.0.1:{new_port}") +
                       hello(env={"HELLO_PORT": str(new_port)}))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["web"], sockets_rebound=["web"])
        self.wait_reload_done(d, "web")
        after = ns.wait_listening(d, "web", 2)
        bodies = ns.answered(ns.get_many(new_port, 10, concurrency=2))
        self.assertEqual(len(bodies), 10)
        self.assertLessEqual({ns.worker_of(b) for b in bodies}, set(ids(after)))
        wait_gone(d, pids(before))
        d.wait_for(lambda: refused(old_port), 3, f"old port {old_port} to be closed")

    def test_a_removed_socket_is_closed(self):
        d = self.daemon()
        d.start(sleeper("a") + socket_table("web") + hello(instances=1))
        (web,) = ns.wait_listening(d, "web", 1)
        port = ns.bound_port(d, "web")
        self.assertEqual(ns.http_request(port)[0], 200)

        d.write_config(sleeper("a"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_removed=["web"], sockets_removed=["web"])
        wait_gone(d, [web["pid"]])
        self.assertEqual(d.status()["sockets"], [])
        d.wait_for(lambda: refused(port), 5, f"port {port} of the removed socket to be closed")


# --- a broken file -----------------------------------------------------------------

def position(text, needle):
    """(line, column), 1-based, of the first `needle` in `text`."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


class BrokenFile(TestCase):
    def test_a_broken_file_changes_nothing_and_every_error_is_reported(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        before = d.wait_workers("a", 2)

        # Valid changes (instances, a new app) next to two errors: none applies.
        path = d.write_config(sleeper("a", instances=3, restart_delay="soon", bogus_key=1) +
                              sleeper("b"))
        text = d.read_file("muster.toml")
        line, column = position(text, "bogus_key")
        unknown = f"{path}:{line}:{column}: apps.a.bogus_key: unknown key"
        line, column = position(text, '"soon"')
        duration = f"{path}:{line}:{column}: apps.a.restart_delay: expected a duration"
        self.assertEqual(position(text, "bogus_key")[1], 1)

        reply = reload_config(d)
        self.assertIs(reply.get("ok"), False, reply)
        self.assertEqual(len(reply["errors"]), 2, reply)
        self.assertTrue(reply["errors"][0].startswith(unknown) or
                        reply["errors"][1].startswith(unknown), (unknown, reply))
        self.assertTrue(any(e.startswith(duration) for e in reply["errors"]), (duration, reply))
        for e in reply["errors"]:
            self.assertRegex(e, "^" + re.escape(path) + r":\d+:\d+: ")
            self.assertIn(e, reply["error"])
            d.wait_log(f"reload-config: {e}")
        self.assertIn("nothing was changed", reply["error"])

        # musterctl: exit code 1, the errors on its output.
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, (out, err))
        for e in reply["errors"]:
            self.assertIn(e, out + err)

        # Nothing changed: same workers, no app b, no setup event, and the old
        # restart_delay (50ms) still applies to a crash.
        self.assertEqual(identities(d.workers("a")), identities(before))
        self.assertEqual([x["name"] for x in d.status()["apps"]], ["a"])
        self.assertEqual(d.app_status("a")["instances"], 2)
        self.assertEqual(d.events(event="setup"), [])
        os.kill(before[0]["pid"], signal.SIGKILL)
        restart = ns.wait_event(d, event="restart", app="a", instance=0)
        self.assertEqual(restart["backoff_ms"], 50, restart)
        d.wait_workers("a", 2)

        # Fixed, the same file applies.
        d.write_config(sleeper("a", instances=3) + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_added=["b"], apps_updated=["a"])
        d.wait_workers("a", 3)
        d.wait_workers("b", 1)

    def test_a_file_that_is_not_toml_changes_nothing(self):
        d = self.daemon()
        d.start(sleeper("a"))
        before = d.wait_workers("a", 1)
        path = d.write_config(sleeper("a") + "[apps.b\nexec = 1\n")
        reply = reload_config(d)
        self.assertIs(reply.get("ok"), False, reply)
        self.assertTrue(reply["errors"], reply)
        for e in reply["errors"]:
            self.assertRegex(e, "^" + re.escape(path) + r":\d+:\d+: ")
            d.wait_log(f"reload-config: {e}")
        self.assertEqual(identities(d.workers("a")), identities(before))
        self.assertEqual(d.events(event="setup"), [])


# --- SIGHUP, no changes, warnings ----------------------------------------------------

class SighupAndNoChanges(TestCase):
    def test_sighup_applies_a_change(self):
        d = self.daemon()
        d.start(sleeper("a"))
        a = d.wait_workers("a", 1)
        d.write_config(sleeper("a") + sleeper("b", instances=2))
        d.signal(signal.SIGHUP)
        d.wait_for(lambda: "b" in [x["name"] for x in d.status()["apps"]], 10,
                   "app b to appear in status")
        d.wait_workers("b", 2)
        setup = ns.wait_event(d, event="setup")
        self.assertEqual(setup["apps_added"], ["b"], setup)
        self.assertEqual(identities(d.workers("a")), identities(a))
        d.wait_log("SIGHUP: reloading the config")
        self.assertIsNone(d.proc.poll(), "musterd exited on SIGHUP")

    def test_sighup_with_a_broken_file_logs_the_errors_and_changes_nothing(self):
        d = self.daemon()
        d.start(sleeper("a"))
        a = d.wait_workers("a", 1)
        path = d.write_config(sleeper("a", instances="two"))
        line, column = position(d.read_file("muster.toml"), '"two"')
        d.signal(signal.SIGHUP)
        d.wait_log(f"reload-config: {path}:{line}:{column}: apps.a.instances:")
        d.wait_log("the running config is unchanged")
        self.assertEqual(identities(d.workers("a")), identities(a))
        self.assertEqual(d.events(event="setup"), [])
        self.assertIsNone(d.proc.poll())

    def test_an_unchanged_file_reports_no_changes_and_touches_nothing(self):
        d = self.daemon()
        d.start(socket_table("web") + hello(instances=2) + sleeper("a", instances=2))
        web = ns.wait_listening(d, "web", 2)
        a = d.wait_workers("a", 2)
        port = ns.bound_port(d, "web")
        events_before = len(d.events())

        reply = reload_config(d)
        self.assert_changes(d, reply)
        rc, out, err = d.ctl("reload-config")
        self.assertEqual((rc, out), (0, "config reloaded: no changes\n"), err)

        # The same settings written differently: still no change.
        text = d.read_file("muster.toml")
        d.write_file("muster.toml", "# rewritten by the test\n\n" +
                     text.replace(" = ", "   =   ") + "\n# the end\n")
        self.assert_changes(d, reload_config(d))

        self.assertEqual(identities(d.workers("web")), identities(web))
        self.assertEqual(identities(d.workers("a")), identities(a))
        self.assertEqual(ns.bound_port(d, "web"), port)
        new_events = d.events()[events_before:]
        self.assertEqual({e["event"] for e in new_events}, {"setup"}, new_events)
        self.assertEqual(ns.http_request(port)[0], 200)

    def test_a_control_socket_change_is_a_warning(self):
        d = self.daemon()
        d.start(sleeper("a"))
        a = d.wait_workers("a", 1)
        d.write_config(sleeper("a"), control_mode="0660")
        reply = reload_config(d)
        self.assertIs(reply.get("ok"), True, reply)
        self.assertEqual(len(reply["warnings"]), 1, reply)
        self.assertIn("restart", reply["warnings"][0])
        self.assert_changes(d, reply, warnings=reply["warnings"])
        self.assertEqual(identities(d.workers("a")), identities(a))
        # Still reachable where it was.
        self.assertTrue(d.request({"verb": "ping"}).get("pong"))


if __name__ == "__main__":
    unittest.main()
