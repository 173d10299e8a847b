"""A systemd-protocol worker that sends READY=1 at once, before musterd's
loop has heard from the spawner thread that the worker started (its pid):
the datagram waits for its worker instead of being dropped, so every such
worker becomes ready (daemon/network/early_notify.h). Before, a dropped
READY=1 left the worker `starting` for good (sd_notify sends it once) and
the app never ready."""

import harness
import systemd_support as sd
from systemd_support import sd_hello_app, socket_table

INSTANCES = 40
ROUNDS = 3


class EarlyReady(sd.TestCase):
    def test_every_fast_worker_becomes_ready(self):
        d = self.daemon()
        d.start(socket_table("web") + sd_hello_app(instances=INSTANCES, ready_timeout="60s"))
        sd.wait_ready(d, "web", INSTANCES, timeout=20 * harness.SLOWDOWN)
        # Each restart starts them all again, each a new chance of the race.
        for _ in range(ROUNDS):
            d.ctl("restart", "web")
            sd.wait_ready(d, "web", INSTANCES, timeout=20 * harness.SLOWDOWN)


if __name__ == "__main__":
    import unittest
    unittest.main()
