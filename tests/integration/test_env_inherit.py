"""env_inherit: which of musterd's environment variables reach its workers
(README, "Worker environment"; docs/SECURITY.md). Read from /proc/PID/environ
of the real workers. Without env_inherit: test_security.WorkerInheritance."""

import os
import pwd
import unittest

import harness
import node_support as ns
from harness import app

DAEMON_ENV = {
    "NODE_ENV": "production", "TZ": "Europe/Paris", "SECRET_TOKEN": "s3cret",
    # musterd's own, as if a parent had set them: never a worker's.
    "MUSTER_APP": "spoofed", "NODE_UNIQUE_ID": "999", "LISTEN_FDS": "7",
    "NOTIFY_SOCKET": "/run/not-yours",
}

LOGIN = ("HOME", "USER", "LOGNAME", "SHELL")


def sleeper(name, **keys):
    return app(name, "sleep", args=["1000"], **keys)


class EnvInherit(harness.TestCase):
    def environ_of(self, d, name):
        (w,) = d.wait_workers(name, 1)
        return harness.proc_environ(w["pid"])

    def test_named_variables_are_inherited_and_env_wins_over_them(self):
        d = self.daemon().start(
            sleeper("web", env_inherit=["NODE_ENV", "TZ", "NOT_IN_MUSTERD"], env={"TZ": "UTC"}),
            env=DAEMON_ENV)
        env = self.environ_of(d, "web")
        self.assertEqual(env["NODE_ENV"], "production")
        self.assertEqual(env["TZ"], "UTC")
        self.assertNotIn("NOT_IN_MUSTERD", env)
        self.assertNotIn("SECRET_TOKEN", env)

    def test_star_inherits_everything_but_what_musterd_sets_itself(self):
        d = self.daemon().start(sleeper("web", env_inherit=["*"]) +
                                ns.node_app("node", "hello.js", env_inherit=["*"]),
                                env=DAEMON_ENV)
        env = self.environ_of(d, "web")
        self.assertEqual(env["SECRET_TOKEN"], "s3cret")
        self.assertEqual(env["NODE_ENV"], "production")
        self.assertEqual(env["MUSTER_APP"], "web")
        for name in ("NODE_UNIQUE_ID", "LISTEN_FDS", "NOTIFY_SOCKET"):
            self.assertNotIn(name, env)
        (w,) = ns.wait_listening(d, "node", 1)
        node_env = harness.proc_environ(w["pid"])
        self.assertEqual(node_env["NODE_UNIQUE_ID"], str(w["id"]))
        self.assertEqual(node_env["SECRET_TOKEN"], "s3cret")

    def test_a_config_reload_that_changes_env_inherit_replaces_the_workers(self):
        d = self.daemon().start(sleeper("web"), env=DAEMON_ENV)
        self.assertNotIn("NODE_ENV", self.environ_of(d, "web"))
        d.write_config(sleeper("web", env_inherit=["NODE_ENV"]))
        reply = d.request({"verb": "reload-config"}, timeout=20)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["apps_reloaded"], ["web"])
        self.assertEqual(self.environ_of(d, "web")["NODE_ENV"], "production")


class LoginVariables(harness.TestCase):
    """HOME, USER, LOGNAME and SHELL of the user a worker runs as, as systemd
    sets them for User= (README, "Worker environment"), whatever musterd's
    own environment says; the app's env and env_inherit still win."""

    def environ_of(self, d, name):
        (w,) = d.wait_workers(name, 1)
        return harness.proc_environ(w["pid"])

    def test_a_worker_gets_the_login_variables_of_the_user_it_runs_as(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run a worker as nobody")
        root = pwd.getpwuid(0)
        nobody = pwd.getpwnam("nobody")
        d = self.daemon().start(sleeper("mine") + sleeper("theirs", user="nobody"),
                                env={"HOME": "/not/musterds", "USER": "someone-else"})
        mine = self.environ_of(d, "mine")
        self.assertEqual({k: mine.get(k) for k in LOGIN},
                         {"HOME": root.pw_dir, "USER": "root", "LOGNAME": "root",
                          "SHELL": root.pw_shell})
        theirs = self.environ_of(d, "theirs")
        # nologin is no shell to set, as for systemd; its home is.
        self.assertEqual({k: theirs.get(k) for k in LOGIN},
                         {"HOME": nobody.pw_dir, "USER": "nobody", "LOGNAME": "nobody",
                          "SHELL": None})

    def test_the_apps_env_and_env_inherit_win_over_the_login_variables(self):
        d = self.daemon().start(sleeper("web", env={"HOME": "/srv/web"}, env_inherit=["USER"]),
                                env={"USER": "from-musterd"})
        env = self.environ_of(d, "web")
        self.assertEqual(env["HOME"], "/srv/web")
        self.assertEqual(env["USER"], "from-musterd")
        self.assertEqual(env["LOGNAME"], pwd.getpwuid(os.geteuid()).pw_name)


if __name__ == "__main__":
    unittest.main()
