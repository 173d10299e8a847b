"""affinity = "client-ip" under the real musterd (scheduler/affinity.h,
scheduler/round_robin.h): every connection of a client address goes to the
worker of one instance slot; a restarted worker gets its slot's clients back
(they wait for it, up to pending_timeout); a scale moves only the clients of
the added or removed slot. Clients are 127.0.0.2 to .41 (each its own
address on loopback). socket.io's proof is tests/compat/test_compat_socketio.py."""

import socket
import unittest

import harness
import node_support as ns

ADDRESSES = [f"127.0.0.{i}" for i in range(2, 42)]


class Affinity(ns.TestCase):
    timeout = 90

    def serve(self, d, port):
        d.start(ns.node_app("web", "hello.js", instances=2, affinity="client-ip",
                            pending_timeout="20s",
                            env={"HELLO_PORT": str(port), "HELLO_HOST": "127.0.0.1"}))
        ns.wait_listening(d, "web", 2)

    def worker_for(self, port, source, timeout=20):
        """The id of the worker that answers a request from address `source`."""
        with socket.create_connection(("127.0.0.1", port), timeout=timeout * harness.SLOWDOWN,
                                      source_address=(source, 0)) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return ns.worker_of(data.split(b"\r\n\r\n", 1)[1].decode())

    def slots(self, d, port, timeout=20):
        """{address: instance slot of the worker that served it}; each address
        asked twice, and served by the same worker both times."""
        instance = {w["id"]: w["instance"] for w in d.workers("web")}
        out = {}
        for a in ADDRESSES:
            first, second = self.worker_for(port, a, timeout), self.worker_for(port, a, timeout)
            self.assertEqual(first, second, f"{a} went to workers {first} and {second}")
            out[a] = instance[first]
        return out

    def test_each_client_address_sticks_to_one_slot_and_both_slots_serve(self):
        d = self.daemon()
        port = ns.free_port()
        self.serve(d, port)
        slots = self.slots(d, port)
        self.assertEqual(set(slots.values()), {0, 1}, slots)

    def test_a_restarted_worker_gets_its_slots_clients_back(self):
        d = self.daemon()
        port = ns.free_port()
        self.serve(d, port)
        before = self.slots(d, port)
        old = d.workers("web")[0]
        self.assertTrue(d.request({"verb": "kill", "id": old["id"], "signal": "SIGKILL"})["ok"])
        # Asked at once: the slot's connections wait for its replacement.
        client = next(a for a, s in before.items() if s == old["instance"])
        new_id = self.worker_for(port, client)
        self.assertNotEqual(new_id, old["id"])
        new = next(w for w in d.workers("web") if w["id"] == new_id)
        self.assertEqual(new["instance"], old["instance"])
        self.assertEqual(self.slots(d, port), before)

    def test_scaling_moves_only_the_clients_of_the_added_or_removed_slot(self):
        d = self.daemon()
        port = ns.free_port()
        self.serve(d, port)
        two = self.slots(d, port)
        self.assertTrue(d.request({"verb": "scale", "app": "web", "count": 3})["ok"])
        ns.wait_listening(d, "web", 3)
        three = self.slots(d, port)
        moved = [a for a in ADDRESSES if three[a] != two[a]]
        self.assertTrue(moved, "some clients go to the new slot")
        self.assertEqual({three[a] for a in moved}, {2}, f"moved only to slot 2: {three}")
        self.assertTrue(d.request({"verb": "scale", "app": "web", "count": 2})["ok"])
        ns.wait_listening(d, "web", 2)
        # At once: a removed slot's clients do not wait pending_timeout (20 s)
        # for a worker that will not come.
        self.assertEqual(self.slots(d, port, timeout=5), two)


if __name__ == "__main__":
    unittest.main()
