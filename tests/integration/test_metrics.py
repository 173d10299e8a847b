"""metrics_listen: Prometheus text at /metrics, scraped and parsed; the values
move as the daemon's state does; the HTTP endpoint is bounded and strict."""

import collections
import http.client
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness
import node_support as ns
from node_support import node_app, socket_table

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text, test):
    """Prometheus text -> {name: {"type", "help", "samples": {labels tuple: value}}};
    fails `test` on any line the format does not allow."""
    families = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            families.setdefault(name, {"samples": {}})["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            test.assertIn(kind, ("gauge", "counter"), line)
            families.setdefault(name, {"samples": {}})["type"] = kind
        else:
            m = SAMPLE.match(line)
            test.assertIsNotNone(m, f"not a sample line: {line!r}")
            name, labels, value = m.group(1), m.group(3) or "", m.group(4)
            test.assertIn(name, families, f"{name} sampled before its HELP/TYPE")
            key = tuple(sorted(LABEL.findall(labels)))
            test.assertNotIn(key, families[name]["samples"], f"duplicate sample: {line}")
            families[name]["samples"][key] = float(value)
    for name, f in families.items():
        test.assertTrue(f.get("help"), f"{name} has no HELP")
        test.assertIn("type", f, f"{name} has no TYPE")
        if f["type"] == "counter":
            test.assertTrue(name.endswith("_total"), f"counter {name} should end in _total")
    return families


def value(families, name, **labels):
    want = tuple(sorted((k, str(v)) for k, v in labels.items()))
    for key, v in families[name]["samples"].items():
        if all(item in key for item in want):
            return v
    raise KeyError(f"no {name} sample with {labels}")


def metrics_address(d):
    d.wait_log("metrics at http://")
    return re.search(r"metrics at http://([0-9.]+):(\d+)/metrics", d.log_text()).groups()


class MetricsCase(ns.TestCase):
    def start(self, instances=2, **daemon_keys):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=instances, sockets=["web"],
                         scheduling="rr"),
                metrics_listen="127.0.0.1:0", **daemon_keys)
        ns.wait_listening(d, "web", instances)
        host, port = metrics_address(d)
        self.metrics_port = int(port)
        return d, ns.bound_port(d, "web")

    def get(self, path="/metrics", method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode()
        finally:
            conn.close()

    def scrape(self):
        status, headers, body = self.get()
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        return parse(body, self)


class Scrape(MetricsCase):
    def test_every_documented_family_is_present_with_help_and_type(self):
        d, _ = self.start()
        m = self.scrape()
        with open(os.path.join(harness.HERE, "..", "..", "docs", "metrics.md")) as f:
            documented = re.findall(r"^\| `([a-z_]+)` \|", f.read(), re.M)
        self.assertGreater(len(documented), 10)
        self.assertEqual(sorted(documented), sorted(m), "docs/metrics.md and /metrics differ")
        version = subprocess.run([harness.MUSTERD, "--version"], capture_output=True,
                                 text=True).stdout.split()[-1]
        self.assertEqual(value(m, "muster_build_info", version=version), 1)
        self.assertGreater(value(m, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(value(m, "process_open_fds"), 3)
        started = value(m, "process_start_time_seconds")
        self.assertTrue(time.time() - 300 < started <= time.time() + 1, started)

    def test_workers_by_state_and_app_state_follow_the_app(self):
        d, _ = self.start(instances=2)
        m = self.scrape()
        self.assertEqual(value(m, "muster_workers", app="web", state="listening"), 2)
        self.assertEqual(value(m, "muster_workers", app="web", state="spawning"), 0)
        self.assertEqual(value(m, "muster_workers_ready", app="web"), 2)
        self.assertEqual(value(m, "muster_app_state", app="web", state="running"), 1)
        self.assertEqual(value(m, "muster_app_state", app="web", state="stopped"), 0)
        self.assertEqual(value(m, "muster_app_instances", app="web"), 2)
        for w in d.workers("web"):
            who = {"app": "web", "worker": w["id"], "slot": w["instance"]}
            self.assertGreater(value(m, "muster_worker_resident_memory_bytes", **who), 1 << 20)
            self.assertGreaterEqual(value(m, "muster_worker_cpu_seconds_total", **who), 0)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        m = self.scrape()
        self.assertEqual(value(m, "muster_app_state", app="web", state="stopped"), 1)
        self.assertEqual(value(m, "muster_workers", app="web", state="listening"), 0)
        self.assertEqual(m["muster_worker_resident_memory_bytes"]["samples"], {})
        self.assertEqual(d.ctl("scale", "web", "3")[0], 0)
        self.assertEqual(value(self.scrape(), "muster_app_instances", app="web"), 3)

    def test_connections_count_per_worker_and_survive_a_crash_in_the_app_total(self):
        d, port = self.start(instances=2)
        results = ns.get_many(port, 40, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        served = collections.Counter(ns.worker_of(b) for b in ns.answered(results))
        def per_worker():
            m = self.scrape()
            return {int(dict(k)["worker"]): v
                    for k, v in m["muster_worker_connections_total"]["samples"].items()}
        d.wait_for(lambda: per_worker() == served, 5,
                   f"per-worker connections to equal what each served {dict(served)}")
        m = self.scrape()
        self.assertEqual(value(m, "muster_connections_total", app="web"), 40)
        self.assertEqual(value(m, "muster_crashes_total", app="web"), 0)
        victim = d.workers("web")[0]
        os.kill(victim["pid"], signal.SIGKILL)
        d.wait_for(lambda: value(self.scrape(), "muster_restarts_total", app="web") == 1, 10,
                   "the restart to be counted")
        ns.wait_listening(d, "web", 2)
        m = self.scrape()
        self.assertEqual(value(m, "muster_crashes_total", app="web"), 1)
        self.assertEqual(value(m, "muster_worker_exits_total", app="web"), 1)
        self.assertEqual(value(m, "muster_connections_total", app="web"), 40)
        self.assertNotIn(str(victim["id"]), {dict(k)["worker"] for k in
                                             m["muster_worker_connections_total"]["samples"]})

    def test_pending_connections_follow_what_the_daemon_holds(self):
        d, port = self.start(instances=1)
        self.assertEqual(value(self.scrape(), "muster_pending_connections", app="web"), 0)
        self.assertEqual(d.ctl("stop", "web")[0], 0)
        with ns.OpenClients(port, 3) as clients:
            d.wait_for(lambda: value(self.scrape(), "muster_pending_connections", app="web") == 3,
                       5, "3 pending connections")
            self.assertEqual(d.ctl("start", "web")[0], 0)
            self.assertEqual(ns.failures(clients.results()), [])
        self.assertEqual(value(self.scrape(), "muster_pending_connections", app="web"), 0)

    def test_reloads_and_config_reloads_are_counted_by_result(self):
        d, _ = self.start(instances=1)
        self.assertEqual(d.ctl("reload", "web")[0], 0)
        m = self.scrape()
        self.assertEqual(value(m, "muster_reloads_total", app="web", result="done"), 1)
        self.assertEqual(value(m, "muster_reloads_total", app="web", result="failed"), 0)
        self.assertEqual(value(m, "muster_config_last_reload_successful"), 1)
        good = d.read_file("muster.toml")
        d.write_file("muster.toml", good + "\n[apps.broken]\nexec = 3\n")
        self.assertEqual(d.ctl("reload-config")[0], 1)
        m = self.scrape()
        self.assertEqual(value(m, "muster_config_reloads_total", result="rejected"), 1)
        self.assertEqual(value(m, "muster_config_last_reload_successful"), 0)
        d.write_file("muster.toml", good)
        self.assertEqual(d.ctl("reload-config")[0], 0)
        m = self.scrape()
        self.assertEqual(value(m, "muster_config_reloads_total", result="applied"), 1)
        self.assertEqual(value(m, "muster_config_last_reload_successful"), 1)


class Endpoint(MetricsCase):
    def test_other_paths_are_404_and_other_methods_405(self):
        self.start(instances=1)
        self.assertEqual(self.get("/")[0], 404)
        self.assertEqual(self.get("/metricsx")[0], 404)
        status, headers, _ = self.get(method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(self.get("/metrics?name[]=x")[0], 200)

    def test_head_has_the_length_of_get_and_no_body(self):
        self.start(instances=1)
        status, headers, body = self.get(method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, "")
        self.assertGreater(int(headers["Content-Length"]), 100)

    def test_keep_alive_serves_several_scrapes_on_one_connection(self):
        self.start(instances=1)
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        self.addCleanup(conn.close)
        for _ in range(3):
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertIn("muster_build_info", r.read().decode())

    def test_garbage_and_oversized_requests_are_refused_and_the_daemon_serves_on(self):
        d, port = self.start(instances=1)
        for junk in (b"\x00\x01 not http\r\n\r\n", b"GET /metrics HTTP/1.1\r\nX: " +
                     b"a" * 20000 + b"\r\n\r\n",
                     b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"):
            with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=10) as s:
                s.sendall(junk)
                reply = ns.read_all(s)
                self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:80])
        # A client that connects and says nothing does not block others.
        idle = socket.create_connection(("127.0.0.1", self.metrics_port), timeout=10)
        self.addCleanup(idle.close)
        self.scrape()
        self.assertEqual(ns.http_request(port)[0], 200)
        self.assertIsNone(d.proc.poll())

    def test_a_metrics_address_in_use_stops_musterd_with_a_clear_error(self):
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        d = self.daemon()
        d.write_config(harness.app("idle", "sleep", args=["1000"]),
                       metrics_listen=f"127.0.0.1:{blocker.getsockname()[1]}")
        r = subprocess.run([harness.MUSTERD, "-c", d.config_path], capture_output=True,
                           text=True, timeout=20, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("metrics_listen", r.stdout + r.stderr)


class NoMetrics(ns.TestCase):
    def test_without_metrics_listen_nothing_is_served(self):
        d = self.daemon()
        d.start(harness.app("idle", "sleep", args=["1000"]))
        self.assertNotIn("metrics at", d.log_text())


if __name__ == "__main__":
    unittest.main()
