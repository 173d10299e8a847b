"""Restarts through the fd store drop no connection (issue 20 item 3), with
this test playing systemd as in test_musterd_systemd: musterd stores its
socket, is stopped with SIGTERM while a client makes requests (and keeps slow
ones in flight), and the next musterd gets the stored socket back. The old
musterd must stop accepting first and hand what it accepted to its workers;
what arrives meanwhile waits in the kernel's queue. tests/systemd runs the
same under a real systemd."""

import json
import os
import signal
import subprocess
import sys
import unittest

import harness
import node_support as ns
from client_support import socket_table
from test_musterd_systemd import ServiceCase

HELLO = os.path.join(harness.BUILD_DIR, "muster-hello")
LOAD_CLIENT = os.path.join(harness.HERE, "..", "systemd", "load_client.py")
RESTARTS = 5


class RestartUnderLoad(ServiceCase):
    def test_restarts_through_the_fd_store_reset_no_connection(self):
        d = self.d
        port = ns.free_port()
        d.write_config(socket_table("web", f"127.0.0.1:{port}") +
                       harness.app("web", HELLO, args=[str(port), "127.0.0.1"], protocol="node",
                                   instances=2, sockets=["web"], stop_timeout="5s"))
        self.launch()
        ns.wait_listening(d, "web", 2)
        self.systemd.wait(lambda f: f.get("FDNAME") == "web", 10, "FDSTORE=1 FDNAME=web")
        client = subprocess.Popen([sys.executable, LOAD_CLIENT, str(port), "--slow", "3"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: client.poll() is not None or (client.kill(), client.wait()))
        self.assertEqual(client.stdout.readline().strip(), "started")
        stored = self.systemd.store["web"][0]
        for _ in range(RESTARTS):
            d.signal(signal.SIGTERM)
            self.assertEqual(d.wait_exit(15), 0)
            self.launch(passed=[stored], names=["web"])
            ns.wait_listening(d, "web", 2)
            # Read what musterd sent, as systemd would (a full notify socket
            # would block it).
            self.systemd.drain(0.1)
        client.send_signal(signal.SIGTERM)
        out, err = client.communicate(timeout=60)
        summary = json.loads(out.strip().splitlines()[-1])
        failures = {k: summary[k] for k in ("refused", "reset", "closed", "timeout", "bad")}
        self.assertEqual(failures, dict.fromkeys(failures, 0), summary)
        self.assertGreater(summary["slow_ok"], RESTARTS, summary)


if __name__ == "__main__":
    unittest.main()
