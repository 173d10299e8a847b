"""musterd's default control socket cannot be squatted (issue 19 §1): it is
muster.sock in a directory only the daemon's uid can write (root:
/run/muster; others: $XDG_RUNTIME_DIR, else their own /tmp/muster-UID/), never
a name directly in /tmp. Each test runs in a private mount namespace with
fresh /tmp and /run (ctlsock_support.run_in_namespace), so it neither sees
nor touches the box's own.
"""

import json
import unittest

import ctlsock_support as cs
import harness
from harness import app, toml_table

# No control_socket: musterd's default.
DEFAULT_CONFIG = toml_table("daemon", {"shutdown_timeout": "5s"}) + "\n" + \
    app("a", "sleep", args=["1000"])


@cs.needs_namespace
class SquattedOldDefault(harness.TestCase):
    timeout = 60

    def test_an_impostor_on_the_old_default_path_neither_blocks_nor_fools_root(self):
        # Before: nobody bound /tmp/muster-0.sock first; root's musterd then
        # refused to start ("another musterd is already running") and root's
        # `musterctl stop a` printed "a: stopped", exit 0, from the impostor.
        d = self.daemon()
        d.write_file("muster.toml", DEFAULT_CONFIG)
        cs.write_impostor(d)
        r = cs.run_in_namespace(d, """
$AS_NOBODY /usr/bin/python3 /run/t/impostor.py /tmp/muster-0.sock /run/t/impostor.log \
  >/run/t/impostor.out 2>&1 &
for i in $(seq 100); do [ -S /tmp/muster-0.sock ] && break; sleep 0.1; done
[ -S /tmp/muster-0.sock ] || { echo "no impostor"; cat /run/t/impostor.out; exit 1; }
$MUSTERD -c /run/t/muster.toml >/run/t/musterd.log 2>&1 &
wait_ping $MUSTERCTL || { echo "musterd does not answer"; cat /run/t/musterd.log; exit 1; }
$MUSTERCTL stop a; echo "stop exit $?"
$MUSTERCTL --json status >/run/t/status.json
stat -c 'directory %a %U' /run/muster
stat -c 'socket %a %U %F' /run/muster/muster.sock
$MUSTERCTL shutdown >/dev/null
""")
        self.assertEqual(cs.impostor_log(d.path("impostor.log")), [],
                         f"nothing may reach the impostor; the script said:\n{r.stdout}")
        self.assertNotIn("already running", d.read_file("musterd.log"))
        self.assertIn("stop exit 0", r.stdout)
        (a,) = json.loads(d.read_file("status.json"))["apps"]
        self.assertEqual((a["name"], a["state"], a["workers"]), ("a", "stopped", []))
        self.assertIn("directory 700 root", r.stdout)
        self.assertIn("socket 600 root socket", r.stdout)


# As nobody: musterd and musterctl on a default that may be prepared by root
# (the "other user") first. $1 names the case; musterd is given 5 s (a musterd
# that does not refuse keeps running and is stopped by timeout: exit 124).
AS_NOBODY_CASE = """
try_case() {
  timeout 5 $AS_NOBODY $MUSTERD -c /run/t/muster.toml >/run/t/$1-musterd.log 2>&1
  echo "$1 musterd exit $?"
  $AS_NOBODY $MUSTERCTL ping >/run/t/$1-musterctl.log 2>&1
  echo "$1 musterctl exit $?"
}
"""


@cs.needs_namespace
class PrivateDirectoryOfAUser(harness.TestCase):
    timeout = 90

    def setUp(self):
        super().setUp()
        self.d = self.daemon()
        self.d.write_file("muster.toml", DEFAULT_CONFIG)

    def assert_refused(self, r, case, why):
        self.assertIn(f"{case} musterd exit 1", r.stdout)
        self.assertIn(f"refusing the control socket /tmp/muster-{cs.NOBODY}/muster.sock: "
                      f"/tmp/muster-{cs.NOBODY} {why}", self.d.read_file(f"{case}-musterd.log"))
        self.assertIn(f"{case} musterctl exit 3", r.stdout)
        self.assertIn(f"musterctl: refusing /tmp/muster-{cs.NOBODY}/muster.sock: "
                      f"/tmp/muster-{cs.NOBODY} {why}", self.d.read_file(f"{case}-musterctl.log"))

    def test_a_directory_made_first_by_another_user_or_open_to_all_is_refused(self):
        # Before: a user's musterd ignored /tmp/muster-UID/ and bound
        # /tmp/muster-UID.sock, a name anyone could have taken first.
        r = cs.run_in_namespace(self.d, AS_NOBODY_CASE + """
mkdir -m 0700 /tmp/muster-65534
try_case theirs
rmdir /tmp/muster-65534
mkdir -m 0777 /tmp/muster-65534 && chown 65534:65534 /tmp/muster-65534
try_case open
rmdir /tmp/muster-65534
$AS_NOBODY mkdir -m 0700 /tmp/elsewhere && $AS_NOBODY ln -s /tmp/elsewhere /tmp/muster-65534
try_case link
""")
        self.assert_refused(r, "theirs", "belongs to uid 0 (root), not to uid 65534 (nobody)")
        self.assert_refused(r, "open", "is writable by others (mode 0777)")
        self.assert_refused(r, "link", "is a symbolic link, not a directory of its own")

    def test_a_user_without_runtime_dir_gets_a_private_directory_in_tmp(self):
        r = cs.run_in_namespace(self.d, """
$AS_NOBODY $MUSTERD -c /run/t/muster.toml >/run/t/musterd.log 2>&1 &
wait_ping $AS_NOBODY $MUSTERCTL || { echo "musterd does not answer"; cat /run/t/musterd.log; }
stat -c 'directory %a %U' /tmp/muster-65534
stat -c 'socket %a %U %F' /tmp/muster-65534/muster.sock
$AS_NOBODY $MUSTERCTL shutdown >/dev/null
wait
""")
        self.assertIn("directory 700 nobody", r.stdout)
        self.assertIn("socket 600 nobody socket", r.stdout)

    def test_xdg_runtime_dir_is_used_when_it_is_the_users_own(self):
        r = cs.run_in_namespace(self.d, """
mkdir -m 0700 /run/user-65534 && chown 65534:65534 /run/user-65534
$AS_NOBODY $MUSTERD -c /run/t/muster.toml >/run/t/musterd.log 2>&1 &
wait_ping $AS_NOBODY $MUSTERCTL || { echo "musterd does not answer"; cat /run/t/musterd.log; }
stat -c 'socket %U %F' /run/user-65534/muster.sock
$AS_NOBODY $MUSTERCTL shutdown >/dev/null
wait
chmod 0777 /run/user-65534
timeout 5 $AS_NOBODY $MUSTERD -c /run/t/muster.toml >/run/t/open-musterd.log 2>&1
echo "open musterd exit $?"
""", XDG_RUNTIME_DIR="/run/user-65534")
        self.assertIn("socket nobody socket", r.stdout)
        self.assertIn("open musterd exit 1", r.stdout)
        self.assertIn("/run/user-65534 is writable by others (mode 0777)",
                      self.d.read_file("open-musterd.log"))


if __name__ == "__main__":
    unittest.main()
