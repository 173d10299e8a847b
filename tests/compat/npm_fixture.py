"""Real npm packages for the compatibility suite (socket.io and friends),
installed at test time from the npm registry into a cached fixture directory
(never at musterd's run time; bench/pm2.py installs PM2 the same way, with
npm's own cache beside it).

The cache is $MUSTER_NPM_FIXTURES, else ~/.cache/muster-test-npm; one folder
per package list, reinstalled (the packages' current versions) when older
than a week. A lock lets parallel test runs (one per Node version) share it.
If npm or the registry is not there, fixture() raises unittest.SkipTest with
the reason, so the test prints SKIPPED and says why.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import unittest

MAX_AGE = 7 * 24 * 3600


def cache_root():
    return os.environ.get("MUSTER_NPM_FIXTURES") or os.path.join(
        os.path.expanduser("~"), ".cache", "muster-test-npm")


def _fresh(prefix, packages):
    try:
        with open(os.path.join(prefix, "fixture.json")) as f:
            done = json.load(f)
    except (OSError, ValueError):
        return False
    return done.get("packages") == packages and time.time() - done.get("time", 0) < MAX_AGE


def _install(prefix, packages):
    npm = shutil.which("npm")
    if not npm:
        raise unittest.SkipTest("npm is not on PATH (scripts/setup-deps --test-nodes installs it)")
    staging = prefix + ".new"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    cmd = [npm, "install", "--prefix", staging, "--cache", os.path.join(cache_root(), "npm-cache"),
           "--no-audit", "--no-fund", "--no-save", "--loglevel=error"] + packages
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=240,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise unittest.SkipTest(f"npm install {' '.join(packages)} timed out (registry unreachable?)")
    if r.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise unittest.SkipTest(f"npm install {' '.join(packages)} failed (registry unreachable?): "
                                f"{(r.stderr or r.stdout).strip()[-400:]}")
    with open(os.path.join(staging, "fixture.json"), "w") as f:
        json.dump({"packages": packages, "time": time.time()}, f)
    shutil.rmtree(prefix, ignore_errors=True)
    os.rename(staging, prefix)


def fixture(packages):
    """The node_modules folder holding `packages` (npm specs), installed if
    the cache has no fresh copy."""
    packages = sorted(packages)
    key = hashlib.sha256(" ".join(packages).encode()).hexdigest()[:16]
    os.makedirs(cache_root(), exist_ok=True)
    prefix = os.path.join(cache_root(), key)
    with open(os.path.join(cache_root(), key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _fresh(prefix, packages):
            _install(prefix, packages)
    return os.path.join(prefix, "node_modules")


def version(node_modules, package):
    with open(os.path.join(node_modules, package, "package.json")) as f:
        return json.load(f)["version"]


SOCKET_IO = ["socket.io@latest", "@socket.io/cluster-adapter@latest", "socket.io-client@latest",
             "@socket.io/sticky@latest"]
