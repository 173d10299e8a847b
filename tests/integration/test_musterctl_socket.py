"""When musterd cannot be reached, musterctl names the socket it tried and
where that path came from: -s, $MUSTER_SOCKET, the config's control_socket,
or musterd's default (issue #12)."""

import os
import subprocess
import unittest

import ctlsock_support
import harness
from harness import MUSTERCTL


def ctl_without_s(env, *args):
    """musterctl run with exactly `env` (no -s): (exit code, stderr)."""
    r = subprocess.run([MUSTERCTL, *args], capture_output=True, text=True, env=env,
                       timeout=10, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


class UnreachableDaemon(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = self.daemon()  # never started: only its temp dir is used
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MUSTER_SOCKET", "MUSTER_CONFIG", "RUNTIME_DIRECTORY",
                                 "XDG_RUNTIME_DIR")}

    def assert_unreachable(self, rc, err, path, origin):
        self.assertEqual(rc, 3, err)
        self.assertIn(f"cannot reach musterd at {path}: ", err)
        self.assertIn("that path is ", err)
        self.assertIn(origin, err)

    def test_a_path_given_with_s_is_named_as_such(self):
        path = self.d.path("nobody-home.sock")
        rc, out, err = self.d.ctl("ping", socket_path=path)
        self.assert_unreachable(rc, err, path, "given with -s")

    def test_a_path_from_muster_socket_says_so(self):
        path = self.d.path("from-env.sock")
        rc, err = ctl_without_s(dict(self.env, MUSTER_SOCKET=path), "status")
        self.assert_unreachable(rc, err, path, "from $MUSTER_SOCKET")

    def test_a_path_from_the_config_names_the_config_file(self):
        path = self.d.path("from-config.sock")
        config = self.d.write_config(control_socket=path)
        rc, err = ctl_without_s(dict(self.env, MUSTER_CONFIG=config), "ping")
        self.assert_unreachable(rc, err, path,
                                f"the control_socket of $MUSTER_CONFIG={config}")

    def test_musterds_default_says_why_no_config_was_used(self):
        missing = self.d.path("missing.toml")
        env = dict(self.env, MUSTER_CONFIG=missing, RUNTIME_DIRECTORY=self.d.dir)
        rc, err = ctl_without_s(env, "ping")
        self.assert_unreachable(rc, err, self.d.path("muster.sock"),
                                "musterd's default, $RUNTIME_DIRECTORY/muster.sock; "
                                f"there is no $MUSTER_CONFIG={missing}")
        broken = self.d.write_file("broken.toml", "[daemon]\nnonsense = 1\n")
        rc, err = ctl_without_s(dict(env, MUSTER_CONFIG=broken), "ping")
        self.assert_unreachable(rc, err, self.d.path("muster.sock"),
                                f"; $MUSTER_CONFIG={broken} has errors")
        silent = self.d.write_file("silent.toml", "[daemon]\nlog_level = \"info\"\n")
        rc, err = ctl_without_s(dict(env, MUSTER_CONFIG=silent), "ping")
        self.assert_unreachable(rc, err, self.d.path("muster.sock"),
                                f"; $MUSTER_CONFIG={silent} does not set control_socket")

    @ctlsock_support.needs_namespace
    def test_the_default_for_root_and_for_a_user_is_explained(self):
        d = self.daemon()
        d.write_file("muster.toml", "[daemon]\n")
        r = ctlsock_support.run_in_namespace(d, """
$MUSTERCTL ping
$AS_NOBODY $MUSTERCTL ping
XDG_RUNTIME_DIR=/run/t $AS_NOBODY $MUSTERCTL ping
""")
        out = r.stdout
        self.assertIn("cannot reach musterd at /run/muster/muster.sock", out)
        self.assertIn("that path is musterd's default, root's own /run/muster; "
                      "$MUSTER_CONFIG=/run/t/muster.toml does not set control_socket", out)
        self.assertIn("cannot reach musterd at /tmp/muster-65534/muster.sock", out)
        self.assertIn("musterd's default, your own /tmp/muster-65534, as $XDG_RUNTIME_DIR "
                      "is not set;", out)
        # /run/t is root's: not a directory nobody's musterd could have made.
        self.assertIn("musterctl: refusing /run/t/muster.sock: /run/t belongs to uid 0 (root), "
                      "not to uid 65534 (nobody)", out)

    def test_a_follow_names_the_socket_too(self):
        path = self.d.path("nobody-home.sock")
        rc, out, err = self.d.ctl("events", "--follow", socket_path=path)
        self.assert_unreachable(rc, err, path, "given with -s")


if __name__ == "__main__":
    unittest.main()
