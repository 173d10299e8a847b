"""`musterctl import pm2` (issue 24): a PM2 ecosystem file or PM2's saved
process list becomes a muster config that `musterctl check` accepts and
musterd runs.

The fixtures in pm2_app/ look like a real project: an HTTP API in cluster mode
(api.js, a plain http server), a Python worker in fork mode (jobs.py) and a
plain program, in ecosystem.config.js (with env_production and watch) and in
ecosystem.json (the same apps without them). pm2_app/dump.pm2 is what PM2
itself wrote: pm2_app/make-dump installs PM2 7 from the npm registry into
~/.cache/muster/pm2 (as bench/pm2.py installs it, PM2_HOME inside that
directory), runs `pm2 start ecosystem.config.js --env production` in a copy
of pm2_app/ and `pm2 save`, and scrubs what is the build machine's: the
project directory became /srv/shop, PM2_HOME /home/deploy/.pm2, the user
deploy, the port 3000, and the environment a login shell's."""

import os
import shutil
import subprocess
import urllib.request

import harness
from harness import MUSTERCTL
from node_support import NODE, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "pm2_app")


def musterctl(*args, env=None, cwd=None, timeout=20):
    r = subprocess.run([MUSTERCTL, *args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def node_env(**extra):
    """musterctl's environment with the test's node first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(NODE) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def get(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
        return r.read().decode()


class ImportPm2(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = harness.Daemon.for_test(self)
        for name in os.listdir(FIXTURES):
            shutil.copy(os.path.join(FIXTURES, name), self.d.path(name))
        os.makedirs(self.d.path("logs"))
        os.makedirs(self.d.path("lib"))  # watched by the api app
        self.port = free_port()

    def write_imported(self, toml):
        """muster.toml: a [daemon] table of the test, then the imported config."""
        daemon = harness.toml_table("daemon", {"control_socket": self.d.socket_path,
                                               "shutdown_timeout": "5s"})
        self.d.write_file("muster.toml", daemon + "\n" + toml)
        rc, out, err = musterctl("check", self.d.config_path)
        self.assertEqual(rc, 0, f"check refused the import:\n{err}\n{toml}")

    def run_and_answer(self, api_instances, greeting, env=None):
        """Starts musterd on muster.toml; the api's workers answer HTTP."""
        self.d.start(env=env)
        workers = self.d.wait_workers("api", api_instances, timeout=15, state="listening")
        answer = self.d.wait_for(lambda: get(self.port), 10, "the api to answer")
        self.assertTrue(answer.startswith(greeting), answer)
        self.assertIn(int(answer.split()[-1]), [w["pid"] for w in workers])
        return answer

    def test_a_json_ecosystem_is_a_config_that_checks_and_runs(self):
        eco = self.d.path("ecosystem.json")
        with open(eco) as f:
            text = f.read().replace('"PORT": 3000', f'"PORT": {self.port}')
        self.d.write_file("ecosystem.json", text)
        rc, toml, err = musterctl("import", "pm2", eco)
        self.assertEqual(rc, 0, err)
        self.assertIn('instances = 0', toml)  # "max": one per CPU
        self.assertIn('args = ["jobs.py", "--queue", "nightly mail"]', toml)
        self.write_imported(toml)
        self.run_and_answer(len(os.sched_getaffinity(0)), "hello from json production")
        self.d.wait_workers("jobs", 1)
        self.d.wait_for(lambda: "working on queue nightly mail" in self.d.read_file("jobs.log"),
                        10, "jobs to write its output file")

    def test_a_js_ecosystem_is_read_with_node_and_its_production_env_runs(self):
        if not NODE:
            self.skipTest("no node")
        rc, toml, err = musterctl("import", "pm2", "ecosystem.config.js",
                                  env=node_env(API_PORT=str(self.port)), cwd=self.d.dir)
        self.assertEqual(rc, 0, err)
        self.assertIn('exec = "node"\nargs = ["--max-old-space-size=256", "./api.js", '
                      '"--greeting", "hello from api"]\nprotocol = "node"', toml)
        self.assertIn(f'PORT = "{self.port}"', toml)
        self.assertIn('[apps.api.environments.production.env]\nNODE_ENV = "production"', toml)
        self.assertIn("# pm2 cron_restart = ", toml)
        self.assertIn("ecosystem.config.js: warning: app heartbeat: cron_restart has no muster "
                      "equivalent", err)
        self.write_imported(toml)
        self.run_and_answer(2, "hello from api production", env={"MUSTER_ENVIRONMENT": "production"})

    def test_the_saved_process_list_is_the_running_apps(self):
        with open(self.d.path("dump.pm2")) as f:
            dump = f.read().replace("/srv/shop", self.d.dir).replace('"3000"', f'"{self.port}"')
        self.d.write_file("dump.pm2", dump)
        rc, toml, err = musterctl("import", "pm2", self.d.path("dump.pm2"))
        self.assertEqual(rc, 0, err)
        self.assertIn("instances = 2", toml)  # two processes of api were saved
        self.assertIn(f'output_file = "{self.d.path("logs", "jobs-out.log")}"', toml)
        self.assertIn("Left out of env, as the shell's or PM2's own: HOME, LOGNAME, OLDPWD, PATH",
                      toml)
        self.assertNotIn("PM2_HOME =", toml)
        self.write_imported(toml)
        self.run_and_answer(2, "hello from api production")


class ImportPm2Errors(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.d = harness.Daemon.for_test(self)

    def test_a_js_ecosystem_without_node_says_so(self):
        path = self.d.write_file("ecosystem.config.js", "module.exports = {apps: []};\n")
        rc, out, err = musterctl("import", "pm2", path, env={"PATH": "/nonexistent"})
        self.assertEqual(rc, 1)
        self.assertIn("needs node", err)
        self.assertIn(".json", err)
        self.assertEqual(out, "")

    def test_node_failing_on_the_file_is_reported_with_its_status_and_stderr(self):
        if not NODE:
            self.skipTest("no node")
        path = self.d.write_file("ecosystem.config.js", "throw new Error('no DB_URL set');\n")
        rc, out, err = musterctl("import", "pm2", path, env=node_env())
        self.assertEqual(rc, 1)
        self.assertIn("failed (exit status 1)", err)
        self.assertIn("no DB_URL set", err)

    def test_a_file_that_keeps_node_running_is_killed_in_time(self):
        if not NODE:
            self.skipTest("no node")
        path = self.d.write_file("ecosystem.config.js",
                                 "setInterval(() => {}, 1000);\nmodule.exports = {apps: []};\n")
        rc, out, err = musterctl("import", "pm2", path, env=node_env(), timeout=25)
        self.assertEqual(rc, 1)
        self.assertIn("did not finish within 10s (killed)", err)

    def test_an_es_module_ecosystem_is_imported(self):
        if not NODE:
            self.skipTest("no node")
        path = self.d.write_file(
            "ecosystem.config.mjs",
            "export default {apps: [{name: 'web', script: 'server.js', instances: 2}]};\n")
        rc, out, err = musterctl("import", "pm2", path, env=node_env())
        self.assertEqual(rc, 0, err)
        self.assertIn('[apps.web]\nexec = "node"\nargs = ["server.js"]\nprotocol = "node"', out)

    def test_bad_json_names_file_line_and_column(self):
        path = self.d.write_file("ecosystem.json", '{\n  "apps": [\n    {"name": }\n  ]\n}\n')
        rc, out, err = musterctl("import", "pm2", path)
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:3:", err)

    def test_a_missing_file_is_an_error_and_no_file_a_usage_error(self):
        self.assertEqual(musterctl("import", "pm2", self.d.path("nope.json"))[0], 1)
        self.assertEqual(musterctl("import", "pm2")[0], 2)
        self.assertEqual(musterctl("import")[0], 2)
        self.assertEqual(musterctl("import", "frob", "x")[0], 2)


if __name__ == "__main__":
    import unittest
    unittest.main()
