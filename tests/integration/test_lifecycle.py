"""Worker lifecycle: spawning, identity, environment, fds, replacement, and
what happens to workers when the daemon goes away."""

import json
import os
import signal
import time
import unittest

import harness
from harness import app, open_fds, pid_alive, proc_environ

# Ignores SIGTERM; ./ready.ID appears once it does.
STUBBORN = f"""#!{harness.PYTHON}
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open("ready." + os.environ["MUSTER_WORKER_ID"], "w").close()
time.sleep(1000)
"""


class WorkerIdentity(harness.TestCase):
    def test_every_instance_gets_a_worker_with_a_distinct_increasing_id(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=3))
        workers = d.wait_workers("web", 3)
        self.assertEqual([w["instance"] for w in workers], [0, 1, 2])
        self.assertEqual(sorted(w["id"] for w in workers), [1, 2, 3])
        self.assertEqual(len({w["pid"] for w in workers}), 3)
        self.assertEqual(d.app_status("web")["instances"], 3)

    def test_instances_0_means_one_worker_per_cpu_in_the_affinity_mask(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=0))
        cpus = len(os.sched_getaffinity(0))  # musterd inherits the test's mask
        d.wait_workers("web", cpus)
        self.assertEqual(d.app_status("web")["instances"], cpus)

    def test_a_worker_knows_its_app_id_and_instance_from_its_environment(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        for w in d.wait_workers("web", 2):
            env = proc_environ(w["pid"])
            self.assertEqual(env["MUSTER_APP"], "web")
            self.assertEqual(env["MUSTER_WORKER_ID"], str(w["id"]))
            self.assertEqual(env["MUSTER_INSTANCE"], str(w["instance"]))

    def test_workers_get_a_clean_environment_of_path_app_env_and_muster_variables(self):
        # Expectation (worker.cc): nothing of the daemon's environment leaks into
        # workers except PATH; they see the app's `env` and the MUSTER_* trio.
        d = self.daemon()
        d.start(app("web", "sleep", args=["1000"], env={"GREETING": "hello world"}),
                env={"LEAKY_SECRET": "should-not-reach-workers"})
        (w,) = d.wait_workers("web", 1)
        env = proc_environ(w["pid"])
        # Plus the login variables of the worker's user, as systemd sets them
        # for User= (test_env_inherit.LoginVariables checks their values).
        login = {"HOME", "USER", "LOGNAME", "SHELL"} & set(env)
        self.assertTrue({"USER", "LOGNAME"} <= login, env)
        self.assertEqual(set(env), {"PATH", "GREETING", "MUSTER_APP", "MUSTER_WORKER_ID",
                                    "MUSTER_INSTANCE"} | login)
        self.assertEqual(env["GREETING"], "hello world")
        self.assertEqual(env["PATH"], os.environ["PATH"])

    def test_app_env_can_override_path(self):
        d = self.daemon()
        d.start(app("web", "/bin/sleep", args=["1000"], env={"PATH": "/custom/bin:/bin"}))
        (w,) = d.wait_workers("web", 1)
        self.assertEqual(proc_environ(w["pid"])["PATH"], "/custom/bin:/bin")


class Replacement(harness.TestCase):
    def test_a_killed_worker_is_replaced_in_its_slot_with_a_fresh_higher_id(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        before = d.wait_workers("web", 2)
        victim = before[1]
        os.kill(victim["pid"], signal.SIGKILL)

        def replaced():
            ws = d.workers("web")
            slot1 = [w for w in ws if w["instance"] == 1 and w["state"] == "online"]
            return ws if len(ws) == 2 and slot1 and slot1[0]["pid"] != victim["pid"] else None
        after = d.wait_for(replaced, 10, "slot 1 to be refilled")
        self.assertEqual(after[0], {**before[0], "uptime_ms": after[0]["uptime_ms"],
                                    "rss_bytes": after[0]["rss_bytes"]},
                         "slot 0 must be untouched")
        new = after[1]
        self.assertGreater(new["id"], max(w["id"] for w in before))
        self.assertEqual(new["instance"], 1)
        self.assertEqual(new["restarts"], 1)
        self.assertEqual(proc_environ(new["pid"])["MUSTER_INSTANCE"], "1")
        self.assertEqual(proc_environ(new["pid"])["MUSTER_WORKER_ID"], str(new["id"]))
        self.assertEqual(d.app_status("web")["restarts"], 1)

    def test_worker_ids_are_never_reused(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        seen = set()
        for _ in range(3):
            (w,) = d.wait_workers("web", 1)
            self.assertNotIn(w["id"], seen)
            seen.add(w["id"])
            os.kill(w["pid"], signal.SIGKILL)
            d.wait_for(lambda: [x for x in d.workers("web") if x["id"] != w["id"]], 10,
                       "a replacement worker")
        self.assertEqual(sorted(seen), [1, 2, 3])


class FileDescriptors(harness.TestCase):
    # A worker is looked at only once it is past its own startup (the dynamic
    # loader briefly holds libc open as fd 3), so every extra fd is inherited.
    # The ready file appears by rename, after the fd that made it is closed.
    SETTLED = f"""#!{harness.PYTHON}
import os, time
ready = "ready." + os.environ["MUSTER_WORKER_ID"]
open(ready + ".tmp", "w").close()
os.rename(ready + ".tmp", ready)
time.sleep(1000)
"""

    def start_settled(self, count=1, **keys):
        d = self.daemon()
        d.write_script("settled.py", self.SETTLED)
        d.start(app("web", "./settled.py", cwd=".", instances=count, **keys))
        return d, self.wait_settled(d, count)

    def wait_settled(self, d, count):
        workers = d.wait_workers("web", count)
        for w in workers:
            d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10,
                       f"worker {w['id']} to be running")
        return workers

    def assert_only_stdio(self, pid):
        fds = open_fds(pid)
        self.assertEqual(sorted(fds), [0, 1, 2], f"worker fds: {fds}")
        self.assertEqual(fds[0], "/dev/null")
        return fds

    def test_a_worker_has_only_stdin_stdout_and_stderr_open(self):
        d, (w,) = self.start_settled(output="log")
        fds = self.assert_only_stdio(w["pid"])
        self.assertTrue(fds[1].startswith("pipe:"), fds)
        self.assertEqual(fds[1], fds[2], "stdout and stderr share the log pipe")

    def test_a_worker_spawned_while_control_clients_are_connected_inherits_none_of_them(self):
        d, _ = self.start_settled(1)
        idle = d.connect()  # an open control connection the daemon holds an fd for
        self.addCleanup(idle.close)
        self.assertEqual(d.ctl("scale", "web", "2")[0], 0)
        for w in self.wait_settled(d, 2):
            self.assert_only_stdio(w["pid"])

    def test_null_output_points_stdout_and_stderr_at_dev_null(self):
        d, (w,) = self.start_settled(output="null")
        fds = self.assert_only_stdio(w["pid"])
        self.assertEqual((fds[1], fds[2]), ("/dev/null", "/dev/null"))


class Stopping(harness.TestCase):
    PARENT = """#!/bin/sh
sleep 1000 &
echo $! > "child.$MUSTER_WORKER_ID"
wait
"""

    def start_parent(self, **keys):
        """A worker (sh) with a child (sleep) in its process group: (daemon,
        worker, child pid)."""
        d = self.daemon()
        d.write_script("parent.sh", self.PARENT)
        d.start(app("web", "./parent.sh", cwd=".", **keys))
        (w,) = d.wait_workers("web", 1)
        child = int(d.wait_for(lambda: d.read_file(f"child.{w['id']}").strip(), 10,
                               "the worker's child pid"))
        self.assertTrue(pid_alive(child))
        return d, w, child

    def test_stopping_a_worker_also_ends_the_children_in_its_process_group(self):
        d, w, child = self.start_parent()
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        d.wait_for(lambda: not pid_alive(child), 5, "the worker's child to be gone")

    def test_a_worker_that_dies_takes_the_children_left_in_its_process_group(self):
        d, w, child = self.start_parent(restart="never")
        os.kill(w["pid"], signal.SIGKILL)  # the worker only, not its group
        d.wait_for(lambda: d.events(event="exit", id=w["id"]), 10, "the worker's exit")
        d.wait_for(lambda: not pid_alive(child), 5, "the orphaned child to be gone")


class DaemonGoesAway(harness.TestCase):
    def test_workers_die_when_the_daemon_is_killed(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=2))
        pids = [w["pid"] for w in d.wait_workers("web", 2)]
        d.signal(signal.SIGKILL)
        d.wait_exit()
        d.wait_for(lambda: not any(pid_alive(p) for p in pids), 10,
                   "workers to die with the daemon (parent-death signal)")

    def test_sigterm_stops_every_worker_exits_zero_and_removes_the_socket(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], instances=3))
        pids = [w["pid"] for w in d.wait_workers("web", 3)]
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(), 0)
        self.assertEqual([p for p in pids if pid_alive(p)], [])
        self.assertFalse(os.path.exists(d.socket_path))

    def test_sigint_shuts_down_like_sigterm(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        (w,) = d.wait_workers("web", 1)
        d.signal(signal.SIGINT)
        self.assertEqual(d.wait_exit(), 0)
        self.assertFalse(pid_alive(w["pid"]))
        self.assertFalse(os.path.exists(d.socket_path))

    def test_shutdown_verb_shuts_down_like_sigterm(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        (w,) = d.wait_workers("web", 1)
        self.assertEqual(d.ctl("shutdown")[0], 0)
        self.assertEqual(d.wait_exit(), 0)
        self.assertFalse(pid_alive(w["pid"]))
        self.assertFalse(os.path.exists(d.socket_path))

    def test_sighup_does_not_stop_the_daemon_or_its_workers(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"]))
        (w,) = d.wait_workers("web", 1)
        d.signal(signal.SIGHUP)
        d.holds(lambda: d.proc.poll() is None and d.workers("web")[0]["pid"] == w["pid"], 0.3,
                "the daemon and its worker to carry on")

    def test_shutdown_is_bounded_by_shutdown_timeout(self):
        d = self.daemon()
        d.write_script("stubborn.py", STUBBORN)
        d.start(app("web", "./stubborn.py", cwd=".", stop_timeout="20s"),
                shutdown_timeout="500ms")
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10, "the worker ready")
        began = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(timeout=5), 0)
        self.assertLess(time.monotonic() - began, 3)
        self.assertFalse(pid_alive(w["pid"]))

    def test_status_is_still_answered_during_a_graceful_shutdown_but_start_is_refused(self):
        d = self.daemon()
        d.write_script("stubborn.py", STUBBORN)
        d.start(app("web", "./stubborn.py", cwd=".", stop_timeout="1s"))
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10, "the worker ready")
        d.signal(signal.SIGTERM)
        d.wait_for(lambda: d.workers("web")[0]["state"] == "disconnecting", 5,
                   "the worker to be stopping")
        reply = d.request({"verb": "start", "app": "web"})
        self.assertFalse(reply["ok"])
        self.assertIn("shutting down", reply["error"])
        self.assertEqual(d.wait_exit(), 0)

    def test_shutdown_kills_a_worker_that_ignores_sigterm_after_its_stop_timeout(self):
        d = self.daemon()
        d.write_script("stubborn.py", STUBBORN)
        d.start(app("web", d.path("stubborn.py"), cwd=".", stop_timeout="300ms"))
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: os.path.exists(d.path(f"ready.{w['id']}")), 10, "the worker ready")
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait_exit(), 0)
        self.assertFalse(pid_alive(w["pid"]))


