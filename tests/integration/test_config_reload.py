"""Config reload (`musterctl reload-config`, control verb `reload-config`,
SIGHUP): musterd re-reads the file it was started with and applies the
difference. New apps start; removed apps stop and leave status; apps whose
worker-facing settings changed (exec, args, env, sockets, ... or a socket they
use moved) are rolling-reloaded (new worker ids, no failed request); apps with
only policy changes (restart*, max_restarts, instances, ...) take them without
a restart (same worker ids); new sockets are bound, moved ones rebound. A file
with errors changes nothing, and every error is reported as FILE:LINE:COLUMN
in the reply and in the log. An unchanged file touches nothing.

Each test rewrites the daemon's own config file (harness: Daemon.config_path,
written in place by Daemon.write_config) and asks for a reload. Everything is
awaited with deadlines; nothing sleeps and hopes."""

import json
import os
import re
import signal
import time
import unittest

import harness
import node_support as ns
from client_support import Load, ok
from node_support import socket_table

HERE = os.path.dirname(os.path.abspath(__file__))
HELLO_JS = ns.script("hello.js")
SD_SERVER = os.path.join(HERE, "systemd_workers", "sd_server.py")

CHANGE_KEYS = ("apps_added", "apps_removed", "apps_reloaded", "apps_updated",
               "sockets_added", "sockets_removed", "sockets_rebound", "warnings")


# --- apps ----------------------------------------------------------------------

def sleeper(name, seconds="600", **keys):
    """A plain supervised process (protocol none): `sleep SECONDS`."""
    return harness.app(name, "sleep", args=[seconds], **keys)


def hello(name="web", socket="web", instances=2, **keys):
    """node_workers/hello.js on socket SOCKET (round-robin by default)."""
    return ns.node_app(name, "hello.js", instances=instances, sockets=[socket], **keys)


def sd_server(name="web", socket="web", instances=2, **keys):
    """systemd_workers/sd_server.py: serves whatever socket it is given as fd 3,
    whatever its address (so a rebound socket needs no change of the app)."""
    return harness.app(name, harness.PYTHON, args=[SD_SERVER], protocol="systemd",
                       instances=instances, sockets=[socket], **keys)


# --- reloading -----------------------------------------------------------------

def reload_config(d):
    return d.request({"verb": "reload-config"}, timeout=20)


def ids(workers):
    return [w["id"] for w in workers]


def pids(workers):
    return [w["pid"] for w in workers]


def identities(workers):
    """(instance, id, pid) of each worker: what must not change when an app
    is left alone."""
    return [(w["instance"], w["id"], w["pid"]) for w in workers]


