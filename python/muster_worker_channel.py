"""muster_worker_channel: the channel under muster_worker.Worker (import
muster_worker, not this): reading it with the fds passed along, splitting it
into lines, writing messages, and a request that waits for its reply.

Channel is a base of Worker; Worker's __init__ sets the state it uses (_sock,
_buf, _pos, _fds, _seq, _awaited, _reply) and Worker handles each line
(_dispatch) and the channel's end (_channel_lost, _protocol_error).
"""

import json
import select
import selectors
import socket

MAX_LINE = 1 << 20


class Channel:
    def process_channel(self):
        """Reads what the channel has (non-blocking) and dispatches complete messages."""
        if self._sock is None:
            return
        try:
            data, fds, _, _ = socket.recv_fds(self._sock, 65536, 16, socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        self._fds.extend(fds)  # Node: pendingHandle, given to the next NODE_HANDLE line
        if not data:
            return self._channel_lost()
        self._buf += data
        self._dispatch_buffered()

    def _dispatch_buffered(self):
        """Dispatches the complete lines read so far. Stops once an awaited reply is in,
        so that listen() registers its server before a newconn read in the same chunk
        is looked at (Node handles each message after the previous one's callback)."""
        while self._sock is not None and self._reply is None:
            nl = self._buf.find(b"\n", self._pos)
            if nl < 0:
                break
            if nl - self._pos > MAX_LINE:
                return self._protocol_error(f"message longer than {MAX_LINE} bytes")
            line = bytes(self._buf[self._pos:nl])
            self._pos = nl + 1
            self._dispatch(line)  # may re-enter (disconnect from a callback)
        if self._sock is None:
            return
        del self._buf[:self._pos]
        self._pos = 0
        if len(self._buf) > MAX_LINE:
            self._protocol_error(f"message longer than {MAX_LINE} bytes")

    def _write(self, obj):
        if self._sock is None:
            return False
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False)  # ASCII: lone surrogates too
        view = memoryview((line + "\n").encode("utf-8"))
        while view and self._sock is not None:
            try:
                view = view[self._sock.send(view):]
            except (BlockingIOError, InterruptedError):
                select.select([], [self._sock], [])
            except OSError:
                return False  # EPIPE and the like: the read side will see the channel go
        return self._sock is not None

    def _send_cluster(self, fields):
        seq = self._seq
        self._seq += 1
        self._write({"cmd": "NODE_CLUSTER", **fields, "seq": seq})
        return seq

    def _request(self, fields):
        """Sends a NODE_CLUSTER message, serves the channel until its reply: (reply, fd)."""
        self._awaited = self._send_cluster(fields)
        self._reply = None
        self._dispatch_buffered()  # called from a callback, the reply may be read already
        sel = selectors.PollSelector()
        try:
            while self._reply is None and self._sock is not None:
                if self._sock.fileno() not in sel.get_map():
                    sel.register(self._sock.fileno(), selectors.EVENT_READ)
                sel.select()
                self.process_channel()
        finally:
            sel.close()
        self._awaited = None
        reply, self._reply = self._reply, None
        return reply if reply is not None else (None, None)
