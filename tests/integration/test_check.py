"""Configs that can never run are refused before anything runs (issue #12
section 3): an unknown user or group, an exec that is not found (along the PATH
the worker would get) or not executable, a cwd that is no directory, an output
file musterd cannot create, NUL bytes in args or env, unix socket paths longer
than sun_path, instances, output_keep or max_on_demand_sockets above their
bounds, on-demand keys for an app that is not a node app, an app named `all`.

Each bad file is refused the same way by `musterctl check` and `musterd
--check` (exit 2), by musterd's start-up (exit 2, nothing bound) and by
`reload-config` (refused, the running config unchanged), always with
FILE:LINE:COLUMN: key: and with control characters escaped, never raw."""

import json
import os
import re
import socket
import subprocess
import unittest

import harness
from harness import MUSTERD, app
from node_support import free_port

GOOD_APP = app("web", "sleep", args=["600"])
LONG_PATH = "/tmp/" + "x" * 120  # sun_path holds 107 bytes and a NUL


def web(**keys):
    return app("web", "sleep", **{"args": ["600"], **keys})


class Case:
    """A bad config: the apps and sockets text, daemon keys, and the error
    expected (its key, a part of its message, and where its value starts:
    the first `needle` in the file)."""

    def __init__(self, name, text, key, message, needle, **daemon_keys):
        self.name, self.text, self.key, self.message = name, text, key, message
        self.needle, self.daemon_keys = needle, daemon_keys


def cases(d):
    d.write_file("not-executable.sh", "#!/bin/sh\n", mode=0o644)
    return [
        Case("unknown user", web(user="muster-no-such-user"), "apps.web.user",
             'no user named "muster-no-such-user" on this host', '"muster-no-such-user"'),
        Case("unknown group", web(group="muster-no-such-group"), "apps.web.group",
             'no group named "muster-no-such-group" on this host', '"muster-no-such-group"'),
        Case("exec not on PATH", app("web", "muster-no-such-program"), "apps.web.exec",
             "cannot run 'muster-no-such-program': not found in PATH",
             '"muster-no-such-program"'),
        # The worker's PATH is the app's env PATH when set: sleep is not there.
        Case("exec not on the app's PATH", web(env={"PATH": d.path("bin")}), "apps.web.exec",
             f"not found in PATH ({d.path('bin')})", '"sleep"'),
        Case("exec not executable", app("web", "./not-executable.sh"), "apps.web.exec",
             "not an executable file", '"./not-executable.sh"'),
        Case("cwd missing", web(cwd="no-such-dir"), "apps.web.cwd",
             f'cannot use "{d.path("no-such-dir")}" as the working directory',
             '"no-such-dir"'),
        Case("output directory missing", web(output="file", output_file="no-such-dir/web.log"),
             "apps.web.output_file", f'musterd cannot create files in "{d.path("no-such-dir")}"',
             '"no-such-dir/web.log"'),
        Case("NUL in args", web(args=["a\0b"]), "apps.web.args[0]",
             r'expected a string without NUL bytes, got "a\u0000b"', '"a\\u0000b"'),
        Case("NUL in an env value", web(env={"A": "x\0"}), "apps.web.env.A",
             r'expected a string without NUL bytes, got "x\u0000"', '"x\\u0000"'),
        Case("NUL in an env name", GOOD_APP + 'env = { "A\\u0000B" = "x" }\n', "apps.web.env",
             'without \'=\' or NUL bytes, got "A\\u0000B"', '"A\\u0000B"'),
        Case("instances above 4096", web(instances=4097), "apps.web.instances",
             "to 4096, got 4097", "4097"),
        Case("output_keep above 1000", web(output_keep=1001), "apps.web.output_keep",
             "to 1000, got 1001", "1001"),
        Case("max_on_demand_sockets above 1024",
             app("web", "sleep", protocol="node", max_on_demand_sockets=5000),
             "apps.web.max_on_demand_sockets", "from 1 to 1024", "5000"),
        Case("on_demand for an app that is not a node app", web(on_demand=False),
             "apps.web.on_demand", 'only used with protocol "node"', "false"),
        Case("an app named all", app("all", "sleep", args=["600"]), "apps.all",
             'the app name "all" is reserved', "all]"),
        Case("a control character in an app name",
             '[apps."a\\u0001b"]\nexec = "sleep"\n', r"apps.a\u0001b",
             r'got "a\u0001b"', '"a\\u0001b"'),
        Case("a long unix listen path",
             GOOD_APP + harness.toml_table("sockets.long", {"listen": "unix:" + LONG_PATH}),
             "sockets.long.listen", "at most 107 bytes", '"unix:'),
        Case("a long control socket path", GOOD_APP, "daemon.control_socket",
             "at most 107 bytes", f'"{LONG_PATH}"', control_socket=LONG_PATH),
        # O_NONBLOCK is the socket's, shared: node workers need it set, the
        # systemd app's workers get it cleared (issue #13 item 10).
        Case("a blocking systemd socket also used by a node app",
             harness.toml_table("sockets.web", {"listen": "127.0.0.1:0"}) +
             app("api", "sleep", protocol="node", sockets=["web"]) +
             app("sd", "sleep", protocol="systemd", sockets=["web"]),
             "apps.api.sockets[0]",
             "sockets.web is also used by apps.sd (protocol \"systemd\"), whose workers get it "
             "blocking", '"web"'),
    ]


