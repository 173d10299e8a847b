"""The metric names a PromQL expression reads, for the checks of the shipped
Grafana dashboard and Prometheus alert rules (test_metrics_dashboards.py).

Not a PromQL parser: a tokenizer that knows enough of the language to tell a
metric name from a function, an aggregation, a keyword, a label in a grouping
clause, a label matcher, a string, a number or duration, and a Grafana
variable ($app, ${app}, $__rate_interval). An expression it cannot follow
(an unclosed bracket or string) raises ValueError, so a typo fails the test
rather than hiding a name.
"""

import re
from dataclasses import dataclass, field

IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
# A number, or a duration such as 5m or 1h30m (offset 5m).
NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9.]+([eE][+-]?[0-9]+)?[a-zA-Z0-9]*")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*'
                     r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`)\s*(,|$)')
# Aggregation operators: followed by `by`/`without` or by their parenthesis.
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
# Words followed by a parenthesised list of label names, not an expression.
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
# Functions whose argument must be a counter, and ones that must not get one.
COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets"}
GAUGE_FUNCTIONS = {"delta", "idelta", "deriv", "predict_linear", "holt_winters",
                   "double_exponential_smoothing"}
# Series a histogram or summary family serves under other names.
FAMILY_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass
class Reference:
    """One metric a selector reads: its name, its label matchers
    [(label, op, value)] and the function whose parentheses hold it."""
    name: str
    matchers: list = field(default_factory=list)
    function: str = None


def _closing(expr, i, close):
    """The index just past the `close` that ends the bracket opened at expr[i],
    skipping strings inside it."""
    j = i + 1
    while j < len(expr):
        if expr[j] in "\"'`":
            j = _string_end(expr, j)
            continue
        if expr[j] == close:
            return j + 1
        j += 1
    raise ValueError(f"unclosed {expr[i]!r} at {i} in {expr!r}")


def _string_end(expr, i):
    quote, j = expr[i], i + 1
    while j < len(expr):
        if expr[j] == "\\" and quote != "`":
            j += 2
            continue
        if expr[j] == quote:
            return j + 1
        j += 1
    raise ValueError(f"unclosed string at {i} in {expr!r}")


def _matchers(text):
    """The label matchers of `{...}` (the braces included)."""
    inner, out, at = text[1:-1], [], 0
    while inner[at:].strip():
        m = MATCHER.match(inner, at)
        if not m:
            raise ValueError(f"not a label matcher: {inner[at:]!r} in {text!r}")
        out.append((m.group(1), m.group(2), m.group(3)[1:-1]))
        at = m.end()
    return out


def tokens(expr):
    """(kind, text) pairs: ident, number, string, range ([...]), matchers ({...}),
    variable, punct ( ) , and op."""
    i = 0
    while i < len(expr):
        c = expr[i]
        if c.isspace():
            i += 1
        elif c == "#":  # a comment, to the end of the line
            end = expr.find("\n", i)
            i = len(expr) if end < 0 else end
        elif c in "\"'`":
            end = _string_end(expr, i)
            yield "string", expr[i:end]
            i = end
        elif c in "[{":
            end = _closing(expr, i, "]" if c == "[" else "}")
            yield ("range" if c == "[" else "matchers"), expr[i:end]
            i = end
        elif c == "$":
            end = _closing(expr, i + 1, "}") if expr[i + 1:i + 2] == "{" else \
                IDENT.match(expr, i + 1).end()
            yield "variable", expr[i:end]
            i = end
        elif c.isdigit() or (c == "." and expr[i + 1:i + 2].isdigit()):
            m = NUMBER.match(expr, i)
            yield "number", m.group(0)
            i = m.end()
        elif IDENT.match(expr, i):
            m = IDENT.match(expr, i)
            yield "ident", m.group(0)
            i = m.end()
        else:
            yield ("punct" if c in "()," else "op"), c
            i += 1


def references(expr):
    """The metrics `expr` reads, as References, and the label names its
    grouping clauses (by, without, on, ignoring, group_left/right) name."""
    toks = list(tokens(expr))
    found, grouping, calls = [], [], []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        following = toks[i + 1] if i + 1 < len(toks) else (None, None)
        if kind == "ident" and text.lower() in GROUPING:
            if following == ("punct", "("):
                end = toks.index(("punct", ")"), i)
                grouping += [t for k, t in toks[i + 2:end] if k == "ident"]
                i = end
        elif kind == "ident" and following == ("punct", "(") and text.lower() not in KEYWORDS:
            calls.append(text)
            i += 1
        elif kind == "ident" and text.lower() not in KEYWORDS | AGGREGATIONS:
            matchers = _matchers(following[1]) if following[0] == "matchers" else []
            found.append(Reference(text, matchers, calls[-1] if calls else None))
            if following[0] == "matchers":
                i += 1
        elif kind == "matchers":  # a selector with no name before its braces
            matchers = _matchers(text)
            names = [v for label, op, v in matchers if label == "__name__" and op == "="]
            if not names:
                raise ValueError(f"a selector without a metric name: {text!r} in {expr!r}")
            found.append(Reference(names[0], matchers, calls[-1] if calls else None))
        elif (kind, text) == ("punct", "("):
            calls.append(None)
        elif (kind, text) == ("punct", ")"):
            if not calls:
                raise ValueError(f"unbalanced ')' in {expr!r}")
            calls.pop()
        i += 1
    if calls:
        raise ValueError(f"unclosed '(' in {expr!r}")
    return found, grouping


def grafana_variable_query(query):
    """A Grafana Prometheus variable query as (PromQL expression, label or None):
    label_values(EXPR, LABEL), query_result(EXPR), or a plain expression."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query, re.S)
    if m:
        return m.group(1), m.group(2)
    m = re.fullmatch(r"\s*label_values\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query)
    if m:  # the label's values over every series: no metric named
        return "", m.group(1)
    m = re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.S)
    return (m.group(1) if m else query), None


def family_of(name, families):
    """The family in `families` ({name: {"type": ...}}) that serves the series
    `name` (a histogram's x_bucket is x's), or None."""
    if name in families:
        return name
    for suffix in FAMILY_SUFFIXES:
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") in ("histogram", "summary"):
            return base
    return None