class HowWorkersAreStarted(harness.TestCase):
    def test_cwd_is_relative_to_the_config_files_directory(self):
        d = self.daemon()
        os.mkdir(d.path("work"))
        # musterd itself runs in / so a cwd relative to musterd's would be wrong.
        d.start(app("web", "sleep", args=["1000"], cwd="work"), cwd="/")
        (w,) = d.wait_workers("web", 1)
        self.assertEqual(os.readlink(f"/proc/{w['pid']}/cwd"), os.path.realpath(d.path("work")))

    def test_exec_without_a_slash_is_found_along_path(self):
        d = self.daemon()
        d.write_script("bin/myworker", '#!/bin/sh\necho "$0" > ran-as\nexec sleep 1000\n')
        d.start(app("web", "myworker", cwd="."),
                env={"PATH": d.path("bin") + ":" + os.environ["PATH"]})
        d.wait_workers("web", 1)
        d.wait_for(lambda: d.read_file("ran-as").strip() == d.path("bin", "myworker"), 10,
                   "the worker to run from the PATH directory")

    def test_an_exec_that_cannot_be_found_is_logged_and_retried_until_the_app_fails(self):
        # The config check refuses a missing exec at start-up (test_check), so
        # the program goes away while musterd runs.
        d = self.daemon()
        d.write_script("vanishing", "#!/bin/sh\nexec sleep 1000\n")
        d.start(app("web", "./vanishing", cwd=".", max_restarts=2, restart_delay="20ms",
                    restart_delay_max="20ms"))
        (w,) = d.wait_workers("web", 1)
        os.remove(d.path("vanishing"))
        os.kill(w["pid"], signal.SIGKILL)
        d.wait_for(lambda: d.app_status("web")["state"] == "failed", 10, "the app to fail")
        self.assertIn("cannot run './vanishing'", d.log_text())
        self.assertTrue(d.request({"verb": "ping"})["ok"])

    @unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root")
    def test_user_and_group_drop_the_workers_privileges(self):
        d = self.daemon().start(app("web", "sleep", args=["1000"], user="nobody",
                                    group="nogroup"))
        (w,) = d.wait_workers("web", 1)
        with open(f"/proc/{w['pid']}/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        self.assertEqual(fields["Uid"].split(), ["65534"] * 4)
        self.assertEqual(fields["Gid"].split(), ["65534"] * 4)
        self.assertEqual(fields["Groups"].split(), ["65534"])

    def test_args_are_passed_without_a_shell(self):
        d = self.daemon()
        d.write_script("echo-args.py", f"""#!{harness.PYTHON}
import json, sys, time
open("args.json", "w").write(json.dumps(sys.argv[1:]))
time.sleep(1000)
""")
        args = ["two words", "$HOME", "*", "a;b"]
        d.start(app("web", "./echo-args.py", args=args, cwd="."))
        d.wait_workers("web", 1)
        got = d.wait_for(lambda: d.read_file("args.json"), 10, "the worker's args")
        self.assertEqual(json.loads(got), args)


if __name__ == "__main__":
    unittest.main()
