"""A fake Node cluster primary, for testing worker processes without musterd.

It does what Node's lib/internal/cluster/primary.js and round_robin_handle.js /
shared_handle.js do for one worker, in 'json' serialization mode, and records
every protocol rule the worker breaks in ``violations``:

- spawns the worker with NODE_CHANNEL_FD / NODE_UNIQUE_ID /
  NODE_CHANNEL_SERIALIZATION_MODE=json on one end of a socketpair;
- answers queryServer in mode "rr" (the reply carries key and sockname; the
  primary accepts on its own listening socket and hands each connection over as
  a NODE_HANDLE newconn, one at a time, waiting for the worker's answer), "shared"
  (the reply is a NODE_HANDLE envelope carrying a bound, not yet listening socket,
  as Node's SharedHandle sends it), or "error" (errno -98, no fd);
- like Node's sender, queues every further message while a sent handle awaits
  its NODE_HANDLE_ACK, and resends on NODE_HANDLE_NACK;
- acks exitedAfterDisconnect.

Checked rules: each line is non-blank valid JSON; the worker's NODE_CLUSTER seq
counts 0, 1, 2, ...; every NODE_HANDLE we send is ACKed; a newconn's answer comes
after its ACK; the worker sends no fds and no line longer than 1 MiB.

A background thread owns the reading; tests wait on ``messages`` with deadlines.
Stdlib only.
"""

import json
import os
import select
import socket
import subprocess
import threading
import time

MAX_LINE = 1 << 20


