"""perf's samples for bench/profile: reading `perf script`'s stacks, naming
the syscall (or user-space function) each sample is in, and the report of
where the CPU goes. Python 3 standard library only."""

from __future__ import annotations

import collections
import os
import re
import subprocess

SYSCALL_WRAPPERS = {
    "__libc_sendmsg": "sendmsg", "sendmsg": "sendmsg", "__sendmsg": "sendmsg",
    "__libc_recvmsg": "recvmsg", "recvmsg": "recvmsg", "__recvmsg": "recvmsg",
    "accept4": "accept4", "__libc_accept4": "accept4",
    "__close": "close", "close": "close", "__libc_close": "close", "__close_nocancel": "close",
    "epoll_wait": "epoll_wait", "__epoll_wait": "epoll_wait", "epoll_pwait": "epoll_wait",
    "epoll_ctl": "epoll_ctl", "__GI_epoll_ctl": "epoll_ctl",
    "__libc_write": "write", "write": "write", "__write": "write",
    "__libc_read": "read", "read": "read", "__read": "read",
    "fcntl": "fcntl", "__libc_fcntl64": "fcntl",
    "writev": "writev", "__writev": "writev", "shutdown": "shutdown",
    "setsockopt": "setsockopt", "getsockname": "getsockname", "getpeername": "getpeername",
    "ioctl": "ioctl", "__ioctl": "ioctl", "poll": "poll", "__poll": "poll",
}
PHASE = {
    "accept4": "accept4: take the connection from the listen queue",
    "sendmsg": "sendmsg: newconn line + SCM_RIGHTS fd to the worker",
    "recvmsg": "recvmsg: the worker's NODE_HANDLE_ACK and {accepted} reply",
    "close": "close: the daemon's copy of the connection, after `accepted`",
    "epoll_wait": "epoll_wait: waiting, incl. going to sleep / waking up",
    "epoll_ctl": "epoll_ctl: asio re-arming a descriptor for each async_wait",
}
NOTABLE = [  # kernel frames worth naming inside the syscalls (inclusive)
    ("schedule", "context switch (this process sleeping / being preempted)"),
    ("try_to_wake_up", "waking the peer task"),
    ("sock_def_readable", "notifying the receiving socket (wakes the peer)"),
    ("tcp_close", "TCP teardown (daemon's close was the last reference)"),
    ("inet_csk_accept", "TCP accept proper"),
    ("unix_stream_sendmsg", "unix-socket send"),
    ("unix_stream_read_generic", "unix-socket receive"),
    ("scm_fp_dup", "SCM_RIGHTS: dup the fd into the message"),
    ("unix_attach_fds", "SCM_RIGHTS: attach fds"),
    ("scm_detach_fds", "SCM_RIGHTS: install received fds"),
    ("alloc_file", "new file for the accepted socket"),
    ("__fput", "final fput (file release)"),
    ("pvm_irq_enable", "irq re-enable (where a VM's timer samples land)"),
]


def classify(stack):
    """stack: [(sym, dso)] innermost first -> (syscall or None, first user function)."""
    sysc = None
    user_fn = None
    for sym, dso in stack:
        if "kernel" in dso:
            continue
        base = sym.removeprefix("__GI_")
        if sysc is None and base in SYSCALL_WRAPPERS:
            sysc = SYSCALL_WRAPPERS[base]
        if user_fn is None and sym not in ("[unknown]",):
            user_fn = sym
        if sysc and user_fn:
            break
    return sysc, user_fn


def perf_samples(data):
    p = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym,dso"],
                       capture_output=True, text=True)
    samples, cur = [], None
    for line in p.stdout.splitlines():
        if not line.strip():
            if cur is not None:
                samples.append(cur)
            cur = None
            continue
        if not line.startswith((" ", "\t")):
            cur = []
            continue
        m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m and cur is not None:
            cur.append((re.sub(r"\+0x[0-9a-f]+$", "", m.group(1)), m.group(2)))
    if cur:
        samples.append(cur)
    return samples


def attribute(samples):
    """Samples by syscall, user-space function (self), kernel outside any syscall,
    and the NOTABLE kernel frames by where they were."""
    by_sys = collections.Counter()
    user_self = collections.Counter()
    kernel_other = 0
    notable = {k: collections.Counter() for k, _ in NOTABLE}
    for st in samples:
        sysc, user_fn = classify(st)
        in_kernel = bool(st) and "kernel" in st[0][1]
        if sysc:
            by_sys[sysc] += 1
        elif in_kernel:
            kernel_other += 1
        else:
            user_self[user_fn or "[unknown]"] += 1
        ksyms = {sym for sym, dso in st if "kernel" in dso}
        for k, _ in NOTABLE:
            if k in ksyms:
                notable[k][sysc or ("kernel-other" if in_kernel else "user")] += 1
    return by_sys, user_self, kernel_other, notable


def report_samples(a, samples, per, say):
    """Where the CPU goes: `per` is the µs per connection a share stands for."""
    n = len(samples)
    by_sys, user_self, kernel_other, notable = attribute(samples)

    def row(label, k):
        say(f"  {k / n * 100:5.1f}%  {k / n * per:6.1f} µs  {label}")

    for s, k in by_sys.most_common():
        row(PHASE.get(s, f"{s} (syscall)") if a.target == "daemon" else f"{s} (syscall)", k)
    if kernel_other:
        row("kernel outside any syscall (interrupts, softirq, faults)", kernel_other)
    row("user space" + (" (musterd code, asio, libc, boost.json)" if a.target == "daemon" else ""),
        sum(user_self.values()))
    if a.target == "worker":
        dsos = collections.Counter()
        for st in samples:
            if st and "kernel" not in st[0][1] and not classify(st)[0]:
                dsos[os.path.basename(st[0][1])] += 1
        say("  user space by object: " + ", ".join(f"{d} {k / n * 100:.1f}%"
                                                   for d, k in dsos.most_common(5)))
    say("")
    say("user space by function (self):")
    for fn, k in user_self.most_common(15):
        say(f"  {k / n * 100:5.1f}%  {fn[:110]}")
    say("")
    say("notable kernel frames (inclusive; in which syscall):")
    for k, label in NOTABLE:
        c = notable[k]
        tot = sum(c.values())
        if tot:
            where = ", ".join(f"{s} {v / n * 100:.1f}%" for s, v in c.most_common(3))
            say(f"  {tot / n * 100:5.1f}%  {k:26} {label}  [{where}]")
