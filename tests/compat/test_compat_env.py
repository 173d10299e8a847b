"""A worker's environment under a real Node primary and under musterd
(docs/compatibility.md, "worker environment"): Node's workers inherit the
primary's whole environment; musterd's get a clean one unless the app's
env_inherit names variables (or "*"), which then match Node's. HOME, USER,
LOGNAME and SHELL are the worker's user's under both: a Node primary started
from a login passes its own on; musterd sets them from the user's passwd
entry as systemd does for User=, whatever its own environment holds."""

import os
import pwd
import unittest

import compat_support as cs
from compat_support import ns

LOGIN = ("HOME", "USER", "LOGNAME", "SHELL")


def login_environment():
    """What a login as this uid sets (and a primary started from it passes on)."""
    entry = pwd.getpwuid(os.geteuid())
    env = {"HOME": entry.pw_dir, "USER": entry.pw_name, "LOGNAME": entry.pw_name}
    if not entry.pw_shell.endswith(("/nologin", "/false", "/true")):
        env["SHELL"] = entry.pw_shell
    return env


# Started from a login, as an operator starts a Node primary.
PRIMARY_ENV = {"NODE_ENV": "production", "LANG": "C.UTF-8", "TZ": "Europe/Paris",
               "NODE_OPTIONS": "--max-old-space-size=256", "SECRET_TOKEN": "s3cret",
               **login_environment()}
NAMED = ["NODE_ENV", "LANG", "TZ", "NODE_OPTIONS"]


def own(env):
    """`env` without what each primary sets for its workers itself."""
    return {k: v for k, v in env.items()
            if not k.startswith(("MUSTER_", "NODE_CHANNEL_")) and k != "NODE_UNIQUE_ID"}


class WorkerEnvironment(cs.TestCase):
    def under_node(self):
        p = self.node_primary(ns.script("env.js"), instances=1, env=PRIMARY_ENV)
        return p.wait_events("message", 1)[0]["message"]["env"]

    def under_musterd(self, env_inherit):
        """The environments of a worker with that env_inherit and of one without."""
        d = self.daemon()
        d.start(ns.node_app("named", "env.js", env_inherit=env_inherit) +
                ns.node_app("plain", "env.js"), env=PRIMARY_ENV)
        return [ns.wait_messages(d, "env", 1, app=name)[0]["env"] for name in ("named", "plain")]

    def test_named_variables_reach_the_worker_as_under_node_and_none_by_default(self):
        node = self.under_node()
        named, plain = self.under_musterd(NAMED)
        self.assertEqual({k: named.get(k) for k in NAMED}, {k: node.get(k) for k in NAMED})
        self.assertEqual(node["SECRET_TOKEN"], "s3cret")
        self.assertNotIn("SECRET_TOKEN", named, "only the names listed")
        self.assertEqual(set(own(plain)), {"PATH", *login_environment()},
                         "a clean environment without env_inherit")

    def test_the_login_variables_are_the_workers_user_as_under_a_node_primary(self):
        p = self.node_primary(ns.script("env.js"), instances=1, env=login_environment())
        node = p.wait_events("message", 1)[0]["message"]["env"]
        d = self.daemon()
        # musterd under a service manager: none of them in its own environment.
        clean = {k: None for k in LOGIN}
        d.start(ns.node_app("web", "env.js"), env=clean)
        worker = ns.wait_messages(d, "env", 1, app="web")[0]["env"]
        self.assertEqual({k: worker.get(k) for k in LOGIN}, {k: node.get(k) for k in LOGIN})

    def test_star_gives_the_environment_a_node_primary_gives(self):
        node = self.under_node()
        self.assertEqual(own(self.under_musterd(["*"])[0]), own(node))

if __name__ == "__main__":
    unittest.main()