def position(text, needle):
    """(line, column), 1-based, of the first `needle` in `text`."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def raw_controls(text):
    """The control characters in `text` besides line ends."""
    return re.findall(r"[\x00-\x09\x0b-\x1f\x7f]", text)


class CheckTestCase(harness.TestCase):
    def write_case(self, d, case, **daemon_keys):
        path = d.write_config(case.text, **{**daemon_keys, **case.daemon_keys})
        line, column = position(d.read_file("muster.toml"), case.needle)
        return path, f"{path}:{line}:{column}: {case.key}: "

    def assert_reported(self, case, where, output):
        """`output` has the case's error, at its place, and no raw control
        character."""
        self.assertIn(where, output, case.name)
        line = next(l for l in output.splitlines() if where in l)
        self.assertIn(case.message, line, case.name)
        self.assertEqual(raw_controls(output), [], (case.name, output))


class OfflineCheck(CheckTestCase):
    def test_musterctl_check_refuses_each_config_that_cannot_run(self):
        d = self.daemon()
        for case in cases(d):
            with self.subTest(case.name):
                path, where = self.write_case(d, case)
                rc, out, err = d.ctl("check", path)
                self.assertEqual(rc, 2, (case.name, out, err))
                self.assert_reported(case, where, err)

    def test_musterd_check_refuses_each_config_that_cannot_run(self):
        d = self.daemon()
        for case in cases(d):
            with self.subTest(case.name):
                path, where = self.write_case(d, case)
                r = subprocess.run([MUSTERD, "--check", "-c", path], capture_output=True,
                                   text=True, timeout=10, stdin=subprocess.DEVNULL)
                self.assertEqual(r.returncode, 2, (case.name, r.stdout, r.stderr))
                self.assert_reported(case, where, r.stderr)

    def test_an_exec_found_only_along_the_apps_own_path_is_accepted(self):
        d = self.daemon()
        d.write_script("bin/mytool", "#!/bin/sh\nexec sleep 600\n")
        path = d.write_config(app("web", "mytool", env={"PATH": d.path("bin")}))
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 0, err)


class NodeEnvWarning(CheckTestCase):
    """A node app without NODE_ENV passes check with a warning (Express and
    others run in development mode and show stack traces to clients)."""

    def test_a_node_app_without_node_env_is_warned_about_not_refused(self):
        d = self.daemon()
        path = d.write_config(app("bare", "sleep", args=["600"], protocol="node") +
                              app("prod", "sleep", args=["600"], protocol="node",
                                  env={"NODE_ENV": "production"}) +
                              app("plain", "sleep", args=["600"]))
        rc, out, err = d.ctl("check", path)
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{path}: warning: apps.bare: a node app without NODE_ENV", err)
        self.assertNotIn("apps.prod", err)
        self.assertNotIn("apps.plain", err)
        rc, out, err = d.ctl("check", "--json", path)
        self.assertEqual(rc, 0, err)
        (warning,) = json.loads(out)["warnings"]
        self.assertIn("apps.bare: a node app without NODE_ENV", warning)


class StartUp(CheckTestCase):
    def test_musterd_refuses_to_start_with_exit_2_and_binds_nothing(self):
        d = self.daemon()
        for case in cases(d):
            with self.subTest(case.name):
                port = free_port()
                path, where = self.write_case(d, case, metrics_listen=f"127.0.0.1:{port}")
                try:
                    r = subprocess.run([MUSTERD, "-c", path], capture_output=True, text=True,
                                       timeout=5, stdin=subprocess.DEVNULL, cwd=d.dir)
                except subprocess.TimeoutExpired:
                    self.fail(f"{case.name}: musterd started")
                self.assertEqual(r.returncode, 2, (case.name, r.stdout, r.stderr))
                self.assert_reported(case, where, r.stderr)
                self.assertFalse(os.path.exists(d.socket_path), case.name)
                with socket.socket() as s:  # the metrics port is still free
                    s.bind(("127.0.0.1", port))


class ReloadConfig(CheckTestCase):
    def test_reload_config_refuses_each_config_that_cannot_run_and_changes_nothing(self):
        d = self.daemon()
        d.start(GOOD_APP)
        (before,) = d.wait_workers("web", 1)
        for case in cases(d):
            with self.subTest(case.name):
                path, where = self.write_case(d, case)
                reply = d.request({"verb": "reload-config"}, timeout=20)
                self.assertIs(reply.get("ok"), False, (case.name, reply))
                self.assert_reported(case, where, "\n".join(reply["errors"]))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, (out, err))
        self.assertEqual(raw_controls(d.log_text()), [])
        # Nothing was applied: the one old worker, the one old app.
        self.assertEqual([a["name"] for a in d.status()["apps"]], ["web"])
        (after,) = d.wait_workers("web", 1)
        self.assertEqual((after["id"], after["pid"]), (before["id"], before["pid"]))


if __name__ == "__main__":
    unittest.main()
