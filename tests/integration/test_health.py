"""Kubernetes-style probes on metrics_listen (docs/kubernetes.md): /healthz
answers while the event loop runs, /readyz only when every app that should
run has a ready worker, none has failed and no shutdown has begun."""

import http.client
import os
import re
import signal
import socket
import unittest

import harness
from harness import app

SLOW_STOP = """#!/bin/sh
trap 'sleep 2; exit 0' TERM
echo yes > "trapped-$MUSTER_WORKER_ID"
while :; do sleep 0.1; done
"""


def address(d):
    d.wait_log("metrics at http://")
    host, port = re.search(r"metrics at http://([0-9.]+):(\d+)/metrics", d.log_text()).groups()
    return host, int(port)


def get(d, path, timeout=5):
    host, port = address(d)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


class Probes(harness.TestCase):
    def start(self, apps):
        d = self.daemon()
        d.start(apps, metrics_listen="127.0.0.1:0")
        return d

    def test_healthz_answers_ok(self):
        d = self.start(app("web", "sleep", args=["1000"]))
        self.assertEqual(get(d, "/healthz"), (200, "ok\n"))

    def test_healthz_does_not_answer_while_the_event_loop_is_stopped(self):
        d = self.start(app("web", "sleep", args=["1000"]))
        self.assertEqual(get(d, "/healthz")[0], 200)
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            with self.assertRaises((socket.timeout, TimeoutError)):
                get(d, "/healthz", timeout=1)
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        self.assertEqual(get(d, "/healthz")[0], 200)

    def test_readyz_is_200_once_every_app_has_a_ready_worker(self):
        d = self.start(app("web", "sleep", args=["1000"], instances=2) +
                       app("jobs", "sleep", args=["1000"]))
        d.wait_workers("web", 2)
        d.wait_workers("jobs", 1)
        self.assertEqual(get(d, "/readyz"), (200, "ready\n"))
        self.assertEqual(get(d, "/readyz?app=web"), (200, "ready\n"))
        status, body = get(d, "/readyz?app=nope")
        self.assertEqual(status, 404, body)

    def test_readyz_is_503_naming_a_failed_app(self):
        d = self.daemon()
        d.write_script("crash.sh", "#!/bin/sh\nexit 3\n")
        d.start(app("web", "sleep", args=["1000"]) +
                app("broken", "./crash.sh", cwd=".", max_restarts=1, restart_delay="20ms",
                    restart_delay_max="20ms", failed_retry="0s"),
                metrics_listen="127.0.0.1:0")
        d.wait_for(lambda: d.app_status("broken")["state"] == "failed", 10, "the app to fail")
        status, body = get(d, "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("broken: failed", body)
        self.assertNotIn("web", body)
        self.assertEqual(get(d, "/readyz?app=web"), (200, "ready\n"))
        # An app an operator stopped does not count against readiness.
        self.assertEqual(d.ctl("stop", "broken")[0], 0)
        self.assertEqual(get(d, "/readyz"), (200, "ready\n"))

    def test_readyz_is_503_naming_an_app_without_a_ready_worker(self):
        d = self.start(app("web", "sleep", args=["1000"], ready="online",
                           protocol="node", ready_timeout="60s"))
        # A plain `sleep` never speaks the node protocol: never online.
        status, body = get(d, "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("web: no ready worker (0/1)", body)

    def test_readyz_turns_503_as_soon_as_shutdown_begins(self):
        d = self.daemon()
        d.write_script("slow-stop.sh", SLOW_STOP)
        d.start(app("web", "./slow-stop.sh", cwd=".", stop_timeout="5s"),
                metrics_listen="127.0.0.1:0", shutdown_timeout="10s")
        (w,) = d.wait_workers("web", 1)
        d.wait_for(lambda: d.read_file(f"trapped-{w['id']}"), 5, "the worker's TERM trap")
        self.assertEqual(get(d, "/readyz")[0], 200)
        address(d)  # read before the log moves on
        d.signal(signal.SIGTERM)
        d.wait_log("shutting down")
        status, body = get(d, "/readyz")
        self.assertEqual((status, body), (503, "not ready: musterd is shutting down\n"))
        self.assertEqual(get(d, "/healthz")[0], 200)  # still alive while it drains
        self.assertEqual(d.wait_exit(10), 0)


if __name__ == "__main__":
    unittest.main()
