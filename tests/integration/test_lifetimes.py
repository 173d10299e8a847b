"""Issue 19 §5: completions never reach an object freed while the loop runs.
A round-robin handle is freed once its socket is removed and no worker uses
it; a worker may still answer a connection it was handed through it. An app
is freed once removed; a `restart ID` may still be waiting on it. Under
AddressSanitizer (scripts/sanitize) a use after free here fails loudly, and
with freed memory filled with garbage it crashed the ordinary build too.
(scripts/check-async-captures keeps new bare-`this` completions out.)"""

import socket
import subprocess

import harness
import node_support as ns
from node_support import socket_table

# A fake Node worker on round-robin. The first one listens, takes one
# connection (ACKs the handle but does not answer the newconn) and closes its
# server. Then reload-config removes the socket, which frees its handle (no
# worker is registered with it), and rolls the app: once the replacement has
# started (so the handle is gone), the first worker answers that newconn. The
# replacement says it is online only after that answer.
LATE_ANSWER = ns.RAW_WORKER + """
def wait_file(name):
    while not os.path.exists(name):
        time.sleep(0.01)
first = not os.path.exists("first")
note("first", "")
if first:
    send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
    port = int(os.environ["PORT"])
    query = {"cmd": "NODE_CLUSTER", "index": 0, "data": None, "address": "127.0.0.1",
             "port": port, "addressType": 4, "backlog": 511}
    send(dict(query, act="queryServer", seq=1))
    while receive().get("ack") != 1:
        pass
    send(dict(query, act="listening", seq=2))
    while True:
        message = receive()
        if message.get("cmd") == "NODE_HANDLE":
            break
    newconn, key = message["msg"]["seq"], message["msg"]["key"]
    send({"cmd": "NODE_HANDLE_ACK"})
    send({"cmd": "NODE_CLUSTER", "act": "close", "key": key, "seq": 3})
    note("closed", "")
    wait_file("second")
    send({"cmd": "NODE_CLUSTER", "ack": newconn, "accepted": True, "seq": 4})
    note("answered", "")
else:
    note("second", "")
    wait_file("answered")
    time.sleep(0.3)  # musterd reads the answer before this worker's online
    send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
while True:
    receive()
"""

# A fake Node worker whose first life comes online and later ones never do:
# a replacement that never gets ready.
FIRST_ONLY = ns.RAW_WORKER + """
if not os.path.exists("first"):
    note("first", "")
    send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
while True:
    receive()
"""

OTHER = harness.app("other", "/bin/sleep", args=["1000"])


class FreedWhileUsed(harness.TestCase):
    timeout = 60

    def test_an_answer_through_a_handle_freed_by_reload_config_is_dropped_safely(self):
        d = self.daemon()
        d.write_script("late.py", LATE_ANSWER)
        port = ns.free_port()

        def config(sockets):
            table = socket_table("old", f"127.0.0.1:{port}") if sockets else ""
            return table + OTHER + harness.app(
                "web", "./late.py", cwd=".", protocol="node", scheduling="rr", ready="online",
                sockets=sockets, stop_timeout="10s", env={"PORT": str(port)})
        # Freed memory filled with garbage (glibc's MALLOC_PERTURB_, with no
        # per-thread cache, whose blocks it skips): a use after free crashes
        # an ordinary build too, not only under ASan.
        d.start(config(["old"]), env={"MALLOC_PERTURB_": "165",
                                      "GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"})
        d.wait_for(lambda: d.app_status("web")["workers"][0]["state"] == "listening", 10,
                   "the worker listening")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            d.wait_for(lambda: d.read_file("closed", None) is not None, 10,
                       "the worker to take the connection and close its server")
            # The socket goes; the app's rolling reload retires the worker.
            d.write_config(config([]))
            rc, out, err = d.ctl("reload-config")  # over once the replacement is online
            self.assertEqual(rc, 0, out + err)
            self.assertIsNotNone(d.read_file("answered", None))
        # musterd read the answer, and lives on.
        self.assertTrue(d.wait_for(lambda: d.request({"verb": "ping"})["pong"], 5, "ping"))
        d.wait_for(lambda: len(d.app_status("web")["workers"]) == 1, 15, "the old worker gone")
        self.assertIsNone(d.proc.poll())
        self.assertNotIn("event handler failed", d.log_text())

    def test_a_restart_waiting_when_reload_config_removes_its_app_is_answered(self):
        d = self.daemon()
        d.write_script("first_only.py", FIRST_ONLY)
        web = harness.app("web", "./first_only.py", cwd=".", protocol="node", ready="online",
                          ready_timeout="60s")
        d.start(OTHER + web)
        (worker,) = d.wait_workers("web", 1)
        restart = subprocess.Popen([harness.MUSTERCTL, "-s", d.socket_path, "restart",
                                    str(worker["id"])], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: restart.poll() is None and restart.kill())
        d.wait_for(lambda: len(d.app_status("web")["workers"]) == 2, 10,
                   "the replacement started")
        d.write_config(OTHER)
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 0, out + err)
        out, err = restart.communicate(timeout=20)
        self.assertEqual(restart.returncode, 1, out + err)
        self.assertIn("failed", err)
        d.wait_for(lambda: all(a["name"] != "web" for a in d.status()["apps"]), 15,
                   "the removed app gone")
        self.assertTrue(d.request({"verb": "ping"})["pong"])
        self.assertIsNone(d.proc.poll())


if __name__ == "__main__":
    import unittest
    unittest.main()
