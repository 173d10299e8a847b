"""socket.io in a cluster, with the real packages from npm (docs/compatibility.md,
"Relay between workers" and "Client affinity"): the app under its own Node
primary is the reference, musterd the subject.

- Relay: socket.io + @socket.io/cluster-adapter, 2 workers, websocket
  clients on both: io.fetchSockets() from any worker sees every client,
  io.emit() reaches every client, serverSideEmit with an ack gets the other
  worker's answer. Under Node that takes cluster-adapter's setupPrimary();
  under musterd relay = true. Without relay, each worker sees only its own.
- Affinity: 10 socket.io clients on HTTP long-polling (transports:
  ['polling']), each from its own address (127.0.0.2 to .11), through 2
  workers. Under Node's rr most fail (each request of a session may reach
  the other worker, which does not know the session); under
  @socket.io/sticky's primary and under musterd with affinity = "client-ip"
  all 10 connect and exchange messages.

The packages are installed into a cached fixture (npm_fixture.py); without
npm or the registry the tests are SKIPPED with the reason.
"""

import json
import os
import subprocess
import unittest

import compat_support as cs
import npm_fixture
from compat_support import harness, ns

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "socketio")
CLIENTS = 4   # websocket clients (relay)
POLLING = 10  # polling clients (affinity)


