"""Issue 19 §5: what musterd makes sure of about its own process. Started
without fds 0-2 it puts /dev/null there, so its own sockets and its epoll
never take those numbers (its log on fd 2 went into an eventpoll); on a
kernel without the system calls it needs (close_range with
CLOSE_RANGE_CLOEXEC, pidfd_open, waitid P_PIDFD) it refuses to start, naming
them, instead of failing every spawn. An older kernel is simulated with a
seccomp filter that answers ENOSYS, as such a kernel does."""

import ctypes
import os
import platform
import struct
import subprocess

import harness

# seccomp: the syscall numbers are those of the generic table (x86_64 and
# aarch64 alike).
NR = {"pidfd_open": 434, "close_range": 436}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
ENOSYS = 38


def without_syscall(name):
    """preexec_fn: from here on `name` fails with ENOSYS, as on a kernel
    older than the one that added it."""
    def install():
        libc = ctypes.CDLL(None, use_errno=True)
        insns = [
            (0x20, 0, 0, 4),                         # ld arch
            (0x15, 0, 3, AUDIT_ARCH[platform.machine()]),  # not ours: allow
            (0x20, 0, 0, 0),                         # ld nr
            (0x15, 0, 1, NR[name]),
            (0x06, 0, 0, 0x00050000 | ENOSYS),       # SECCOMP_RET_ERRNO
            (0x06, 0, 0, 0x7FFF0000),                # SECCOMP_RET_ALLOW
        ]
        program = b"".join(struct.pack("HBBI", *i) for i in insns)
        buf = ctypes.create_string_buffer(program)

        class Fprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        fprog = Fprog(len(insns), ctypes.addressof(buf))
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
            raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")
    return install


class StandardFds(harness.TestCase):
    def test_started_without_fds_0_and_2_musterd_puts_dev_null_there(self):
        d = self.daemon()

        def close_0_and_2():
            os.close(0)
            os.close(2)
        d.start(harness.app("w", "/bin/sleep", args=["1000"]), preexec_fn=close_0_and_2)
        (w,) = d.wait_workers("w", 1)
        with d.connect() as c:  # a client's socket gets no standard number either
            self.assertTrue(c.request({"verb": "ping"})["pong"])
            fds = harness.open_fds(d.proc.pid)
        self.assertEqual(fds[0], "/dev/null")
        self.assertEqual(fds[1], d.log_path)
        self.assertEqual(fds[2], "/dev/null")
        self.assertEqual(harness.open_fds(w["pid"])[0], "/dev/null")


class MinimumKernel(harness.TestCase):
    def refused(self, syscall):
        d = self.daemon()
        d.write_config(harness.app("w", "/bin/sleep", args=["1000"]))
        try:
            r = subprocess.run([harness.MUSTERD, "-c", d.config_path], capture_output=True,
                               text=True, timeout=10, preexec_fn=without_syscall(syscall))
        except subprocess.TimeoutExpired:
            self.fail(f"musterd started without {syscall}")
        return r

    def test_without_close_range_cloexec_musterd_refuses_to_start_naming_it(self):
        r = self.refused("close_range")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("musterd needs Linux 5.11 or later", r.stderr)
        self.assertIn("close_range(CLOSE_RANGE_CLOEXEC)", r.stderr)
        self.assertIn(platform.release(), r.stderr)

    def test_without_pidfd_open_musterd_refuses_to_start_naming_it(self):
        r = self.refused("pidfd_open")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("pidfd_open, Linux 5.3", r.stderr)

    def test_the_check_needs_no_such_kernel(self):
        d = self.daemon()
        d.write_config(harness.app("w", "/bin/sleep", args=["1000"]))
        r = subprocess.run([harness.MUSTERD, "--check", "-c", d.config_path],
                           capture_output=True, text=True, timeout=10,
                           preexec_fn=without_syscall("close_range"))
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
