"""`musterctl import supervisord` (issue 24 §1): a realistic supervisord
config (a main file, [include] of conf.d/*.conf, environment= with quotes
and commas, %(here)s and %(ENV_X)s, numprocs, a command that runs a shell)
imported, checked with `musterctl check` and run by the real musterd, with
real processes.

The plain fixture uses no key that muster gained with issue 24. The full one
adds [group:x], priority and autostart=false, so its output has [groups],
`after` and `autostart`: it passes once those keys are merged."""

import json
import os
import subprocess

import harness
from harness import MUSTERCTL

WORKER = """\
import json, os, sys, time
name = sys.argv[1]
with open(f"{name}-{os.environ['MUSTER_INSTANCE']}.json", "w") as f:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}, f)
print(name, "up", flush=True)
print(name, "on stderr", file=sys.stderr, flush=True)
time.sleep(300)
"""

MAIN = """\
; supervisord.conf, as Debian's package ships it, trimmed
[unix_http_server]
file=/var/run/supervisor.sock   ; (the path to the socket file)
chmod=0700                       ; sockef file mode (default 0700)

[supervisord]
logfile=/var/log/supervisor/supervisord.log ; (main log file;default $CWD/supervisord.log)
pidfile=/var/run/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
environment=TIER=%(ENV_IMPORT_TIER)s,REGION="eu-west, 1"

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket

[include]
files = conf.d/*.conf
"""

API = """\
[program:api]
command = python3 %(here)s/worker.py %(program_name)s
directory = %(here)s
environment = GREETING="hello, world",QUOTE='single, quoted',
    TIER=api-%(ENV_TIER)s
stdout_logfile = %(here)s/api.log
stdout_logfile_maxbytes = 1MB
stdout_logfile_backups = 2
redirect_stderr = true
stopsignal = INT
stopwaitsecs = 3
"""

WORKERS = """\
[program:cache]
command=python3 worker.py cache
directory=%(here)s
process_name=cache-%(process_num)d
numprocs=2
stopasgroup=true         ; muster always does

[program:shell]
command=/bin/sh -c "echo shell %(program_name)s $TIER > shell.out; exec sleep 300"
directory=%(here)s
autorestart=true
startsecs=0
"""

FULL = """\
[program:jobs]
command=python3 worker.py jobs%(process_num)d
directory=%(here)s
process_name=jobs_%(process_num)d
numprocs=2
priority=20

[program:manual]
command=sleep 300
autostart=false

[group:backend]
programs=api,shell
"""


class ImportSupervisord(harness.TestCase):
    def fixture(self, d, full):
        d.write_file("sv/supervisord.conf", MAIN)
        d.write_file("sv/conf.d/worker.py", WORKER)
        d.write_file("sv/conf.d/api.conf", API + ("priority=10\n" if full else ""))
        d.write_file("sv/conf.d/workers.conf", WORKERS)
        if full:
            d.write_file("sv/conf.d/zz-full.conf", FULL)

    def imported(self, d):
        env = dict(os.environ, IMPORT_TIER="gold")
        r = subprocess.run([MUSTERCTL, "import", "supervisord", d.path("sv/supervisord.conf")],
                           capture_output=True, text=True, timeout=10, env=env,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def check_and_start(self, d, text):
        config = d.write_config(text)
        r = subprocess.run([MUSTERCTL, "check", config], capture_output=True, text=True,
                           timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr + "\n" + text)
        d.start()

    def written(self, d, name):
        """The file a worker wrote, once it is whole (a JSON object or a line)."""
        def whole():
            text = d.read_file(os.path.join("sv/conf.d", name))
            return text if text.endswith(("}", "\n")) else None
        return d.wait_for(whole, 10, name)

    def check_plain_apps(self, d):
        d.wait_workers("api", 1)
        d.wait_workers("cache", 2)
        d.wait_workers("shell", 1)
        api = json.loads(self.written(d, "api-0.json"))
        self.assertEqual(api["argv"], ["api"])
        self.assertEqual(api["cwd"], d.path("sv/conf.d"))
        self.assertEqual(api["env"]["GREETING"], "hello, world")
        self.assertEqual(api["env"]["QUOTE"], "single, quoted")
        self.assertEqual(api["env"]["REGION"], "eu-west, 1")
        # [supervisord]'s TIER (from IMPORT_TIER) is the program's %(ENV_TIER)s.
        self.assertEqual(api["env"]["TIER"], "api-gold")
        self.assertEqual(json.loads(self.written(d, "cache-1.json"))["argv"], ["cache"])
        self.assertEqual(self.written(d, "shell.out"), "shell shell gold\n")
        # One file for stdout and stderr, as redirect_stderr=true asked.
        d.wait_for(lambda: {"api up", "api on stderr"} <= set(
            d.read_file("sv/conf.d/api.log").splitlines()), 10, "api's output in api.log")

    def test_a_config_without_the_new_keys_is_checked_and_runs(self):
        d = self.daemon()
        self.fixture(d, full=False)
        text = self.imported(d)
        self.assertIn("# stopasgroup = true: no equivalent in muster", text)
        self.assertIn('# [supervisorctl] (', text)
        for key in ("[groups]", "after =", "autostart ="):
            self.assertNotIn(key, text)
        self.check_and_start(d, text)
        self.check_plain_apps(d)
        rc, out, err = d.ctl("status")
        self.assertEqual(rc, 0, err)
        for name in ("api", "cache", "shell"):
            self.assertIn(name, out)

    def test_groups_priority_and_autostart_are_imported_and_run(self):
        d = self.daemon()
        self.fixture(d, full=True)
        text = self.imported(d)
        self.assertIn('backend = ["api", "shell"]', text)
        self.assertIn('jobs = ["jobs_0", "jobs_1"]', text)
        self.assertIn("autostart = false", text)
        self.assertIn('after = ["api"]', text)
        self.check_and_start(d, text)
        self.check_plain_apps(d)
        self.assertEqual(json.loads(self.written(d, "jobs1-0.json"))["argv"], ["jobs1"])
        self.assertEqual(d.app_status("manual")["workers"], [])

    def test_a_line_supervisord_refuses_is_an_error_naming_file_and_line(self):
        d = self.daemon()
        path = d.write_file("bad/supervisord.conf", "[include]\nfiles=conf.d/*.conf\n")
        d.write_file("bad/conf.d/a.conf", "[program:a]\ncommand=sleep 1\nno delimiter here\n")
        r = subprocess.run([MUSTERCTL, "import", "supervisord", path], capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn(d.path("bad/conf.d/a.conf") + ":3: ", r.stderr)
