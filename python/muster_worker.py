"""muster_worker: the worker side of Node's cluster IPC ('json' mode) for Python.

A program run by musterd (protocol = "node") talks to it exactly as a Node
``cluster`` worker talks to its primary. Standard library only (Python 3.9+,
Linux). The wire protocol is described in node-ipc-protocol.md; the behaviour
mirrors Node's lib/internal/cluster/child.js and lib/internal/child_process.js.

Usage::

    import muster_worker

    w = muster_worker.Worker.from_env()          # RuntimeError when not under musterd
    w.on_connection(lambda sock: serve(sock))    # a connected, non-blocking socket.socket
    w.on_message(lambda msg: w.send({"echo": msg}))
    w.on_disconnect(lambda: print("servers closed; finish in-flight work, then exit"))
    w.online()
    server = w.listen("127.0.0.1", 8000)         # Node's server.listen(8000, "127.0.0.1")
    w.run()                                      # or: watch w.watch_fds() in your own
                                                 # selector and call w.on_readable(fd)

Round-robin scheduling: musterd accepts and connections arrive through the
channel (``server.socket`` is None). Shared ("none"): ``server.socket`` is the
listening socket, and run()/on_readable() accept on it. Either way each
connection goes to the on_connection callback.

``listen`` raises ListenError (an OSError; ``.code`` is the negative errno Node
uses) when the primary could not bind. If the channel closes without a
disconnect, the worker exits with status 0 as a Node worker does ("the primary
went away") unless on_primary_gone is set; a protocol violation by the primary
prints a message and exits 1 (Node: SyntaxError) unless on_protocol_error is set.
Single-threaded: use a Worker from one thread. Callbacks may call send() and
disconnect().
"""

import json
import os
import selectors
import socket
import sys

# The channel's reads and writes (installed beside this module); MAX_LINE stays
# muster_worker.MAX_LINE.
from muster_worker_channel import MAX_LINE, Channel  # noqa: F401

__all__ = ["Worker", "Server", "ListenError"]


class ListenError(OSError):
    """The primary could not give us the socket; ``code`` is Node's negative errno."""

    def __init__(self, code, where):
        self.code = code
        super().__init__(-code, f"listen {where}: {os.strerror(-code)} ({code})")


class Server:
    """One server the primary granted. ``socket`` is None in round-robin mode."""

    def __init__(self, key, port, sock):
        self.key = key
        self.port = port
        self.socket = sock

    @property
    def round_robin(self):
        return self.socket is None


def is_internal(message):
    """Node's rule: a string ``cmd`` longer than "NODE_" that starts with it."""
    cmd = message.get("cmd") if isinstance(message, dict) else None
    return isinstance(cmd, str) and len(cmd) > 5 and cmd.startswith("NODE_")


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


