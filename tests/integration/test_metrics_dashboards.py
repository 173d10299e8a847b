"""The Grafana dashboard and the Prometheus alert rules in packaging/
(docs/metrics.md, "Dashboard and alerts") ask only for what musterd serves:
every metric named in their PromQL (the dashboard's panel targets and template
variables, the rules' exprs) is a family on a real musterd's /metrics with a
sample; its label matchers and grouping clauses name labels it has (exact
matches: values it takes); rate() and increase() get counters only. And both
files have the shape Grafana and Prometheus load."""

import json
import os
import re
import unittest

import yaml

import harness
import node_support as ns
from node_support import node_app, socket_table
from promql_support import (COUNTER_FUNCTIONS, GAUGE_FUNCTIONS, family_of, grafana_variable_query,
                            references)
from test_metrics import metrics_address, parse
from test_output_errors import scrape

PACKAGING = os.path.join(harness.HERE, "..", "..", "packaging")
DASHBOARD = os.path.join(PACKAGING, "grafana", "muster-dashboard.json")
ALERTS = os.path.join(PACKAGING, "prometheus", "muster-alerts.yml")
# Labels Prometheus gives every series it scrapes (the target's).
TARGET_LABELS = {"instance", "job"}
# Series Prometheus writes itself for each scrape; musterd does not serve them.
SCRAPE_SERIES = {"up"}
# The alerts issue 24 asks for.
REQUIRED_ALERTS = {"MusterDown", "MusterCrashLoop", "MusterAppFailed", "MusterOutputErrors",
                   "MusterConnectionsHeld", "MusterRestartRateHigh"}
DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def load_rules():
    with open(ALERTS) as f:
        return yaml.safe_load(f)


def panels(dashboard):
    """Every panel, those inside (collapsed) rows too."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard):
    """(where, PromQL, label or None) for each panel target and query variable."""
    out = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {target['refId']}", target["expr"], None))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            out.append((f"variable {variable['name']}", *grafana_variable_query(query)))
    return out


def rules(rule_file):
    return [rule for group in rule_file["groups"] for rule in group["rules"]]


def rule_queries(rule_file):
    return [(f"alert {rule['alert']}", rule["expr"], None) for rule in rules(rule_file)]


def labels_of(family):
    """{label: {values}} over the family's samples."""
    out = {}
    for key in family["samples"]:
        for label, value in key:
            out.setdefault(label, set()).add(value)
    return out


def problems(where, expr, label, families):
    """What in `expr` (and the variable's `label`) musterd does not serve, as
    messages naming `where`; [] if nothing."""
    found, grouping = references(expr)
    out, known_labels = [], set(TARGET_LABELS)
    for ref in found:
        if ref.name in SCRAPE_SERIES:
            continue
        name = family_of(ref.name, families)
        if name is None:
            out.append(f"{where}: {ref.name} is not on /metrics")
            continue
        family = families[name]
        labels = labels_of(family)
        known_labels |= labels.keys()
        if not family["samples"]:
            out.append(f"{where}: {ref.name} has no sample on /metrics")
        for matcher, op, value in ref.matchers:
            if matcher in TARGET_LABELS or matcher == "__name__":
                continue
            if matcher not in labels:
                out.append(f"{where}: {ref.name} has no label {matcher}")
            elif op == "=" and "$" not in value and value not in labels[matcher]:
                out.append(f"{where}: {ref.name}{{{matcher}}} is never {value!r}")
        kind = family["type"]
        if ref.function in COUNTER_FUNCTIONS and kind == "gauge":
            out.append(f"{where}: {ref.function}() of {ref.name}, a gauge")
        if ref.function in GAUGE_FUNCTIONS and kind == "counter":
            out.append(f"{where}: {ref.function}() of {ref.name}, a counter")
    for name in grouping + ([label] if label else []):
        if name not in known_labels | {"le"}:
            out.append(f"{where}: label {name} is on none of its metrics")
    return out


class Served(ns.TestCase):
    def families(self):
        """A real musterd's /metrics, parsed, once every family has samples:
        Node apps (per-app, per-worker and on-demand families), one with rr
        scheduling, one with relay = true (relay families). The relay app has
        one worker: hello.js echoes every message, so two would echo each
        other's ever deeper echoes."""
        d = self.daemon()
        d.start(socket_table("web") +
                node_app("web", "hello.js", instances=2, sockets=["web"], scheduling="rr") +
                node_app("chat", "hello.js", instances=1, relay=True),
                metrics_listen="127.0.0.1:0")
        ns.wait_listening(d, "web", 2)
        ns.wait_listening(d, "chat", 1)
        address = metrics_address(d)
        d.wait_for(lambda: all(f["samples"] for f in parse(scrape(*address), self).values()), 10,
                   "a sample in every family on /metrics")
        return parse(scrape(*address), self)

    def assert_served(self, queries):
        families = self.families()
        self.assertGreater(len(queries), 5)
        found = [p for where, expr, label in queries for p in problems(where, expr, label, families)]
        self.assertEqual(found, [], "the PromQL asks for what musterd does not serve")

    def test_every_metric_the_dashboard_queries_is_served(self):
        self.assert_served(dashboard_queries(load_dashboard()))

    def test_every_metric_the_alert_rules_query_is_served(self):
        self.assert_served(rule_queries(load_rules()))

    def test_the_check_reports_what_musterd_does_not_serve(self):
        families = self.families()
        cases = [
            ('sum by (app) (rate(muster_crashes_total{app=~"$app"}[5m]))', None, []),
            ('up{job="muster"} == 0', None, []),
            ("rate(muster_crash_total[5m])", None, ["muster_crash_total is not on /metrics"]),
            ("rate(muster_workers_ready[5m])", None,
             ["rate() of muster_workers_ready, a gauge"]),
            ("deriv(muster_restarts_total[5m])", None,
             ["deriv() of muster_restarts_total, a counter"]),
            ('muster_app_state{state="crashed"}', None,
             ["muster_app_state{state} is never 'crashed'"]),
            ('muster_workers{application="web"}', None,
             ["muster_workers has no label application"]),
            ("sum by (worker) (muster_app_instances)", None,
             ["label worker is on none of its metrics"]),
            ("muster_build_info", "app", ["label app is on none of its metrics"]),
        ]
        for expr, label, expected in cases:
            with self.subTest(expr=expr):
                self.assertEqual(problems("q", expr, label, families),
                                 [f"q: {message}" for message in expected])


