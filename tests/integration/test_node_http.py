"""Unmodified Node cluster HTTP workers served through musterd: round-robin and
shared-handle scheduling, listen(0), bind errors, and the scheduling default
taken from NODE_CLUSTER_SCHED_POLICY."""

import collections
import os
import signal
import socket
import ssl
import subprocess
import unittest

import node_support as ns
from node_support import node_app, socket_table

REQUESTS = 200


class RoundRobin(ns.TestCase):
    def start_hello(self, instances=3):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=instances, sockets=["web"],
                         scheduling="rr"))
        ns.wait_listening(d, "web", instances)
        return d, ns.bound_port(d, "web")

    def test_every_request_is_answered_and_every_worker_serves_some(self):
        d, port = self.start_hello(instances=3)
        results = ns.get_many(port, REQUESTS, concurrency=8)
        self.assertEqual(ns.failures(results), [])
        served = collections.Counter(ns.worker_of(b) for b in ns.answered(results))
        ids = {w["id"] for w in d.workers("web")}
        self.assertEqual(set(served), ids, f"per-worker share {dict(served)}")
        self.assertEqual(sum(served.values()), REQUESTS)

    def test_status_connections_count_what_each_worker_served(self):
        d, port = self.start_hello(instances=3)
        results = ns.get_many(port, REQUESTS, concurrency=8)
        self.assertEqual(ns.failures(results), [])
        served = collections.Counter(ns.worker_of(b) for b in ns.answered(results))
        # A worker answers its newconn before it serves the request, but the
        # answer may reach the daemon a moment after the client's response.
        d.wait_for(lambda: {w["id"]: w["connections"] for w in d.workers("web")} == served,
                   5, f"status connections to equal the per-worker share {dict(served)}")
        self.assertEqual(d.app_status("web")["scheduling"], "rr")

    def test_sequential_requests_go_round_the_workers(self):
        d, port = self.start_hello(instances=2)
        bodies = [ns.http_request(port)[1] for _ in range(20)]
        served = collections.Counter(ns.worker_of(b) for b in bodies)
        self.assertEqual(len(served), 2, f"per-worker share {dict(served)}")
        # Node's algorithm: a worker is free again once it answered its newconn,
        # and then queues behind the other free one.
        self.assertLessEqual(max(served.values()) - min(served.values()), 2,
                             f"per-worker share {dict(served)}")


    def test_a_worker_at_max_connections_refuses_and_the_connection_goes_to_another(self):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"], scheduling="rr",
                         env={"HELLO_MAX_CONNECTIONS": "1"}))
        workers = ns.wait_listening(d, "web", 2)
        port = ns.bound_port(d, "web")
        _, full = ns.hold_a_connection(self, d, port)
        (other,) = [w["id"] for w in workers if w["id"] != full]
        bodies = [ns.http_request(port)[1] for _ in range(10)]
        self.assertEqual({ns.worker_of(b) for b in bodies}, {other})
        by_id = {w["id"]: w["connections"] for w in d.workers("web")}
        self.assertEqual(by_id[full], 1, "the refused ones are not counted")

    def test_a_worker_that_closes_its_server_gets_no_more_connections(self):
        d, port = self.start_hello(instances=2)
        a, b = d.workers("web")
        self.assertEqual(d.ctl("send", a["id"], '{"cmd": "close"}')[0], 0)
        ns.wait_messages(d, "closed", 1, app="web")
        results = ns.get_many(port, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual({ns.worker_of(body) for body in ns.answered(results)}, {b["id"]})

    def test_a_worker_that_closes_its_server_and_listens_again_gets_connections_again(self):
        # On demand (no declared socket): the re-listen must find the same socket.
        d = self.daemon()
        d.start(node_app("web", "hello.js", instances=2, env={"HELLO_HOST": "127.0.0.1"}))
        a, b = ns.wait_listening(d, "web", 2)
        port = ns.wait_messages(d, "listening", 2, app="web")[0]["listening"]
        self.assertEqual(d.ctl("send", a["id"], '{"cmd": "close"}')[0], 0)
        ns.wait_messages(d, "closed", 1, app="web")
        self.assertEqual(d.ctl("send", a["id"], '{"cmd": "listen"}')[0], 0)
        reports = ns.wait_messages(d, "listening", 3, app="web")
        self.assertEqual(reports[-1], {"listening": port, "worker": a["id"]})
        results = ns.get_many(port, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual({ns.worker_of(body) for body in ns.answered(results)},
                         {a["id"], b["id"]})


class Tls(ns.TestCase):
    def test_https_workers_are_served_under_rr_and_share_one_set_of_ticket_keys(self):
        d = self.daemon()
        key, cert = d.path("key.pem"), d.path("cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=20)
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"], scheduling="rr",
                         env={"HELLO_TLS_KEY": key, "HELLO_TLS_CERT": cert}))
        ns.wait_listening(d, "web", 2)
        reports = ns.wait_messages(d, "listening", 2, app="web")
        # Node's primary gives every worker of a server the first one's keys.
        self.assertEqual(len({r["ticketKeys"] for r in reports}), 1, reports)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        port = ns.bound_port(d, "web")
        served = collections.Counter()
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(ns.request_bytes())
                    status, body = ns.parse_response(ns.read_all(s))
            self.assertEqual(status, 200)
            served[ns.worker_of(body)] += 1
        self.assertEqual(len(served), 2, f"per-worker share {dict(served)}")


class Shared(ns.TestCase):
    def test_every_request_is_answered_with_scheduling_none(self):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"], scheduling="none"))
        ns.wait_listening(d, "web", 2)
        self.assertEqual(d.app_status("web")["scheduling"], "none")
        results = ns.get_many(ns.bound_port(d, "web"), REQUESTS, concurrency=8)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len(ns.answered(results)), REQUESTS)

    def test_node_cluster_sched_policy_none_makes_apps_without_scheduling_shared(self):
        d = self.daemon()
        d.start(socket_table("web") + node_app("web", "hello.js", instances=2, sockets=["web"]),
                env={"NODE_CLUSTER_SCHED_POLICY": "none", "MUSTER_SCHED_POLICY": ""})
        ns.wait_listening(d, "web", 2)
        self.assertEqual(d.app_status("web")["scheduling"], "none")
        results = ns.get_many(ns.bound_port(d, "web"), 50, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        # The workers accepted for themselves: the daemon handed nothing out.
        self.assertEqual([w["connections"] for w in d.workers("web")], [0, 0])


class OnDemand(ns.TestCase):
    def test_listen_0_in_every_worker_gives_one_port(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js", instances=3, env={"HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 3)
        reported = ns.wait_messages(d, "listening", 3, app="web")
        ports = {m["listening"] for m in reported}
        self.assertEqual(len(ports), 1, f"workers report {reported}")
        port = ports.pop()
        self.assertNotEqual(port, 0)
        self.assertEqual({e["port"] for e in ns.events(d, event="listening", app="web")}, {port})
        on_demand = [s for s in d.status()["sockets"] if s.get("on_demand")]
        self.assertEqual(len(on_demand), 1, f"sockets: {d.status()['sockets']}")
        self.assertEqual(int(on_demand[0]["bound"].rsplit(":", 1)[1]), port)
        results = ns.get_many(port, 30, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len({ns.worker_of(b) for b in ns.answered(results)}), 3)

    def test_listen_0_in_every_worker_gives_one_port_with_scheduling_none(self):
        d = self.daemon()
        d.start(node_app("web", "hello.js", instances=2, scheduling="none",
                         env={"HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 2)
        reported = ns.wait_messages(d, "listening", 2, app="web")
        ports = {m["listening"] for m in reported}
        self.assertEqual(len(ports), 1, f"workers report {reported}")
        results = ns.get_many(ports.pop(), 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])

    def test_listen_on_an_undeclared_unix_path_binds_it_on_demand(self):
        d = self.daemon()
        path = d.path("hello.sock")
        d.start(node_app("web", "hello.js", instances=2, env={"HELLO_PATH": path}))
        ns.wait_listening(d, "web", 2)
        reported = ns.wait_messages(d, "listening", 2, app="web")
        self.assertEqual({m["listening"] for m in reported}, {path})
        results = ns.get_many(path, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len({ns.worker_of(b) for b in ns.answered(results)}), 2)

    def test_a_declared_unix_socket_serves_workers_listening_on_its_path(self):
        d = self.daemon()
        path = d.path("web.sock")
        d.start(socket_table("web", f"unix:{path}") +
                node_app("web", "hello.js", instances=2, sockets=["web"],
                         env={"HELLO_PATH": path}))
        ns.wait_listening(d, "web", 2)
        self.assertEqual([s["name"] for s in d.status()["sockets"]], ["web"])
        results = ns.get_many(path, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        self.assertEqual(len({ns.worker_of(b) for b in ns.answered(results)}), 2)

    def test_eaddrinuse_reaches_the_worker(self):
        d = self.daemon()
        # The port is taken (bound, not listening, no SO_REUSEADDR), so the
        # daemon's on-demand bind for the worker fails.
        holder = socket.socket()
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        d.start(node_app("web", "hello.js", restart="never",
                         env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1",
                              "HELLO_ERROR_EXIT": "17"}))
        (report,) = ns.wait_messages(d, "error", 1, app="web")
        self.assertEqual(report["error"], "EADDRINUSE")
        exit_event = ns.wait_event(d, event="exit", app="web", id=report["worker"])
        self.assertEqual(exit_event["code"], 17)
        self.assertEqual(ns.events(d, event="listening", app="web"), [])
        self.assertIn(f"127.0.0.1:{port}", d.log_text())

    def test_a_declared_socket_on_the_workers_port_is_used_not_a_new_bind(self):
        d = self.daemon()
        port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{port}") +
                node_app("web", "hello.js", instances=2, sockets=["web"],
                         env={"HELLO_PORT": str(port)}))
        ns.wait_listening(d, "web", 2)
        self.assertEqual([s["name"] for s in d.status()["sockets"]], ["web"])
        results = ns.get_many(port, 20, concurrency=4)
        self.assertEqual(ns.failures(results), [])


class Reuseport(ns.TestCase):
    def test_each_node_worker_listens_on_its_own_slots_socket(self):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"],
                         scheduling="reuseport"))
        workers = ns.wait_listening(d, "web", 2)
        names = sorted(s["name"] for s in d.status()["sockets"])
        self.assertEqual(names, ["web#0", "web#1"])  # no shared or on-demand socket
        ports = {ns.bound_port(d, n) for n in names}
        self.assertEqual(len(ports), 1, "both slot sockets share one port")
        inodes = [socket_inodes(w["pid"]) for w in workers]
        self.assertEqual(len(inodes[0]), 1, inodes)
        self.assertEqual(len(inodes[1]), 1, inodes)
        self.assertNotEqual(inodes[0], inodes[1], "each worker has its own socket")
        port = ports.pop()
        results = ns.get_many(port, 100, concurrency=4)
        self.assertEqual(ns.failures(results), [])
        served = collections.Counter(ns.worker_of(b) for b in ns.answered(results))
        self.assertEqual(set(served), {w["id"] for w in workers}, dict(served))

    def test_a_replacement_node_worker_gets_the_same_slot_socket(self):
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"],
                         scheduling="reuseport", restart="always"))
        before = ns.wait_listening(d, "web", 2)
        slot0 = socket_inodes(before[0]["pid"])
        os.kill(before[0]["pid"], signal.SIGKILL)
        d.wait_for(lambda: [w for w in d.workers("web")
                            if w["instance"] == 0 and w["id"] != before[0]["id"]
                            and w["state"] == "listening"], 15, "a new worker in slot 0")
        after = [w for w in d.workers("web") if w["instance"] == 0][0]
        self.assertEqual(socket_inodes(after["pid"]), slot0)


def socket_inodes(pid):
    """The listening TCP socket inodes process `pid` holds."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(fields[9])
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in listening:
            held.add(target[8:-1])
    return held


if __name__ == "__main__":
    unittest.main()
