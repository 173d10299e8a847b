"""Helpers for the systemd-protocol and socket tests (test_systemd_*.py,
test_sockets_*.py): apps running build/sd_hello (libsystemd) or
systemd_workers/sd_server.py (stdlib Python), HTTP clients for TCP (IPv4 and
IPv6) and unix sockets, the notify socket, status and events.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import array
import json
import os
import socket

import harness
# The HTTP response reading is the same as for Node workers.
from client_support import (  # noqa: F401 (re-exported for the tests)
    OpenClients, answered, bound_port, connect, failures, get_many, http_request, parse_response,
    read_all, request_bytes, socket_status, socket_table, wait_event)

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS_DIR = os.path.join(HERE, "systemd_workers")
SD_SERVER = os.path.join(WORKERS_DIR, "sd_server.py")
SD_HELLO = os.path.join(harness.BUILD_DIR, "sd_hello")
# The plainest socket-activated server (blocking accept()), shared with the
# compatibility suite, which runs it under systemd-socket-activate too.
PLAIN_SERVER = os.path.join(HERE, "..", "compat", "workers", "plain_server.py")


# --- config ------------------------------------------------------------------

def sd_hello_app(name="web", sockets=("web",), env=None, **keys):
    """An [apps.NAME] table running build/sd_hello with protocol = "systemd"."""
    keys.setdefault("protocol", "systemd")
    return harness.app(name, SD_HELLO, sockets=list(sockets), env=env or {}, **keys)


def sd_server_app(name="web", sockets=("web",), env=None, **keys):
    """An [apps.NAME] table running systemd_workers/sd_server.py (by the
    tests' own Python) with protocol = "systemd"."""
    keys.setdefault("protocol", "systemd")
    return harness.app(name, harness.PYTHON, args=[SD_SERVER], sockets=list(sockets),
                       env=env or {}, **keys)


class TestCase(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A missing helper is an error, not a skip: a green run must mean tested.
        if not os.access(SD_HELLO, os.X_OK):
            raise RuntimeError(f"{SD_HELLO} is not built (scripts/build builds it)")


def has_ipv6_loopback():
    """Whether this machine can listen on ::1 (some containers cannot)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# --- status and events -------------------------------------------------------

def socket_names(d):
    return sorted(s["name"] for s in d.status()["sockets"])


def wait_ready(d, app, count=1, timeout=10):
    """Waits until APP has exactly `count` workers, all ready (READY=1 seen)
    and listening; returns them ordered by slot."""
    last = []

    def ready():
        last[:] = d.workers(app)
        ok = len(last) == count and all(w["ready"] and w["state"] == "listening" for w in last)
        return list(last) if ok else None
    try:
        return d.wait_for(ready, timeout, f"{count} ready worker(s) of {app}")
    except AssertionError as e:
        raise AssertionError(f"{e}\nlast workers of {app}: {last}") from None


def worker_by_id(d, app, worker_id):
    for w in d.workers(app):
        if w["id"] == worker_id:
            return w
    return None


def wait_replaced(d, app, old_id, instance=0, timeout=10, ready=False):
    """Waits until slot `instance` of APP has a worker other than `old_id`
    (with `ready`, a ready one); returns it."""
    def new_worker():
        for w in d.workers(app):
            if w["instance"] == instance and w["id"] != old_id and (w["ready"] or not ready):
                return w
        return None
    return d.wait_for(new_worker, timeout, f"a replacement of worker {old_id} of {app}")


# --- the notify socket -------------------------------------------------------

def notify_address(d, app="web"):
    """NOTIFY_SOCKET as a worker of APP sees it, in Python's form (an
    abstract address starts with a NUL byte instead of '@')."""
    pid = d.workers(app)[0]["pid"]
    address = harness.proc_environ(pid)["NOTIFY_SOCKET"]
    return "\0" + address[1:] if address.startswith("@") else address


def send_datagram(address, data, fds=()):
    """One datagram to the notify socket from this (test) process, which is
    no worker; with `fds`, passed along as SCM_RIGHTS."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        if fds:
            return s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                       array.array("i", fds).tobytes())], 0, address)
        return s.sendto(data, address)


def worker_notify(target, data, may_die=False):
    """Makes the sd_server.py worker behind `target` send `data` as one
    datagram to NOTIFY_SOCKET from its own pid (POST /notify). With
    `may_die`, the datagram may get the worker killed before it answers."""
    if may_die:
        with connect(target) as s:
            s.sendall(request_bytes("/notify", data))
            read_all(s)
        return None
    status, body = http_request(target, "/notify", body=data)
    assert status == 200 and body.startswith("sent "), (status, body)
    return int(body.split()[1])


# --- clients -----------------------------------------------------------------

def get_json(target, path="/info"):
    status, body = http_request(target, path)
    assert status == 200, (status, body)
    return json.loads(body)


def pid_of(body):
    """The pid in a hello response body ("hello from PID")."""
    prefix = "hello from "
    assert body.startswith(prefix), f"not a hello response: {body!r}"
    return int(body[len(prefix):].strip())