class Shape(unittest.TestCase):
    def test_every_alert_rule_has_what_alertmanager_shows(self):
        rule_file = load_rules()
        self.assertEqual(set(rule_file), {"groups"})
        for group in rule_file["groups"]:
            self.assertTrue(group.get("name"), group)
            self.assertTrue(group.get("rules"), group["name"])
        names = [rule.get("alert") for rule in rules(rule_file)]
        self.assertEqual(len(names), len(set(names)), f"an alert name repeats: {names}")
        self.assertLessEqual(REQUIRED_ALERTS, set(names))
        for rule in rules(rule_file):
            with self.subTest(alert=rule.get("alert")):
                self.assertLessEqual({"alert", "expr", "for", "labels", "annotations"}, set(rule))
                self.assertRegex(rule["alert"], r"^Muster[A-Za-z]+$")
                self.assertIsInstance(rule["expr"], str)
                self.assertRegex(rule["for"], DURATION)
                self.assertIn(rule["labels"].get("severity"), ("critical", "warning", "info"))
                self.assertTrue(rule["annotations"].get("summary"))
                self.assertTrue(rule["annotations"].get("description"))

    def test_the_dashboard_has_what_grafana_imports(self):
        dashboard = load_dashboard()
        self.assertEqual(dashboard["uid"], "muster")
        self.assertTrue(dashboard["title"])
        self.assertGreaterEqual(dashboard["schemaVersion"], 36)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        self.assertEqual((variables["datasource"]["type"], variables["datasource"]["query"]),
                         ("datasource", "prometheus"))
        self.assertEqual(grafana_variable_query(variables["app"]["query"]["query"])[1], "app")
        ids = [panel["id"] for panel in panels(dashboard)]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        for panel in panels(dashboard):
            with self.subTest(panel=panel.get("title")):
                self.assertTrue(panel["title"])
                position = panel["gridPos"]
                self.assertLessEqual(position["x"] + position["w"], 24)
                self.assertGreater(position["h"], 0)
                if panel["type"] == "row":
                    continue
                self.assertEqual(panel["datasource"], DATASOURCE)
                self.assertTrue(panel["targets"], "a panel without a query")
                ref_ids = [target["refId"] for target in panel["targets"]]
                self.assertEqual(len(ref_ids), len(set(ref_ids)))
                for target in panel["targets"]:
                    self.assertEqual(target["datasource"], DATASOURCE)
                    self.assertTrue(target["expr"].strip())


class Tokenizer(unittest.TestCase):
    def names(self, expr):
        return [(ref.name, ref.function) for ref in references(expr)[0]]

    def test_metric_names_are_told_from_functions_keywords_labels_and_variables(self):
        self.assertEqual(self.names('sum by (app, state) (a{app=~"$app", x="(b)"})'),
                         [("a", None)])
        self.assertEqual(self.names("rate(a[$__rate_interval]) * 60 > bool 1"), [("a", "rate")])
        self.assertEqual(self.names("a and on(i) b unless ignoring(x) group_left(y) c offset 5m"),
                         [("a", None), ("b", None), ("c", None)])
        self.assertEqual(self.names('label_replace(a{j="x"}, "d", "$1", "s", "(.*)")'),
                         [("a", "label_replace")])
        self.assertEqual(self.names('{__name__="a"} or vector(0)'), [("a", None)])
        self.assertEqual(self.names("sum(a) without (l) # b\n + c @ start()"),
                         [("a", "sum"), ("c", None)])
        self.assertEqual(self.names("1e3 * topk(5, a[5m:1m]) / ${b}"), [("a", "topk")])
        self.assertEqual(references("sum by (app) (a) / on (instance) group_right b")[1],
                         ["app", "instance"])

    def test_an_expression_it_cannot_follow_is_an_error(self):
        for expr in ("rate(a[5m]", "a{b=\"c}", "sum(a))", "a[5m", "{job=\"x\"}"):
            with self.subTest(expr=expr):
                self.assertRaises(ValueError, references, expr)

    def test_a_histograms_series_belong_to_its_family(self):
        families = {"h": {"type": "histogram"}, "g": {"type": "gauge"}}
        self.assertEqual([family_of(n, families) for n in ("h_bucket", "h_sum", "h_count", "h")],
                         ["h"] * 4)
        self.assertIsNone(family_of("g_sum", families))
        self.assertIsNone(family_of("x", families))

    def test_grafana_variable_queries_split_into_expression_and_label(self):
        self.assertEqual(grafana_variable_query('label_values(a{b="$c"}, app)'),
                         ('a{b="$c"}', "app"))
        self.assertEqual(grafana_variable_query("label_values(app)"), ("", "app"))
        self.assertEqual(grafana_variable_query("query_result(topk(3, a))"), ("topk(3, a)", None))


if __name__ == "__main__":
    unittest.main()