class FakePrimary:
    def __init__(self, argv, mode="rr", worker_id=7, env=None, host="127.0.0.1", cwd=None, auto_reply=True):
        self.argv, self.mode, self.worker_id = argv, mode, worker_id
        self.extra_env, self.cwd, self.auto_reply = env or {}, cwd, auto_reply
        # Bound before the worker starts, as musterd binds declared sockets; rr listens
        # now, shared leaves listen() to the worker (Node's SharedHandle does).
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.port = self.listener.getsockname()[1]
        if mode == "rr":
            self.listener.listen(128)
            self.listener.setblocking(False)
        self.messages = []        # every message from the worker, in order
        self.violations = []
        self.channel_closed = False
        self.newconns_sent = 0
        self.newconn_answers = {}  # our newconn seq -> accepted
        self._cond = threading.Condition()
        self._lock = threading.RLock()   # guards sending and the handle state
        self._seq = 0
        self._expected_worker_seq = 0
        self._buf = b""
        self._pending = None       # (line, fd) awaiting NODE_HANDLE_ACK
        self._queue = []           # (line, fd) held back until then
        self._acked_newconn = set()
        self._handles_sent = self._handles_acked = self._nacks = 0
        self._rr_key = None
        self._rr_busy = False      # the worker holds a newconn it has not answered
        self._conns = {}           # newconn seq -> our copy of the accepted socket
        self._stop = False
        self.proc = None

    # --- lifecycle ------------------------------------------------------
    def start(self, stdout=None, stderr=None):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update(NODE_CHANNEL_FD=str(theirs.fileno()), NODE_UNIQUE_ID=str(self.worker_id),
                   NODE_CHANNEL_SERIALIZATION_MODE="json", PORT=str(self.port), HOST="127.0.0.1")
        self.proc = subprocess.Popen(self.argv, env=env, pass_fds=[theirs.fileno()], cwd=self.cwd,
                                     stdout=stdout, stderr=stderr)
        theirs.close()
        self.sock = ours
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Kills the worker if it is still running and releases everything."""
        self._stop = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(10)
        self._thread.join(10)
        for s in list(self._conns.values()):
            s.close()
        self.sock.close()
        self.listener.close()

    def wait_exit(self, timeout=10):
        return self.proc.wait(timeout)

    # --- talking to the worker ------------------------------------------
    def send(self, message, fd=None):
        """Sends like Node's target._send: queued while a handle awaits its ACK."""
        line = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._pending is not None:
                self._queue.append((line, fd))
            else:
                self._transmit(line, fd)

    def send_cluster(self, fields, fd=None):
        with self._lock:
            seq = self._seq
            self._seq += 1
        message = {"cmd": "NODE_CLUSTER", **fields, "seq": seq}
        if fd is not None:
            message = {"cmd": "NODE_HANDLE", "type": "net.Native", "msg": message}
        self.send(message, fd)
        return seq

    def send_bytes(self, data, fd=None):
        """Raw bytes, no framing help (for framing tests)."""
        with self._lock:
            socket.send_fds(self.sock, [data], [fd] if fd is not None else [])

    def close_channel(self):
        with self._lock:
            self.sock.shutdown(socket.SHUT_RDWR)

    def disconnect(self):
        """Node's worker.disconnect() on the primary side."""
        return self.send_cluster({"act": "disconnect"})

    def wait_for(self, pred, timeout=10, what="a message"):
        """The first message (in order) matching pred; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.messages[-10:]}")
                self._cond.wait(left)

    def wait_act(self, act, timeout=10):
        return self.wait_for(lambda m: isinstance(m, dict) and m.get("act") == act, timeout, f"act {act!r}")

    def wait_closed(self, timeout=10):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.channel_closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out waiting for the worker to close the channel")
                self._cond.wait(left)

    def user_messages(self):
        with self._cond:
            return [m for m in self.messages if not _internal(m)]

    def check_rules(self):
        """Rules that can only be judged at the end."""
        out = list(self.violations)
        if self._handles_acked + self._nacks < self._handles_sent and not self.channel_closed:
            out.append(f"{self._handles_sent} handles sent but only {self._handles_acked} ACKed")
        return out

    # --- the reading thread ---------------------------------------------
    def _transmit(self, line, fd):
        if fd is not None:
            self._pending = (line, fd)
            self._handles_sent += 1
        try:
            socket.send_fds(self.sock, [line], [fd] if fd is not None else [])
        except OSError:
            pass  # the worker is gone; the reader notices

    def _loop(self):
        while not self._stop:
            watch = [self.sock]
            with self._lock:
                if self.mode == "rr" and self._rr_key is not None and not self._rr_busy:
                    watch.append(self.listener)
            try:
                ready, _, _ = select.select(watch, [], [], 0.1)
            except (OSError, ValueError):
                return
            if self.listener in ready:
                self._handoff()
            if self.sock in ready and not self._read():
                with self._cond:
                    self.channel_closed = True
                    self._cond.notify_all()
                return

    def _read(self):
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 65536, 4)
        except OSError:
            return False
        for fd in fds:
            os.close(fd)
            self.violations.append("the worker sent an fd")
        if not data:
            if self._buf:
                self.violations.append(f"unterminated last line: {self._buf[:100]!r}")
            return False
        self._buf += data
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self._on_line(line)
        if len(self._buf) > MAX_LINE:
            self.violations.append("line longer than 1 MiB")
        return True

    def _on_line(self, line):
        try:
            m = json.loads(line)
        except ValueError:
            self.violations.append(f"invalid JSON line: {line[:200]!r}")
            return
        if _internal(m) and m["cmd"] == "NODE_CLUSTER":
            if m.get("seq") != self._expected_worker_seq:
                self.violations.append(f"seq {m.get('seq')} where {self._expected_worker_seq} was due: {m}")
            self._expected_worker_seq = (m.get("seq") if isinstance(m.get("seq"), int) else 0) + 1
        with self._cond:
            self.messages.append(m)
            self._cond.notify_all()
        if _internal(m):
            self._on_internal(m)

    def _on_internal(self, m):
        cmd = m["cmd"]
        if cmd in ("NODE_HANDLE_ACK", "NODE_HANDLE_NACK"):
            with self._lock:
                if self._pending is None:
                    self.violations.append(f"{cmd} with no handle outstanding")
                    return
                line, fd = self._pending
                self._pending = None
                if cmd == "NODE_HANDLE_NACK":
                    self._nacks += 1
                    self._transmit(line, fd)  # send it again, as Node does
                    return
                self._handles_acked += 1
                inner = json.loads(line).get("msg", {})
                if inner.get("act") == "newconn":
                    self._acked_newconn.add(inner["seq"])
                queue, self._queue = self._queue, []
                for i, (qline, qfd) in enumerate(queue):
                    if self._pending is not None:
                        self._queue.extend(queue[i:])
                        break
                    self._transmit(qline, qfd)
            return
        if cmd != "NODE_CLUSTER":
            return
        act = m.get("act")
        if act == "queryServer" and self.auto_reply:
            self._answer_query(m)
        elif act == "exitedAfterDisconnect":
            self.send_cluster({"ack": m["seq"]})
        elif "accepted" in m:
            with self._lock:
                seq = m.get("ack")
                if seq not in self._acked_newconn:
                    self.violations.append(f"newconn {seq} answered before its NODE_HANDLE_ACK")
                self.newconn_answers[seq] = m["accepted"]
                conn = self._conns.pop(seq, None)
                if conn is not None:
                    conn.close()  # accepted or not, this fake does not redistribute
                self._rr_busy = False

    def _answer_query(self, m):
        key = f"{m.get('address')}:{m.get('port')}:{m.get('addressType')}::{m.get('index')}"
        base = {"key": key, "ack": m["seq"], "data": None}
        if self.mode == "error":
            self.send_cluster({"errno": -98, **base})
        elif self.mode == "shared":
            self.send_cluster({"errno": 0, **base}, fd=self.listener.fileno())
        else:
            sockname = {"address": "127.0.0.1", "family": "IPv4", "port": self.port}
            self.send_cluster({"errno": None, **base, "sockname": sockname})
            with self._lock:
                self._rr_key = key

    def _handoff(self):
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        with self._lock:
            self._rr_busy = True
            seq = self.send_cluster({"act": "newconn", "key": self._rr_key}, fd=conn.fileno())
            self._conns[seq] = conn
            self.newconns_sent += 1


def _internal(m):
    cmd = m.get("cmd") if isinstance(m, dict) else None
    return isinstance(cmd, str) and len(cmd) > 5 and cmd.startswith("NODE_")


# A Node cluster worker: what musterd's users run. Written out by the tests.
NODE_WORKER_JS = r"""
const cluster = require('cluster');
const http = require('http');
if (cluster.isPrimary) { console.error('expected to run as a cluster worker'); process.exit(3); }
const body = `Hello from worker ${cluster.worker.id}\n`;
http.createServer((req, res) => {
  res.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body)});
  res.end(body);
}).listen(+process.env.PORT, process.env.HOST || undefined);
process.on('message', (m) => {
  if (m === 'disconnect') cluster.worker.disconnect();
  else process.send({echo: m});
});
"""
