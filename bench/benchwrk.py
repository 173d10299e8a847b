"""wrk for muster's benchmark harness (split from benchlib.py; callers use it
as B.name): the command line, a bounded run with wrk's own CPU time, and its
report parsed. Python 3 standard library only."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time

WRK: list = []   # wrk processes running (benchlib.stop_all kills them)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out: str) -> dict:
    r: dict = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": None,
               "socket_errors": 0, "non2xx": 0}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M):
            r[key] = _ms(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        r["requests"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        r["socket_errors"] = sum(int(x) for x in m.groups())
        r["socket_errors_detail"] = dict(zip(("connect", "read", "write", "timeout"),
                                             (int(x) for x in m.groups())))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        r["non2xx"] = int(m.group(1))
    return r


def wrk_cmd(port: int, threads: int, conns: int, seconds: int, close: bool) -> list:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{int(seconds)}s", "--latency", "--timeout", "5s"]
    if close:
        cmd += ["-H", "Connection: close"]
    return cmd + [f"http://127.0.0.1:{port}/"]


def run_wrk(cmd: list, seconds: float) -> tuple:
    """Runs wrk; (parsed result incl. wrk's own CPU seconds, raw output)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        WRK.append(p)
        deadline = time.monotonic() + seconds + 30
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                WRK.remove(p)
                raise RuntimeError("wrk did not finish in time")
            time.sleep(0.05)
        WRK.remove(p)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {stderr.strip()}")
    r = parse_wrk(stdout)
    r["wrk_cpu_s"] = round(ru.ru_utime + ru.ru_stime, 3)
    return r, stdout
