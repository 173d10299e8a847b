"""max_memory: musterd samples each worker's RSS every 2 s; a worker above the
limit is replaced new-worker-first (a new worker id in the same slot, then the
old one is stopped gracefully) and a `memory` event {id, pid, rss_bytes,
max_memory} says so. A worker below the limit is left alone.

Workers (reload_config_workers/): grow_on_file.py, a plain process that
allocates when a file appears; grow_hello.js, a Node HTTP worker that
allocates on GET /grow. Everything is awaited with deadlines; the only fixed
waits are `holds` checks that something does NOT happen for a few sampling
periods."""

import concurrent.futures
import os
import threading
import time

import harness
import node_support as ns
from node_support import socket_table
from test_metrics import metrics_address, parse, value
from test_output_errors import scrape

HERE = os.path.dirname(os.path.abspath(__file__))
GROW_ON_FILE = os.path.join(HERE, "reload_config_workers", "grow_on_file.py")
GROW_HELLO = os.path.join(HERE, "reload_config_workers", "grow_hello.js")

MiB = 1 << 20
SAMPLE_S = 2  # musterd's sampling period


def grower(name="a", instances=2, **keys):
    """grow_on_file.py; its files go to GROW_DIR (set by the caller in env)."""
    keys.setdefault("stop_timeout", "5s")  # a SIGKILL would be a long wait away
    return harness.app(name, harness.PYTHON, args=[GROW_ON_FILE], instances=instances, **keys)


def identities(workers):
    return [(w["instance"], w["id"], w["pid"]) for w in workers]


def memory_events(d, app="a"):
    return d.events(event="memory", app=app)


def wait_file(d, name, timeout=10):
    d.wait_for(lambda: os.path.exists(d.path(name)), timeout, f"file {name}")
    return d.read_file(name)


class TestCase(ns.TestCase):
    def assert_replaced(self, d, app, old, max_memory):
        """`old` (a worker dict) went over `max_memory`: a memory event names
        it, a newer worker took its slot before it left, and it left
        voluntarily. Returns (the memory event, the new worker)."""
        event = ns.wait_event(d, 2 * SAMPLE_S + 4, event="memory", app=app, id=old["id"])
        self.assertEqual(event["pid"], old["pid"], event)
        self.assertEqual(event["max_memory"], max_memory, event)
        self.assertGreater(event["rss_bytes"], max_memory, event)

        def replaced():
            now = [w for w in d.workers(app) if w["instance"] == old["instance"]]
            return now if len(now) == 1 and now[0]["id"] != old["id"] else None
        (new,) = d.wait_for(replaced, 10, f"slot {old['instance']} of {app} to get a new worker")
        self.assertGreater(new["id"], old["id"])
        d.wait_for(lambda: not harness.pid_alive(old["pid"]), 10, "the old worker to exit")

        # New worker first: it was forked (and ready) before the old one left.
        events = d.events(app=app)
        index = {}
        for i, e in enumerate(events):
            index.setdefault((e["event"], e.get("id")), i)
        self.assertLess(index[("memory", old["id"])], index[("fork", new["id"])])
        self.assertLess(index[("fork", new["id"])], index[("exit", old["id"])], events)
        (exit_event,) = [e for e in events if e["event"] == "exit" and e["id"] == old["id"]]
        # It finished on its own (exit code 0) or by the stop signal musterd
        # sends once its channel has closed (Node's worker.kill(): disconnect,
        # then SIGTERM; a Node worker without a SIGTERM handler may get it
        # before it has exited by itself), never by SIGKILL after stop_timeout.
        self.assertTrue(exit_event["voluntary"], exit_event)
        self.assertIn((exit_event["code"], exit_event["signal"]), [(0, None), (None, "SIGTERM")],
                      exit_event)
        # Not a crash: no restart counted, no backoff.
        self.assertEqual(d.app_status(app)["restarts"], 0)
        self.assertEqual(d.events(event="restart", app=app), [])
        d.wait_log("over max_memory")
        return event, new


