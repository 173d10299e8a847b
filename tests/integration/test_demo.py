"""scripts/demo PORT: the README's first command, on a port of the caller's
choice, with build/ already current (so it only checks the build), answers
HTTP there and stops cleanly on SIGTERM (issue #12)."""

import os
import signal
import subprocess
import unittest
import urllib.request

import harness
from node_support import free_port

REPO = os.path.abspath(os.path.join(harness.HERE, "..", ".."))
DEMO = os.path.join(REPO, "scripts", "demo")


@unittest.skipUnless(harness.BUILD_DIR == os.path.join(REPO, "build"),
                     "scripts/demo runs what is in build/, not MUSTER_BUILD_DIR")
class Demo(harness.TestCase):
    timeout = 60  # bounded: build/ is current, so the build step is ninja's no-op check

    def test_demo_serves_on_the_port_it_is_given_and_stops_on_sigterm(self):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "MUSTER_SOCKET"}
        demo = subprocess.Popen([DEMO, str(port)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)

        def stop():
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait(10)
            demo.stdout.close()
        self.addCleanup(stop)

        def answer():
            if demo.poll() is not None:
                raise AssertionError(f"scripts/demo exited with {demo.returncode}: "
                                     f"{demo.stdout.read().decode(errors='replace')}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                return r.read().decode()
        self.assertIn("Hello from worker", harness.Poll.until(answer, 45, "the demo to answer"))
        # The demo execs musterd: SIGTERM is its graceful shutdown.
        demo.send_signal(signal.SIGTERM)
        self.assertEqual(demo.wait(20), 0)
        self.assertIn(f"/tmp/muster-demo-{port}.sock", demo.stdout.read().decode())

    def test_a_port_that_is_not_a_number_is_a_usage_error(self):
        r = subprocess.run([DEMO, "eighty"], capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: scripts/demo [PORT]", r.stderr)


if __name__ == "__main__":
    unittest.main()
