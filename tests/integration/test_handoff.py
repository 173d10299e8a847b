"""The round-robin hand-off's ownership of a connection: musterd lends the
accepted socket to the worker's channel without copying it, and keeps it
until the worker both acknowledged the handle and answered the newconn, in
whatever order a (misbehaving) worker sends the two."""

import socket

import harness
import node_support as ns
from node_support import socket_table

# A protocol = "node" worker that is not Node, on round-robin. For its first
# newconn it answers {accepted: true} *before* acknowledging the handle, and
# then NACKs it ("send it again") instead of ACKing: the daemon has closed its
# own copy by then (accepted), so only the channel's copy of the lent socket
# can be resent. The resent socket is answered over HTTP and ACKed; its peer
# address goes to ./resent. Every later newconn is ACKed, accepted and served.
ANSWERS_FIRST = ns.RAW_WORKER + f"""
def serve(fd):
    with socket.socket(fileno=fd) as s:
        s.setblocking(True)
        s.recv(65536)
        s.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\nConnection: close\\r\\n\\r\\nresent\\r\\n")
        return "%s:%d" % s.getpeername()
query = {{"cmd": "NODE_CLUSTER", "index": 0, "data": None, "address": None,
          "port": int(os.environ["PORT"]), "addressType": 4, "backlog": 511}}
send({{"cmd": "NODE_CLUSTER", "act": "online", "seq": 0}})
send(dict(query, act="queryServer", seq=1))
assert receive()["ack"] == 1
send(dict(query, act="listening", seq=2))
seq, first = 3, True
while True:
    message = receive()
    if message.get("cmd") != "NODE_HANDLE":
        continue
    fd = fds.pop(0)
    newconn = message["msg"]["seq"]
    if first:
        first = False
        os.close(fd)
        send({{"cmd": "NODE_CLUSTER", "ack": newconn, "accepted": True, "seq": seq}})
        seq += 1
        send({{"cmd": "NODE_HANDLE_NACK"}})
        message = receive()
        assert message["cmd"] == "NODE_HANDLE" and message["msg"]["seq"] == newconn, message
        note("resent", serve(fds.pop(0)))
        send({{"cmd": "NODE_HANDLE_ACK"}})
        continue
    send({{"cmd": "NODE_HANDLE_ACK"}})
    send({{"cmd": "NODE_CLUSTER", "ack": newconn, "accepted": True, "seq": seq}})
    seq += 1
    serve(fd)
"""


class AnswerBeforeAck(ns.TestCase):
    def test_a_newconn_answered_before_its_ack_and_then_nacked_is_resent_still_open(self):
        d = self.daemon()
        d.write_script("answers_first.py", ANSWERS_FIRST)
        port = ns.free_port()
        d.start(socket_table("web", f"127.0.0.1:{port}") +
                harness.app("web", "./answers_first.py", cwd=".", protocol="node",
                            sockets=["web"], restart="never", env={"PORT": str(port)}))
        (w,) = ns.wait_listening(d, "web", 1)
        base = ns.socket_fds(d.proc.pid)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
            mine = "%s:%d" % client.getsockname()
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer)
        self.assertTrue(answer.endswith(b"resent\r\n"), answer)
        self.assertEqual(d.wait_for(lambda: d.read_file("resent"), 5, "the resent handle"), mine)
        # The worker kept its channel, and later connections still go through it.
        self.assertNotIn("broke the IPC protocol", d.log_text())
        self.assertEqual([x["id"] for x in d.workers("web")], [w["id"]])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertTrue(client.recv(4096).startswith(b"HTTP/1.1 200"))
        # The channel's copy was closed at the ACK, the daemon's at the answer.
        d.wait_for(lambda: ns.socket_fds(d.proc.pid) <= base, 5, "no socket left open")
