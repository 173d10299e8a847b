"""Issue 19 §5: a worker's numbers are never wrapped into range. A Node-protocol
worker's queryServer with a port, backlog, flags, index, addressType or fd
that is no integer a C int holds (2^32 + 80, 80.5, 1e300) is answered with
Node's EINVAL; before, 2^32 + PORT was taken for PORT and bound."""

import json
import socket

import harness
import node_support as ns

EINVAL = 22

# A fake Node worker: sends one queryServer per case (the case's fields over a
# valid query for $PORT) and writes each answer's errno to ./answers.
ASKS = ns.RAW_WORKER + """
port = int(os.environ["PORT"])
cases = json.loads(os.environ["CASES"])
send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
answers = []
for seq, case in enumerate(cases, 1):
    query = {"cmd": "NODE_CLUSTER", "act": "queryServer", "seq": seq, "index": 0, "data": None,
             "address": "127.0.0.1", "port": port, "addressType": 4, "backlog": 511}
    query.update(case)
    send(query)
    while True:
        message = receive()
        if message.get("cmd") == "NODE_HANDLE":  # a listening socket came with it
            send({"cmd": "NODE_HANDLE_ACK"})
            message = message["msg"]
        if message.get("cmd") == "NODE_CLUSTER" and message.get("ack") == seq:
            break
    answers.append(message.get("errno"))
note("answers", json.dumps(answers))
while True:
    receive()
"""


def port_taken(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class OutOfRangeNumbers(harness.TestCase):
    def ask(self, cases, port):
        d = self.daemon()
        d.write_script("asks.py", ASKS)
        d.start(harness.app("web", "./asks.py", cwd=".", protocol="node", scheduling="none",
                            restart="never",
                            env={"PORT": str(port), "CASES": json.dumps(cases)}))
        answers = json.loads(d.wait_for(lambda: d.read_file("answers"), 10, "the answers"))
        self.assertNotIn("broke the IPC protocol", d.log_text())
        return d, answers

    def test_numbers_beyond_an_int_or_with_a_fraction_are_refused_never_wrapped(self):
        port = ns.free_port()
        cases = [
            {"port": 2**32 + port},          # would be `port` cut to 32 bits
            {"port": port + 0.5},
            {"port": 1e300},
            {"port": -2**63},
            {"backlog": 2**32 + 1},          # would be a backlog of 1
            {"backlog": 1.5},
            {"flags": 2**40},
            {"index": 2**33},
            {"addressType": 2**32 + 4},      # would be IPv4
            {"fd": 2**64 - 1},               # would be fd -1, "none"
            {"fd": 3.5},
        ]
        d, answers = self.ask(cases, port)
        self.assertEqual(answers, [-EINVAL] * len(cases), list(zip(cases, answers)))
        self.assertFalse(port_taken(port), f"musterd bound port {port} for a wrapped number")
        self.assertFalse([s for s in d.status()["sockets"] if s.get("on_demand")])

    def test_the_same_worker_then_listens_with_valid_numbers(self):
        port = ns.free_port()
        d, answers = self.ask([{"port": 2**32 + port}, {"backlog": 2**31}, {}], port)
        self.assertEqual(answers, [-EINVAL, -EINVAL, None])
        self.assertTrue(port_taken(port))


if __name__ == "__main__":
    import unittest
    unittest.main()
