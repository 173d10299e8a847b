#!/usr/bin/env python3
"""A worker that misbehaves on its Node IPC channel (NODE_CHANNEL_FD), for
test_chaos.py. It speaks the framing by hand (newline-delimited JSON, fds by
SCM_RIGHTS) and breaks it the way BAD_MODE says, after going online:

  fds-unasked        sends 20 fds, one per ordinary user message (no NODE_HANDLE)
  fds-burst          sends 40 fds on one message
  close-mid-message  writes half a message, closes the channel, lives on
  oversized          trickles one line of 2 MiB (no newline) in 64 KiB pieces
  deaf               never reads its channel (the daemon's queue to it grows)

Writes "online PID" to ./bad-PID when online, then sleeps until killed.
"""
import array
import json
import os
import socket
import time

fd = int(os.environ["NODE_CHANNEL_FD"])
chan = socket.socket(fileno=fd)
mode = os.environ["BAD_MODE"]


def send(obj, fds=()):
    data = (json.dumps(obj) + "\n").encode()
    if fds:
        chan.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        chan.sendall(data)


send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
with open(f"bad-{os.getpid()}", "w") as f:
    f.write(f"online {os.getpid()}\n")

try:
    if mode == "fds-unasked":
        for i in range(20):
            r, w = os.pipe()
            send({"unasked": i}, [r])
            os.close(r)
            os.close(w)
    elif mode == "fds-burst":
        pipes = [os.pipe() for _ in range(20)]
        send({"burst": True}, [p for pair in pipes for p in pair])
    elif mode == "close-mid-message":
        chan.sendall(b'{"cmd":"NODE_CLUSTER","act":"lis')
        chan.close()
    elif mode == "oversized":
        for _ in range(32):
            chan.sendall(b"x" * 65536)
    elif mode == "deaf":
        pass  # says nothing more and reads nothing
except OSError:
    pass  # the daemon may hang up before we finish: that is the point
while True:
    time.sleep(60)