class Worker(Channel):
    @classmethod
    def from_env(cls):
        fd, wid = os.environ.get("NODE_CHANNEL_FD"), os.environ.get("NODE_UNIQUE_ID")
        mode = os.environ.get("NODE_CHANNEL_SERIALIZATION_MODE") or "json"
        if fd is None or wid is None:
            raise RuntimeError("not running under musterd (or a Node cluster primary): "
                               "NODE_CHANNEL_FD and NODE_UNIQUE_ID are not set")
        if mode != "json":
            raise RuntimeError(f"unsupported NODE_CHANNEL_SERIALIZATION_MODE {mode!r} (only 'json')")
        try:
            os.fstat(int(fd))
        except (ValueError, OSError):
            raise RuntimeError(f"NODE_CHANNEL_FD is not an open fd: {fd!r}") from None
        # As Node does: children of this worker must not think they are workers too.
        for name in ("NODE_CHANNEL_FD", "NODE_UNIQUE_ID", "NODE_CHANNEL_SERIALIZATION_MODE"):
            os.environ.pop(name, None)
        return cls.from_fd(int(fd), int(wid))

    @classmethod
    def from_fd(cls, fd, worker_id):
        """Adopts an already connected channel end (tests, embedding)."""
        sock = socket.socket(fileno=fd)
        sock.set_inheritable(False)
        sock.setblocking(False)
        return cls(sock, worker_id)

    def __init__(self, sock, worker_id):
        self.id = worker_id
        self._sock = sock
        self._seq = 0  # Node's per-sender NODE_CLUSTER sequence number
        self._buf = bytearray()
        self._pos = 0
        self._fds = []  # received fds; the next NODE_HANDLE line takes the first
        self._servers = []
        self._indexes = {}
        self._leaving = False
        self._lingering_channel = None  # after the primary's disconnect: closed at exit
        self._awaited = None
        self._reply = None
        self._selector = None
        self._on_connection = self._on_message = self._on_disconnect = None
        self._on_primary_gone = self._on_protocol_error = None

    # --- callbacks -------------------------------------------------------
    def on_connection(self, cb):
        self._on_connection = cb

    def on_message(self, cb):
        self._on_message = cb

    def on_disconnect(self, cb):
        self._on_disconnect = cb

    def on_primary_gone(self, cb):
        self._on_primary_gone = cb

    def on_protocol_error(self, cb):
        self._on_protocol_error = cb

    @property
    def connected(self):
        return self._sock is not None

    def channel_fd(self):
        return self._sock.fileno() if self._sock else -1

    # --- the cluster conversation ---------------------------------------
    def online(self):
        self._send_cluster({"act": "online"})

    def listen(self, host=None, port=0, backlog=511, address_type=None):
        """Node's server.listen(port, host): asks the primary and waits for its answer.

        host None or "" means any address; a host containing "/" (or port < 0) is a
        unix socket path. Give IP literals: Node resolves names before asking."""
        address = host or None
        if address_type is None:
            address_type = -1 if port < 0 or "/" in (address or "") else 6 if ":" in (address or "") else 4
        if address_type == -1:
            port, address = -1, os.path.abspath(address)  # Node's path.resolve()
        index_key = f"{address}:{port}:{address_type}"
        index = self._indexes.get(index_key, 0)
        self._indexes[index_key] = index + 1
        query = {"act": "queryServer", "index": index, "data": None, "address": address,
                 "port": port, "addressType": address_type, "flags": 0, "backlog": backlog}
        reply, fd = self._request(dict(query))
        where = f"{address}:{port}" if address else str(port)
        if reply is None:
            raise ConnectionError(f"listen {where}: the channel closed before the primary answered")
        code = reply.get("errno") or 0
        sock, real_port = None, port
        if fd is not None:
            sock = socket.socket(fileno=fd)
            if not code:
                try:  # the primary may hand over a bound socket that is not yet listening
                    sock.listen(backlog)
                    sock.setblocking(False)
                    name = sock.getsockname()
                    real_port = name[1] if isinstance(name, tuple) else port
                except OSError as e:
                    code = -e.errno
        else:
            sockname = reply.get("sockname")
            if isinstance(sockname, dict) and isinstance(sockname.get("port"), int):
                real_port = sockname["port"]
                if not code and port > 0 and real_port != port:
                    code = -98  # Node's checkBindError: EADDRINUSE
        if code:
            if sock is not None:
                sock.close()
            self._dispatch_buffered()
            raise ListenError(code, where)
        server = Server(reply.get("key"), real_port, sock)
        self._servers.append(server)
        query.update(act="listening", port=real_port)
        self._send_cluster(query)
        self._dispatch_buffered()  # e.g. a newconn that came right behind the reply
        return server

    def close_server(self, server):
        """Node's server.close() for one server."""
        if server in self._servers:
            self._servers.remove(server)
            self._close_one(server)

    def send(self, message):
        """Node's process.send(): any JSON value except internal NODE_* messages.
        False if the channel is closed."""
        if is_internal(message):
            raise ValueError("messages whose cmd starts with NODE_ are Node's own")
        return self._write(message)

    def disconnect(self):
        """Node's cluster.worker.disconnect(): close servers, tell the primary this
        exit is voluntary, wait for its ack, close the channel, then on_disconnect."""
        if not self.connected or self._leaving:
            return
        self._leaving = True
        self._close_servers()
        self._request({"act": "exitedAfterDisconnect"})
        self._finish_disconnect()

    # --- event loop ------------------------------------------------------
    def watch_fds(self):
        """fds to watch for reading; call on_readable(fd) when one is readable."""
        if not self.connected:
            return []
        listening = [s.socket.fileno() for s in self._servers if s.socket and self._on_connection]
        return [self._sock.fileno()] + listening

    def on_readable(self, fd):
        if self._sock is not None and fd == self._sock.fileno():
            return self.process_channel()
        for s in self._servers:
            if s.socket is not None and s.socket.fileno() == fd:
                return self._accept_on(s.socket)

    def run(self):
        """Serves the channel (and shared listening sockets) until the channel closes."""
        sel = selectors.PollSelector()  # no kernel state: a closed and reused fd number is harmless
        try:
            while self.connected:
                want = set(self.watch_fds())
                for key in list(sel.get_map().values()):
                    if key.fd not in want:
                        sel.unregister(key.fd)
                for fd in want - set(sel.get_map()):
                    sel.register(fd, selectors.EVENT_READ)
                for key, _ in sel.select():
                    self.on_readable(key.fd)
        finally:
            sel.close()

    # --- internals -------------------------------------------------------
    def _dispatch(self, line):
        try:
            message = json.loads(line.decode("utf-8", "replace"), parse_constant=_reject_constant)
        except ValueError:
            return self._protocol_error(f"invalid JSON on the channel: {line[:200]!r}")
        if not is_internal(message):
            if self._on_message:
                self._on_message(message)
            return
        cmd = message["cmd"]
        if cmd == "NODE_CLUSTER":
            return self._cluster_message(message, None)
        if cmd != "NODE_HANDLE":
            return  # ACK/NACK: we never send handles
        if not self._fds:
            self._write({"cmd": "NODE_HANDLE_NACK"})  # Node: the handle got lost, send it again
            return
        fd = self._fds.pop(0)
        self._write({"cmd": "NODE_HANDLE_ACK"})  # always, before the inner message
        inner = message.get("msg")
        if isinstance(inner, dict) and inner.get("cmd") == "NODE_CLUSTER":
            self._cluster_message(inner, fd)
        else:
            os.close(fd)

    def _cluster_message(self, m, fd):
        act = m.get("act")
        if self._awaited is not None and m.get("ack") == self._awaited and self._reply is None:
            self._reply = (m, fd)
        elif act == "newconn":
            self._newconn(m, fd)
        elif act == "disconnect":
            if fd is not None:
                os.close(fd)
            if not self._leaving:
                self._leaving = True
                self._close_servers()
                # As Node's child.js: the channel closes once the work in
                # flight is done (here: at exit), since the primary sends
                # stop_signal when it closes.
                self._lingering_channel, self._sock = self._sock, None
                self._finish_disconnect()
        elif fd is not None:
            os.close(fd)

    def _newconn(self, m, fd):
        """Node's onconnection() in child.js: acks before handing the connection on."""
        known = any(s.round_robin and s.key == m.get("key") for s in self._servers)
        accepted = fd is not None and known and self._on_connection is not None and not self._leaving
        self._send_cluster({"ack": m.get("seq"), "accepted": accepted})
        if not accepted:
            if fd is not None:
                os.close(fd)
            return
        conn = socket.socket(fileno=fd)
        conn.setblocking(False)
        self._on_connection(conn)

    def _accept_on(self, listener):
        for _ in range(64):  # bounded, so the channel is not starved
            if self._on_connection is None:
                return
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return  # another worker took it: shared sockets wake everyone
            conn.setblocking(False)
            self._on_connection(conn)

    def _close_one(self, server):
        self._send_cluster({"act": "close", "key": server.key})
        if server.socket is not None:
            server.socket.close()

    def _close_servers(self):
        servers, self._servers = self._servers, []
        for s in servers:
            self._close_one(s)

    def _finish_disconnect(self):
        self._shut()
        if self._on_disconnect:
            self._on_disconnect()

    def _channel_lost(self):
        expected = self._leaving
        self._shut()
        if expected:
            return
        if self._on_primary_gone:
            return self._on_primary_gone()
        sys.exit(0)  # Node: "primary went away", exit at once with success

    def _protocol_error(self, what):
        self._shut()
        if self._on_protocol_error:
            return self._on_protocol_error(what)
        print(f"muster worker {self.id}: protocol error: {what}", file=sys.stderr)
        sys.exit(1)

    def _shut(self):
        for s in self._servers:
            if s.socket is not None:
                s.socket.close()
        self._servers = []
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buf = bytearray()
        self._pos = 0
