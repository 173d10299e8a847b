"""The simplest worker on python/muster_worker.py: Worker.run() serves the channel
(and, in shared mode, accepts); each connection gets one HTTP response and is
closed. Used by lib_fake_primary_test.py."""

import os
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import muster_worker  # noqa: E402


def main():
    w = muster_worker.Worker.from_env()
    body = f"run() worker {w.id}\n".encode()
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body

    def serve(sock):
        with sock:
            if select.select([sock], [], [], 5)[0] and sock.recv(4096):  # one small request
                sock.send(reply)

    w.on_connection(serve)
    w.on_message(lambda m: w.send({"echo": m}))
    w.online()
    w.listen("127.0.0.1", int(os.environ.get("PORT", "8000")))
    w.run()  # returns once the channel is closed (disconnect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