def cmdline(pid, timeout=5.0):
    """A worker's argv. Read empty for a moment after its pid is known, as
    its environment is (see harness.proc_environ): retried until a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = [a.decode() for a in f.read().split(b"\0") if a]
        if args or time.monotonic() > deadline:
            return args
        time.sleep(0.01)


def wait_gone(d, gone_pids, timeout=10):
    d.wait_for(lambda: not any(harness.pid_alive(p) for p in gone_pids), timeout,
               f"processes {sorted(gone_pids)} to exit")


def refused(port):
    """True if nothing accepts connections on 127.0.0.1:PORT."""
    try:
        with ns.connect(port, timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def fork_events(d, app):
    return d.events(event="fork", app=app)




class TestCase(ns.TestCase):
    def assert_changes(self, d, reply, **expected):
        """The reply is ok and lists exactly `expected` (every other list
        empty), and the latest `setup` event says the same."""
        self.assertIs(reply.get("ok"), True, f"{reply}{d.log_tail()}")
        want = {k: sorted(expected.get(k, [])) for k in CHANGE_KEYS}
        got = {k: sorted(reply.get(k, ["<missing>"])) for k in CHANGE_KEYS}
        if not expected.get("warnings"):
            want.pop("warnings")
            self.assertEqual(reply.get("warnings"), [], reply)
            got.pop("warnings")
        self.assertEqual(got, want, reply)
        setups = d.events(event="setup")
        self.assertTrue(setups, "no setup event")
        self.assertEqual({k: setups[-1].get(k) for k in CHANGE_KEYS},
                         {k: reply.get(k) for k in CHANGE_KEYS}, setups[-1])

    def wait_reload_done(self, d, app, count=1, timeout=15):
        """Waits for the `count`-th finished rolling reload of APP."""
        def done():
            events = d.events(event="reload", app=app)
            failed = [e for e in events if e.get("phase") == "failed"]
            self.assertEqual(failed, [], f"a rolling reload of {app} failed")
            finished = [e for e in events if e.get("phase") == "done"]
            return finished if len(finished) >= count else None
        return d.wait_for(done, timeout, f"rolling reload {count} of {app} to finish")


# --- apps added, removed ---------------------------------------------------------

class AppsAddedAndRemoved(TestCase):
    def test_a_new_app_starts_and_the_others_are_left_alone(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        a = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2) + sleeper("b", instances=2))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_added=["b"])
        b = d.wait_workers("b", 2)
        self.assertEqual([w["instance"] for w in b], [0, 1])
        self.assertTrue(min(ids(b)) > max(ids(a)), (a, b))
        self.assertEqual(d.app_status("b")["state"], "running")
        self.assertEqual(identities(d.workers("a")), identities(a))
        self.assertEqual(len(fork_events(d, "a")), 2)

    def test_a_removed_app_stops_and_leaves_status(self):
        d = self.daemon()
        d.start(sleeper("a") + sleeper("b", instances=2))
        a = d.wait_workers("a", 1)
        b = d.wait_workers("b", 2)

        d.write_config(sleeper("a"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_removed=["b"])
        wait_gone(d, pids(b))
        d.wait_for(lambda: "b" not in [x["name"] for x in d.status()["apps"]], 10,
                   "app b to leave status")
        # Stopped by musterd (voluntary exits), not crashed, and not restarted.
        exits = d.events(event="exit", app="b")
        self.assertEqual(sorted(e["id"] for e in exits), sorted(ids(b)))
        self.assertTrue(all(e["voluntary"] for e in exits), exits)
        self.assertEqual(len(fork_events(d, "b")), 2)
        self.assertEqual(identities(d.workers("a")), identities(a))
        # The name is gone for the control verbs too.
        self.assertIs(d.request({"verb": "status", "app": "b"}).get("ok"), False)

    def test_a_removed_app_comes_back_as_a_new_app(self):
        d = self.daemon()
        d.start(sleeper("a") + sleeper("b"))
        (old_b,) = d.wait_workers("b", 1)
        d.write_config(sleeper("a"))
        self.assert_changes(d, reload_config(d), apps_removed=["b"])
        d.wait_for(lambda: "b" not in [x["name"] for x in d.status()["apps"]], 10,
                   "app b to leave status")
        d.write_config(sleeper("a") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_added=["b"])
        (new_b,) = d.wait_workers("b", 1)
        self.assertGreater(new_b["id"], old_b["id"])

    def test_an_app_re_added_while_its_old_workers_stop_is_the_one_controlled(self):
        """Removed, then added back before its old worker has exited: the
        control verbs must act on the new app, not on the one going away."""
        d = self.daemon()
        # It notes when it ignores SIGTERM: before that, a stop would end it.
        d.write_script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\ntouch \"$0.ready\"\n"
                                      "while :; do sleep 0.1; done\n")
        b = harness.app("b", d.path("stubborn.sh"), stop_timeout="8s")
        d.start(sleeper("a") + b)
        (old,) = d.wait_workers("b", 1)
        d.wait_for(lambda: os.path.exists(d.path("stubborn.sh.ready")), 10,
                   "the worker to ignore SIGTERM")
        d.write_config(sleeper("a"))
        self.assert_changes(d, reload_config(d), apps_removed=["b"])
        d.write_config(sleeper("a") + b)
        self.assert_changes(d, reload_config(d), apps_added=["b"])
        self.assertTrue(harness.pid_alive(old["pid"]), "the old worker left too early")

        reply = d.request({"verb": "scale", "app": "b", "count": 2})
        self.assertIs(reply.get("ok"), True, reply)

        def running_b():
            apps = [x for x in d.status()["apps"] if x["name"] == "b"]
            return (len(apps) == 1 and apps[0]["state"] == "running" and
                    len(apps[0]["workers"]) == 2 and old["pid"] not in pids(apps[0]["workers"]))
        d.wait_for(running_b, 15, "one app b, running, scaled to 2 workers")


# --- worker-facing changes: rolling reload ----------------------------------------

class WorkerFacingChanges(TestCase):
    def test_an_env_change_rolling_reloads_a_node_app_with_zero_failed_requests(self):
        d = self.daemon()
        d.start(socket_table("web") + hello(env={"GENERATION": "1"}))
        before = ns.wait_listening(d, "web", 2)
        port = ns.bound_port(d, "web")
        load = Load(self, port, threads=3, pause=0.005)  # light load
        load.wait_answered(20)

        d.write_config(socket_table("web") + hello(env={"GENERATION": "2"}))
        started = time.monotonic()
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["web"])
        self.wait_reload_done(d, "web")
        ended = time.monotonic()
        after = ns.wait_listening(d, "web", 2)
        load.wait_answered(load.answered() + 20)
        results = load.stop()

        self.assertEqual([w["instance"] for w in after], [0, 1])
        self.assertTrue(min(ids(after)) > max(ids(before)), (before, after))
        wait_gone(d, pids(before))
        for w in after:
            self.assertEqual(harness.proc_environ(w["pid"]).get("GENERATION"), "2", w)
        # Zero failed requests; some were in flight during the reload, and
        # both generations answered.
        failed = [(round(s, 3), r) for s, _, r in results if not ok(r)]
        self.assertEqual(failed, [], f"{len(failed)} of {len(results)} requests failed "
                                     f"(reload from {started:.3f} to {ended:.3f})")
        during = [r for s, e, r in results if e >= started and s <= ended]
        self.assertTrue(during, "no request overlapped the reload: the load proves nothing")
        served = {ns.worker_of(r[1]) for _, _, r in results}
        self.assertTrue(served & set(ids(before)), served)
        self.assertTrue(served & set(ids(after)), served)
        self.assertLessEqual(served, set(ids(before)) | set(ids(after)))
        # The old workers were retired, not crashed.
        exits = [e for e in d.events(event="exit", app="web") if e["id"] in ids(before)]
        self.assertTrue(exits and all(e["voluntary"] for e in exits), exits)
        self.assertEqual(d.app_status("web")["restarts"], 0)

    def test_an_args_change_rolling_reloads_a_plain_app(self):
        d = self.daemon()
        d.start(sleeper("a", "600", instances=2) + sleeper("b"))
        before = d.wait_workers("a", 2)
        b = d.wait_workers("b", 1)
        self.assertEqual(cmdline(before[0]["pid"])[1:], ["600"])

        d.write_config(sleeper("a", "601", instances=2) + sleeper("b"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_reloaded=["a"])
        self.wait_reload_done(d, "a")
        after = d.wait_workers("a", 2)
        self.assertEqual([w["instance"] for w in after], [0, 1])
        self.assertTrue(min(ids(after)) > max(ids(before)), (before, after))
        for w in after:
            self.assertEqual(cmdline(w["pid"])[1:], ["601"], w)
        wait_gone(d, pids(before))
        self.assertEqual(identities(d.workers("b")), identities(b))


    def test_a_change_made_during_a_rolling_reload_reaches_every_worker(self):
        d = self.daemon()
        d.start(socket_table("web") + hello(env={"GENERATION": "1"}))
        ns.wait_listening(d, "web", 2)
        d.write_config(socket_table("web") + hello(env={"GENERATION": "2"}))
        # reload-config answers once its rolling reload is over: the first
        # request is left waiting while the second one is made.
        with d.connect(timeout=20) as first:
            first.send(json.dumps({"verb": "reload-config"}) + "\n")
            d.wait_for(lambda: d.app_status("web")["state"] == "reloading", 5,
                       "the first rolling reload")
            d.write_config(socket_table("web") + hello(env={"GENERATION": "3"}))
            self.assert_changes(d, reload_config(d), apps_reloaded=["web"])
            self.assertIs(json.loads(first.read_line()).get("ok"), True)

        seen = []

        def all_third():
            app = d.app_status("web")
            seen[:] = [(w["id"], w["state"], harness.proc_environ(w["pid"]).get("GENERATION"))
                       for w in app["workers"]]
            return (app["state"] == "running" and
                    [(state, g) for _, state, g in seen] == [("listening", "3")] * 2)
        try:
            d.wait_for(all_third, 5, "both workers to run with GENERATION=3")
        except AssertionError as e:
            raise AssertionError(f"{e}\nworkers (id, state, GENERATION): {seen}") from None


# --- policy-only changes: applied in place ----------------------------------------

class PolicyChanges(TestCase):
    def test_restart_never_takes_effect_without_restarting_workers(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        first = d.wait_workers("a", 2)
        # Under the old policy (restart = "always") a crashed worker is replaced.
        os.kill(first[0]["pid"], signal.SIGKILL)
        d.wait_for(lambda: [w for w in d.workers("a") if w["instance"] == 0
                            and w["id"] != first[0]["id"]], 10, "slot 0 to be refilled")
        before = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2, restart="never", max_restarts=3))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_updated=["a"])
        self.assertEqual(identities(d.workers("a")), identities(before))
        self.assertEqual(d.events(event="reload", app="a"), [])

        # Now a crash leaves the slot empty.
        forks = len(fork_events(d, "a"))
        os.kill(before[0]["pid"], signal.SIGKILL)
        ns.wait_event(d, event="exit", app="a", id=before[0]["id"])
        d.wait_log("slot 0 stays empty (restart = never)")
        d.holds(lambda: identities(d.workers("a")) == identities(before[1:]), 1.0,
                "slot 0 to stay empty")
        self.assertEqual(len(fork_events(d, "a")), forks)
        self.assertEqual(d.app_status("a")["instances"], 2)

    def test_a_new_restart_delay_applies_to_the_next_crash(self):
        d = self.daemon()
        d.start(sleeper("a", instances=2))
        before = d.wait_workers("a", 2)

        d.write_config(sleeper("a", instances=2, restart_delay="1500ms",
                               max_restarts=5, restart_window="30s"))
        reply = reload_config(d)
        self.assert_changes(d, reply, apps_updated=["a"])
        self.assertEqual(identities(d.workers("a")), identities(before))

        os.kill(before[1]["pid"], signal.SIGKILL)
        restart = ns.wait_event(d, event="restart", app="a", instance=1)
        self.assertEqual(restart["backoff_ms"], 1500, restart)
        d.wait_workers("a", 2)
        self.assertEqual(identities(d.workers("a"))[0], identities(before)[0])

    def test_an_instances_change_scales_and_a_runtime_scale_stands_otherwise(self):
        d = self.daemon()
        d.start(sleeper("a", instances=1) + sleeper("b"))
        (first,) = d.wait_workers("a", 1)
        b = d.wait_workers("b", 1)

        # Up: the existing worker stays, two new slots are filled.
        d.write_config(sleeper("a", instances=3) + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        three = d.wait_workers("a", 3)
        self.assertEqual(identities(three)[0], identities([first])[0])
        self.assertEqual([w["instance"] for w in three], [0, 1, 2])
        self.assertEqual(d.events(event="reload", app="a"), [])

        # A runtime scale stands across a reload that leaves instances alone...
        rc, out, err = d.ctl("scale", "a", "2")
        self.assertEqual(rc, 0, err)
        two = d.wait_workers("a", 2)
        d.write_config(sleeper("a", instances=3, restart_delay="70ms") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        d.holds(lambda: identities(d.workers("a")) == identities(two), 0.5,
                "the runtime scale (2) to stand")
        self.assertEqual(d.app_status("a")["instances"], 2)

        # ... but not across one that changes it: down to the file's 1.
        d.write_config(sleeper("a", instances=1, restart_delay="70ms") + sleeper("b"))
        self.assert_changes(d, reload_config(d), apps_updated=["a"])
        (one,) = d.wait_workers("a", 1)
        self.assertEqual(identities([one]), identities(two[:1]))
        wait_gone(d, [two[1]["pid"]])
        self.assertEqual(d.app_status("a")["instances"], 1)
        self.assertEqual(identities(d.workers("b")), identities(b))


# --- sockets ---------------------------------------------------------------------

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
