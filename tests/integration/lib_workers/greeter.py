"""A worker on python/muster_worker.py that speaks first: at start it sends each
element of the JSON array in $GREETINGS (default: one {"greeting": ID}) with
Worker.send(), then echoes messages ({"echo": MESSAGE, "worker": ID}) until the
channel closes. It serves no sockets."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "python"))
import muster_worker  # noqa: E402


def main():
    w = muster_worker.Worker.from_env()
    w.on_message(lambda m: w.send({"echo": m, "worker": w.id}))
    w.online()
    greetings = json.loads(os.environ.get("GREETINGS") or "null")
    for greeting in greetings if greetings is not None else [{"greeting": w.id}]:
        w.send(greeting)
    w.run()  # returns once the channel is closed (disconnect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
