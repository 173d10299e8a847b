"""What a client and a worker observe of a Node worker's listen() or dgram
bind(), for node_workers/listen.js run under musterd (test_node_listen.py) or
under a real Node primary (../compat/test_compat_listen.py,
test_compat_dgram.py): the addresses the workers report (server.address())
and which of an IPv4 and an IPv6 client get through.

Every wait here has a deadline; nothing sleeps and hopes.
"""

import json
import socket

import harness
import node_support as ns

CLIENTS = ("127.0.0.1", "::1")


def free_port():
    """A port free for TCP and UDP on every address, IPv4 and IPv6."""
    for _ in range(20):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                u.bind(("::", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free for both TCP and UDP")


def env(spec, workers=None):
    """listen.js's environment for LISTEN_SPEC `spec` (a dict)."""
    out = {"LISTEN_SPEC": json.dumps(spec)}
    if workers is not None:
        out["LISTEN_WORKERS"] = str(workers)
    return out


def outcome(message):
    """A worker's report, reduced to what must match: the address it listens
    on (its family too), or its error code."""
    if "error" in message:
        return ("error", message["error"])
    return ("listening", message["listening"]["address"], message["listening"]["family"])


def tcp_client(host, port, timeout=3):
    """"worker N" if a client on `host` is served, else why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout * harness.SLOWDOWN)
            s.connect((host, port))
            return harness.recv_until_eof(s).decode().strip() or "closed"
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return type(e).__name__


def udp_client(host, port, tries=5, timeout=0.5):
    """The answer ("worker N: ping") to a datagram sent from `host`'s family to
    `host`:PORT, or "no answer" after a few tries."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout * harness.SLOWDOWN)
        for _ in range(tries):
            try:
                s.sendto(b"ping", (host, port))
                data, _ = s.recvfrom(1024)
                return data.decode()
            except (TimeoutError, ConnectionRefusedError):
                continue
    return "no answer"


def served(answer):
    """A client's answer without the worker id: who served is not compared."""
    if answer.startswith("worker "):
        return "served"
    return answer


def clients(kind, port, hosts=CLIENTS):
    """{host: "served" / why not} for a client on each of `hosts`."""
    ask = tcp_client if kind == "tcp" else udp_client
    return {host: served(ask(host, port)) for host in hosts}


def observe(reports, kind, port):
    """What both sides compare: the workers' reports (sorted) and the clients."""
    return {"workers": sorted(outcome(m) for m in reports), "clients": clients(kind, port)}


def musterd_reports(d, app, count, timeout=15):
    """The listening / error reports of `count` workers of APP."""
    def enough():
        got = [m for m in ns.messages(d, app)
               if isinstance(m, dict) and ("listening" in m or "error" in m)]
        return got if len(got) >= count else None
    return d.wait_for(enough, timeout, f"{count} listen report(s) from {app}")


def under_musterd(test, spec, instances=2, scheduling="rr", sockets="", app_sockets=None):
    """Runs listen.js with `spec` under musterd; returns (daemon, observation)."""
    d = test.daemon()
    keys = {"instances": instances, "scheduling": scheduling, "env": env(spec)}
    if app_sockets is not None:
        keys["sockets"] = app_sockets
    d.start(sockets + ns.node_app("listen", "listen.js", **keys))
    reports = musterd_reports(d, "listen", instances)
    return d, observe(reports, spec["kind"], spec["port"])
