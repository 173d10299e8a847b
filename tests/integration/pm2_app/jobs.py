"""The background worker of the PM2 example (ecosystem.config.js): it takes
`--queue NAME` and says every few seconds that it is alive, until stopped."""

import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--queue", default="default")
queue = parser.parse_args().queue
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
print(f"jobs: working on queue {queue} (pid {os.getpid()})", flush=True)
while True:
    time.sleep(5)
    print(f"jobs: queue {queue} idle", flush=True)
