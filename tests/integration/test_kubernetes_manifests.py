"""The Kubernetes example in packaging/kubernetes/ (docs/kubernetes.md) is
consistent with what musterd serves: the manifests are well-formed YAML, the
Deployment mounts the ConfigMap where MUSTER_CONFIG points, its probes and
ports name what the ConfigMap's muster.toml listens on, its grace period
outlasts the drain, and the real musterd, run on that config, answers the
probe paths and `musterctl check` accepts it.

The image itself is not built here (no container runtime in CI), so the
config runs outside a container: on free loopback ports, with its control
socket in a temp dir, and with `exec` pointing at the muster-hello of the
build directory rather than the packaged /usr/libexec/muster/muster-hello
(absent unless the package is installed). `musterctl check` runs on that same
copy, because its host checks (the exec exists and is executable) are about
this machine; every other key is the ConfigMap's own."""

import http.client
import os
import re
import socket
import subprocess
import tomllib
import unittest

import yaml

import harness
from harness import BUILD_DIR, MUSTERCTL, toml_table
from node_support import free_port

MANIFESTS = os.path.join(harness.HERE, "..", "..", "packaging", "kubernetes")


def load(name):
    with open(os.path.join(MANIFESTS, name)) as f:
        documents = list(yaml.safe_load_all(f))
    assert len(documents) == 1, f"{name}: expected one document, got {len(documents)}"
    return documents[0]


def seconds(duration):
    """A muster duration ("20s", "500ms", "1m") in seconds."""
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)", duration).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60}[unit]


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def container(deployment):
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return c


def container_port(c, name_or_number):
    if isinstance(name_or_number, int):
        return name_or_number
    return {p["name"]: p["containerPort"] for p in c["ports"]}[name_or_number]


def muster_toml(configmap):
    return tomllib.loads(configmap["data"]["muster.toml"])


def as_toml(config):
    """The parsed config written back (tables of scalars, arrays, inline tables)."""
    text = toml_table("daemon", config["daemon"])
    for kind in ("sockets", "apps"):
        for name, keys in config.get(kind, {}).items():
            text += "\n" + toml_table(f"{kind}.{name}", keys)
    return text


def runnable_here(config, socket_path):
    """The ConfigMap's config on free loopback ports, with its control socket
    at socket_path and the built muster-hello as exec (see the docstring)."""
    web_port, metrics_port = free_port(), free_port()
    config["daemon"]["control_socket"] = socket_path
    config["daemon"]["metrics_listen"] = f"127.0.0.1:{metrics_port}"
    config["sockets"]["web"]["listen"] = f"127.0.0.1:{web_port}"
    hello = config["apps"]["hello"]
    hello["exec"] = os.path.join(BUILD_DIR, "muster-hello")
    hello["args"] = [str(web_port), "127.0.0.1"]
    return config, web_port, metrics_port


def get(port, path):
    """(status, body) of GET path, or None while nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    except OSError:
        return None
    finally:
        conn.close()


class Manifests(unittest.TestCase):
    def setUp(self):
        self.deployment = load("deployment.yaml")
        self.service = load("service.yaml")
        self.configmap = load("configmap.yaml")
        self.config = muster_toml(self.configmap)
        self.container = container(self.deployment)

    def test_each_manifest_is_one_well_formed_object_of_its_kind(self):
        self.assertEqual(self.deployment["kind"], "Deployment")
        self.assertEqual(self.service["kind"], "Service")
        self.assertEqual(self.configmap["kind"], "ConfigMap")

    def test_the_deployment_mounts_the_configmap_where_muster_config_points(self):
        env = {e["name"]: e["value"] for e in self.container["env"]}
        volumes = {v["name"]: v for v in self.deployment["spec"]["template"]["spec"]["volumes"]}
        mounts = [m for m in self.container["volumeMounts"]
                  if volumes[m["name"]].get("configMap", {}).get("name")
                  == self.configmap["metadata"]["name"]]
        self.assertEqual(len(mounts), 1)
        self.assertEqual(env["MUSTER_CONFIG"], mounts[0]["mountPath"] + "/muster.toml")

    def test_musterctl_in_the_pod_finds_the_control_socket_on_a_writable_volume(self):
        env = {e["name"]: e["value"] for e in self.container["env"]}
        socket_path = self.config["daemon"]["control_socket"]
        self.assertEqual(env["MUSTER_SOCKET"], socket_path)
        volumes = {v["name"]: v for v in self.deployment["spec"]["template"]["spec"]["volumes"]}
        writable = [m["mountPath"] for m in self.container["volumeMounts"]
                    if "emptyDir" in volumes[m["name"]]]
        # In a directory musterd makes itself: an emptyDir is 0777, which
        # musterd refuses for its control socket.
        self.assertIn(os.path.dirname(os.path.dirname(socket_path)), writable)

    def test_probes_ask_healthz_and_readyz_on_the_metrics_listen_port(self):
        metrics_port = port_of(self.config["daemon"]["metrics_listen"])
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get_ = self.container[probe]["httpGet"]
            self.assertEqual(get_["path"], path)
            self.assertEqual(container_port(self.container, get_["port"]), metrics_port)

    def test_the_service_targets_the_port_of_the_apps_socket(self):
        (port,) = self.service["spec"]["ports"]
        web_port = port_of(self.config["sockets"]["web"]["listen"])
        self.assertEqual(container_port(self.container, port["targetPort"]), web_port)
        self.assertEqual(self.service["spec"]["selector"],
                         self.deployment["spec"]["template"]["metadata"]["labels"])

    def test_the_grace_period_outlasts_the_prestop_sleep_and_the_drain(self):
        daemon = self.config["daemon"]
        longest_stop = max(seconds(a.get("stop_timeout", "5s"))
                           for a in self.config["apps"].values())
        self.assertGreaterEqual(seconds(daemon["shutdown_timeout"]), longest_stop)
        command = self.container["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(command[0], "sleep")
        grace = self.deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        self.assertGreater(grace, int(command[1]) + seconds(daemon["shutdown_timeout"]))


class ConfigMapUnderMusterd(harness.TestCase):
    def test_musterctl_check_accepts_the_configmaps_config(self):
        d = self.daemon()
        config, _, _ = runnable_here(muster_toml(load("configmap.yaml")), d.socket_path)
        path = d.write_file("muster.toml", as_toml(config))
        r = subprocess.run([MUSTERCTL, "check", path], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_musterd_on_the_configmaps_config_answers_the_probe_paths(self):
        d = self.daemon()
        config, web_port, metrics_port = runnable_here(
            muster_toml(load("configmap.yaml")), d.socket_path)
        d.write_file("muster.toml", as_toml(config))
        d.start()
        d.wait_log("metrics at http://")
        self.assertEqual(get(metrics_port, "/healthz"), (200, "ok\n"))
        d.wait_for(lambda: get(metrics_port, "/readyz") == (200, "ready\n"), 10,
                   "/readyz to answer 200 ready")
        with socket.create_connection(("127.0.0.1", web_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = harness.recv_until_eof(s)
        self.assertIn(b"Hello from worker", reply)


if __name__ == "__main__":
    unittest.main()
