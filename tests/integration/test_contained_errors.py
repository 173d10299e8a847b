"""Issue 19 §5: one bad completion never ends musterd. Out of memory (its
address space limited just above its size with RLIMIT_AS), a reload-config
adding an app of 2000 workers is refused with the reason and the new app
stopped, while musterd keeps serving and an untouched app keeps its workers.
Before: the reply was lost and musterd died of std::bad_alloc 13 ms later,
taking every worker with it (their parent-death signal). And a spawn that
found no address space for the child's stack is tried again once there is
some; before, the failed mapping was remembered and every later spawn failed."""

import resource

import harness

MARGIN = 4 << 20  # bytes of address space left to musterd


def vm_size(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def limit_address_space(test, d, margin):
    """musterd may grow by `margin` bytes from now; returns the undo."""
    if harness.SANITIZED:
        test.skipTest("AddressSanitizer reserves terabytes of address space: RLIMIT_AS "
                      "cannot be set just above musterd's size")
    hard = resource.prlimit(d.proc.pid, resource.RLIMIT_AS)[1]
    resource.prlimit(d.proc.pid, resource.RLIMIT_AS, (vm_size(d.proc.pid) + margin, hard))
    return lambda: resource.prlimit(d.proc.pid, resource.RLIMIT_AS, (hard, hard))


class OutOfMemory(harness.TestCase):
    timeout = 120

    def test_a_reload_config_beyond_the_address_space_is_refused_and_other_apps_run_on(self):
        d = self.daemon()
        calm = harness.app("calm", "/bin/sleep", args=["1000"], instances=2)
        # The event loop runs on a thread of its own (the main thread starts
        # the workers: daemon/launch/spawner.h), and glibc gives such a
        # thread an arena with 64 MiB of address space reserved up front:
        # RLIMIT_AS just above VmSize would not bind until that is used. One
        # arena, so that the loop's allocations meet the limit at once.
        d.start(calm, env={"MALLOC_ARENA_MAX": "1"})
        before = [(w["id"], w["pid"]) for w in d.wait_workers("calm", 2)]
        undo = limit_address_space(self, d, MARGIN)
        d.write_config(calm + harness.app("big", "/bin/sleep", args=["1000"], instances=2000))

        rc, out, err = d.ctl("reload-config", timeout=90)

        self.assertIsNone(d.proc.poll(), f"musterd died{d.log_tail()}")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("big: did not start", err)
        self.assertIn("out of memory", err)
        self.assertIn("the app was stopped", err)
        # Room again: musterd answers, and nothing of the untouched app changed.
        undo()
        self.assertTrue(d.request({"verb": "ping"})["pong"])
        self.assertEqual([(w["id"], w["pid"]) for w in d.wait_workers("calm", 2)], before)
        self.assertTrue(all(harness.pid_alive(pid) for _, pid in before))
        big = d.app_status("big")
        self.assertEqual(big["state"], "stopped")
        d.wait_for(lambda: not d.app_status("big")["workers"], 30, "big's workers to stop")
        self.assertNotIn("event handler failed", d.log_text())

    def test_a_spawn_without_address_space_for_its_stack_is_tried_again_later(self):
        d = self.daemon()
        d.start("")  # no worker yet: the child stack is mapped at the first spawn
        for _ in range(10):  # some freed heap to work with under the limit
            d.request({"verb": "status"})
        undo = limit_address_space(self, d, 0)
        d.write_config(harness.app("w", "/bin/sleep", args=["1000"], max_restarts=1000,
                                   restart_delay="100ms", restart_delay_max="100ms"))
        rc, out, err = d.ctl("reload-config")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("Cannot allocate memory", err)
        undo()
        d.wait_workers("w", 1, timeout=10)


if __name__ == "__main__":
    import unittest
    unittest.main()
