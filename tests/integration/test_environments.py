"""[apps.NAME.environments.ENV] overlays: chosen by musterd --environment,
else MUSTER_ENVIRONMENT, else [daemon] environment; seen in the workers'
count and environment; kept by reload-config; printed by musterctl check
--environment ENV --print as a config musterd loads as it is."""

import subprocess
import unittest

import harness
from harness import MUSTERD, app

# Says which NODE_ENV it got, then stays up.
SAY_ENV = """#!/bin/sh
echo "NODE_ENV=$NODE_ENV"
exec sleep 1000
"""


def apps(production_instances=2):
    return (app("api", "./say_env.sh", cwd=".", instances=1, env={"NODE_ENV": "development"}) +
            f"[apps.api.environments.production]\ninstances = {production_instances}\n"
            "[apps.api.environments.production.env]\nNODE_ENV = \"production\"\n"
            "[apps.api.environments.staging]\ninstances = 3\n")


NO_VARIABLE = {"MUSTER_ENVIRONMENT": None}


class Environments(harness.TestCase):
    def started(self, env=NO_VARIABLE, args=(), **daemon_keys):
        d = self.daemon()
        d.write_script("say_env.sh", SAY_ENV)
        d.start(apps(), env=env, args=args, **daemon_keys)
        return d

    def logs_of(self, d, name):
        rc, out, err = d.ctl("logs", name)
        self.assertEqual(rc, 0, err)
        return out

    def test_musterd_environment_overlays_instances_and_merges_env(self):
        d = self.started(args=("--environment", "production"))
        d.wait_workers("api", 2)
        d.wait_for(lambda: self.logs_of(d, "api").count("NODE_ENV=production") == 2, 10,
                   "both workers to say NODE_ENV=production")
        self.assertNotIn("development", self.logs_of(d, "api"))

    def test_the_option_wins_over_the_variable_which_wins_over_the_file(self):
        d = self.started(env={"MUSTER_ENVIRONMENT": "production"}, environment="staging")
        d.wait_workers("api", 2)  # production's 2, not staging's 3
        d.close()
        d = self.started(environment="staging")
        d.wait_workers("api", 3)
        d.close()
        d = self.started(env={"MUSTER_ENVIRONMENT": "staging"}, args=("--environment", "production"))
        d.wait_workers("api", 2)

    def test_without_an_environment_the_base_config_runs(self):
        d = self.started()
        d.wait_workers("api", 1)
        d.wait_for(lambda: "NODE_ENV=development" in self.logs_of(d, "api"), 10,
                   "the worker to say NODE_ENV=development")

    def test_reload_config_keeps_the_environment_musterd_started_with(self):
        d = self.started(args=("--environment", "production"))
        d.wait_workers("api", 2)
        d.write_config(apps(production_instances=4))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 0, err)
        d.wait_workers("api", 4)

    def test_an_environment_no_app_defines_stops_musterd_naming_it(self):
        d = self.daemon()
        d.write_script("say_env.sh", SAY_ENV)
        d.write_config(apps())
        r = subprocess.run([MUSTERD, "-c", d.config_path, "--environment", "prodution"],
                           capture_output=True, text=True, timeout=10,
                           env=harness.os.environ | {"MUSTER_ENVIRONMENT": ""})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('--environment: no app defines the environment "prodution"', r.stderr)
        self.assertIn("the file defines: production, staging", r.stderr)

    def test_check_prints_the_effective_config_which_musterd_loads(self):
        d = self.daemon()
        d.write_script("say_env.sh", SAY_ENV)
        d.write_config(apps())
        rc, out, err = d.ctl("check", "--environment", "production", "--print", d.config_path)
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("# The effective config of " + d.config_path), out)
        self.assertIn('"production" (from --environment)', out)
        self.assertIn("instances = 2", out)
        self.assertNotIn("environments.", out)
        self.assertIn("ok (1 app, environment production)", err)
        d.write_file("muster.toml", out)  # what musterd then runs is the same
        d.start(env=NO_VARIABLE)
        d.wait_workers("api", 2)
        d.wait_for(lambda: self.logs_of(d, "api").count("NODE_ENV=production") == 2, 10,
                   "both workers to say NODE_ENV=production")

    def test_check_reports_an_overlay_error_at_the_overlay_with_its_full_key(self):
        d = self.daemon()
        d.write_config(app("api", "sleep", args=["1000"]) +
                       "[apps.api.environments.production]\ninstances = \"four\"\n")
        rc, out, err = d.ctl("check", "--environment", "production", d.config_path)
        self.assertEqual(rc, 2)
        line = len(d.read_file("muster.toml").splitlines())
        self.assertIn(f"muster.toml:{line}:13: apps.api.environments.production.instances: "
                      "expected a number of workers", err)

    def test_check_without_an_environment_checks_every_one_the_file_defines(self):
        d = self.daemon()
        d.write_config(app("api", "sleep", args=["1000"]) +
                       "[apps.api.environments.production]\ninstances = 2\n"
                       "[apps.api.environments.staging]\ninstancez = 2\n")
        line = len(d.read_file("muster.toml").splitlines())
        rc, out, err = d.ctl("check", d.config_path)
        self.assertEqual(rc, 2, out + err)
        self.assertIn(f"muster.toml:{line}:1: apps.api.environments.staging.instancez: "
                      "with environment staging: unknown key", err)
        # Asked for one environment, only that one is checked.
        rc, out, err = d.ctl("check", "--environment", "production", d.config_path)
        self.assertEqual(rc, 0, err)
        self.assertIn("ok (1 app, environment production)", out)


if __name__ == "__main__":
    unittest.main()