class PlainWorker(TestCase):
    def test_a_worker_over_max_memory_is_replaced_and_one_below_is_left_alone(self):
        d = self.daemon()
        d.start(grower(max_memory="30MiB", env={"GROW_DIR": "."}))
        before = d.wait_workers("a", 2)
        for w in before:
            wait_file(d, f"started-{w['id']}")
            self.assertLess(w["rss_bytes"], 30 * MiB, w)

        # Below the limit: nothing happens over a few sampling periods.
        d.holds(lambda: identities(d.workers("a")) == identities(before) and
                not memory_events(d), 2 * SAMPLE_S + 0.5,
                "workers below max_memory to be left alone")

        grows, stays = before
        d.write_file(f"grow-{grows['id']}", "")
        rss = int(wait_file(d, f"grown-{grows['id']}"))
        self.assertGreater(rss, 30 * MiB)
        event, new = self.assert_replaced(d, "a", grows, 30 * MiB)
        # The old worker was asked to stop with its stop_signal (SIGTERM).
        self.assertEqual(d.read_file(f"stopped-{grows['id']}"), "SIGTERM\n")
        wait_file(d, f"started-{new['id']}")

        # The worker below the limit, and the replacement, stay; one event in all.
        d.holds(lambda: identities(d.workers("a")) == identities([new, stays]),
                SAMPLE_S + 0.5, "the other worker and the replacement to stay")
        self.assertEqual(len(memory_events(d)), 1, memory_events(d))
        self.assertFalse(os.path.exists(d.path(f"stopped-{stays['id']}")))
        self.assertEqual(d.app_status("a")["state"], "running")

    def test_max_memory_set_by_reload_config_applies_without_a_restart(self):
        d = self.daemon()
        d.start(grower(instances=1, env={"GROW_DIR": "."}))
        (before,) = d.wait_workers("a", 1)
        d.write_file(f"grow-{before['id']}", "")
        self.assertGreater(int(wait_file(d, f"grown-{before['id']}")), 30 * MiB)
        # No limit: a big worker is left alone.
        d.holds(lambda: identities(d.workers("a")) == identities([before]) and
                not memory_events(d), SAMPLE_S + 0.5, "a big worker without a limit to stay")

        d.write_config(grower(instances=1, env={"GROW_DIR": "."}, max_memory="30MiB"))
        reply = d.request({"verb": "reload-config"})
        self.assertIs(reply.get("ok"), True, reply)
        self.assertEqual((reply["apps_updated"], reply["apps_reloaded"]), (["a"], []), reply)
        self.assertEqual(d.events(event="reload", app="a"), [])
        self.assert_replaced(d, "a", before, 30 * MiB)
        self.assertEqual(d.read_file(f"stopped-{before['id']}"), "SIGTERM\n")


class Sampling(TestCase):
    def test_a_workers_grown_rss_shows_in_status_and_metrics_within_one_sampling_period(self):
        # status and /metrics serve samples (docs/control-protocol.md: taken at
        # ready, then every 2 s), not a /proc read per request.
        d = self.daemon()
        d.start(grower(instances=1, env={"GROW_DIR": "."}), metrics_listen="127.0.0.1:0")
        (w,) = d.wait_workers("a", 1)
        wait_file(d, f"started-{w['id']}")
        self.assertGreater(d.workers("a")[0]["rss_bytes"], 0)
        d.write_file(f"grow-{w['id']}", "")
        rss = int(wait_file(d, f"grown-{w['id']}"))
        d.wait_for(lambda: d.workers("a")[0]["rss_bytes"] >= 0.9 * rss, SAMPLE_S + 1,
                   f"status to show the grown RSS ({rss} bytes)")
        m = parse(scrape(*metrics_address(d)), self)
        scraped = value(m, "muster_worker_resident_memory_bytes", app="a", worker=w["id"], slot=0)
        self.assertGreaterEqual(scraped, 0.9 * rss)


class NodeHttpWorker(TestCase):
    def test_a_node_worker_that_grows_on_request_is_replaced_with_zero_failed_requests(self):
        d = self.daemon()
        limit = 150 * MiB
        d.start(socket_table("web") +
                harness.app("web", ns.NODE, args=[GROW_HELLO], protocol="node", instances=2,
                            sockets=["web"], max_memory="150MiB", env={"GROW_MIB": "200"}))
        before = ns.wait_listening(d, "web", 2)
        for w in before:
            self.assertLess(w["rss_bytes"], limit, w)
        port = ns.bound_port(d, "web")

        stop = threading.Event()
        results = []

        def client():
            while not stop.is_set():
                start = time.monotonic()
                try:
                    outcome = ns.http_request(port, timeout=5)
                except Exception as e:  # noqa: BLE001 - counted as a failure
                    outcome = e
                results.append((start, time.monotonic(), outcome))
                time.sleep(0.01)  # light load

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            clients = [pool.submit(client) for _ in range(2)]
            try:
                harness.Poll.until(lambda: len(results) >= 20, 10, "20 requests")
                status, body = ns.http_request(port, "/grow", timeout=10)
                self.assertEqual(status, 200, body)
                grown_id = int(body.split()[1])
                (grows,) = [w for w in before if w["id"] == grown_id]
                (stays,) = [w for w in before if w["id"] != grown_id]
                started = time.monotonic()
                event, new = self.assert_replaced(d, "web", grows, limit)
                ended = time.monotonic()
                ns.wait_listening(d, "web", 2)
                count = len(results)
                harness.Poll.until(lambda: len(results) >= count + 20, 10, "20 more requests")
            finally:
                stop.set()
                for c in clients:
                    c.result(timeout=10)

        failed = [(round(s, 3), r) for s, _, r in results
                  if not (isinstance(r, tuple) and r[0] == 200)]
        self.assertEqual(failed, [], f"{len(failed)} of {len(results)} requests failed")
        during = [r for s, e, r in results if e >= started and s <= ended]
        self.assertTrue(during, "no request overlapped the replacement")
        served = {ns.worker_of(r[1]) for _, _, r in results}
        self.assertEqual(served, {grows["id"], stays["id"], new["id"]})
        self.assertEqual([(w["instance"], w["id"]) for w in d.workers("web")],
                         sorted([(new["instance"], new["id"]),
                                 (stays["instance"], stays["id"])]))
        self.assertEqual(len(memory_events(d, "web")), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