class SocketIo(cs.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node_modules = npm_fixture.fixture(npm_fixture.SOCKET_IO)
        print(f"\nsocket.io {npm_fixture.version(cls.node_modules, 'socket.io')}, "
              f"@socket.io/cluster-adapter "
              f"{npm_fixture.version(cls.node_modules, '@socket.io/cluster-adapter')}, "
              f"@socket.io/sticky {npm_fixture.version(cls.node_modules, '@socket.io/sticky')} "
              f"on node {subprocess.run([cs.NODE, '--version'], capture_output=True, text=True).stdout.strip()}")

    def env(self):
        return {"NODE_PATH": self.node_modules}

    def under_node(self, mode, port, script="worker.js"):
        p = self.node_primary(os.path.join(APP, script), instances=2, policy=mode,
                              args=[str(port)], env=self.env(),
                              primary=os.path.join(APP, "primary.js"))
        p.wait_events("listening", 2)
        return p

    def under_musterd(self, port, **keys):
        d = self.daemon()
        d.start(harness.app("chat", cs.NODE, args=[os.path.join(APP, "worker.js"), str(port)],
                            protocol="node", instances=2, env=self.env(), **keys))
        ns.wait_listening(d, "chat", 2)
        return d

    def clients(self, port, mode, n):
        env = dict(os.environ, **self.env())
        r = subprocess.run([cs.NODE, os.path.join(APP, "clients.js"), str(port), mode, str(n)],
                           capture_output=True, text=True, timeout=60 * harness.SLOWDOWN,
                           env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertNotIn("failed", result, result.get("failed"))
        return result


class Relay(SocketIo):
    def assert_one_cluster(self, result):
        """Every worker sees every client and the other worker answers."""
        self.assertEqual(len(set(result["clients"])), 2, f"clients on both workers: {result}")
        self.assertEqual(len({c["worker"] for c in result["checks"]}), 2, result)
        for check in result["checks"]:
            self.assertEqual(len(check["sockets"]), CLIENTS, f"fetchSockets() on {check}")
            self.assertIsInstance(check["acks"], list, f"serverSideEmit ack on {check}")
            self.assertEqual(len(check["acks"]), 1, f"the other worker's answer: {check}")
            self.assertNotEqual(check["acks"][0], check["worker"])
        self.assertEqual(result["received"], CLIENTS, "io.emit() reached every client")

    def test_reference_node_primary_with_cluster_adapter_setup_primary(self):
        port = ns.free_port()
        self.under_node("cluster-adapter", port)
        self.assert_one_cluster(self.clients(port, "relay", CLIENTS))

    def test_musterd_with_relay_true(self):
        port = ns.free_port()
        d = self.under_musterd(port, relay=True)
        self.assert_one_cluster(self.clients(port, "relay", CLIENTS))
        relay = d.status_entry("apps", "chat")["relay"]
        self.assertGreater(relay["relayed"], 0)
        self.assertEqual(relay["dropped"], 0)

    def test_musterd_without_relay_each_worker_sees_only_its_own_clients(self):
        port = ns.free_port()
        d = self.under_musterd(port)
        result = self.clients(port, "relay", CLIENTS)
        print(f"\nmusterd without relay: fetchSockets() saw "
              f"{[len(c['sockets']) for c in result['checks']]} of {CLIENTS} clients, "
              f"serverSideEmit acks {[c['acks'] for c in result['checks']]}, "
              f"io.emit() reached {result['received']} of {CLIENTS}")
        for check in result["checks"]:
            mine = result["clients"].count(check["worker"])
            self.assertEqual(len(check["sockets"]), mine, f"fetchSockets() on {check}")
        self.assertLess(result["received"], CLIENTS)
        # What happened is said once, with the way out.
        d.wait_log("needs relay = true")
        self.assertEqual(d.log_text().count("needs relay = true"), 1)


class BinaryRelay(SocketIo):
    """A Buffer broadcast from one worker (io.emit with binary data) reaches
    the clients of every worker intact: under Node with the adapter's
    setupPrimary() and serialization: 'advanced', under musterd with
    relay = true and serialization = "advanced"."""

    def assert_intact_everywhere(self, result):
        self.assertEqual(len(set(result["clients"])), 2, f"clients on both workers: {result}")
        self.assertEqual(result["intact"], CLIENTS, result)

    def test_reference_node_primary_advanced_serialization(self):
        port = ns.free_port()
        self.under_node("cluster-adapter-advanced", port)
        self.assert_intact_everywhere(self.clients(port, "binary", CLIENTS))

    def test_musterd_with_relay_and_advanced_serialization(self):
        port = ns.free_port()
        d = self.under_musterd(port, relay=True, serialization="advanced")
        self.assert_intact_everywhere(self.clients(port, "binary", CLIENTS))
        self.assertGreater(d.status_entry("apps", "chat")["relay"]["relayed"], 0)


class Affinity(SocketIo):
    def test_reference_node_rr_fails_most_polling_clients(self):
        port = ns.free_port()
        self.under_node("plain", port)
        result = self.clients(port, "polling", POLLING)
        print(f"\nNode rr: {result['ok']} of {POLLING} polling clients worked")
        self.assertLessEqual(result["ok"], POLLING // 2, result)

    def test_reference_sticky_primary_serves_every_polling_client(self):
        # 10 of 10 alone; under a loaded box (CI's sanitizer run) 9 and once
        # 8 of 10: sticky's primary learns a session's worker from that worker
        # over IPC, and a client's next request may come first (a race of
        # sticky's own). What this reference shows is that sticky serves
        # them, so it gets three tries, each on a fresh primary.
        results = []
        for _ in range(3):
            port = ns.free_port()
            primary = self.under_node("sticky", port, script="sticky_worker.js")
            result = self.clients(port, "polling", POLLING)
            print(f"\n@socket.io/sticky: {result['ok']} of {POLLING} polling clients worked")
            results.append(result)
            if result["ok"] >= POLLING - 1:
                break
            primary.close()
        self.assertGreaterEqual(max(r["ok"] for r in results), POLLING - 1, results)

    def test_musterd_rr_without_affinity_fails_polling_clients(self):
        port = ns.free_port()
        self.under_musterd(port)
        result = self.clients(port, "polling", POLLING)
        print(f"\nmusterd rr: {result['ok']} of {POLLING} polling clients worked")
        self.assertLess(result["ok"], POLLING, result)

    def test_musterd_with_affinity_serves_every_polling_client_on_both_workers(self):
        port = ns.free_port()
        self.under_musterd(port, affinity="client-ip")
        result = self.clients(port, "polling", POLLING)
        self.assertEqual(result["ok"], POLLING, result)
        self.assertEqual(len(set(result["workers"])), 2, f"both workers served: {result}")


if __name__ == "__main__":
    unittest.main()
