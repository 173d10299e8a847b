"""The report of bench/run: RESULTS.md's generated section (between BEGIN and
END) and results.json. Python 3 standard library only."""

from __future__ import annotations

import json
import os

import benchlib as B

SHAPES = {"close": "new connection per request (`Connection: close`)",
          "keepalive": "keep-alive"}
BEGIN = "<!-- bench/run:begin (generated; edit outside these markers) -->"
END = "<!-- bench/run:end -->"


def fmt(x, spec, none="–"):
    return none if x is None else format(x, spec)


def shape_table(shape, rows, configs) -> list:
    """The lines of the section for one load shape: one row per configuration."""
    L = [""]
    L.append(f"### {SHAPES[shape]}")
    L.append("")
    L.append("| configuration | req/s | (min–max) | ×node-rr | paired | p99 ms | p50 ms | share % | dev med/max | conns dev med/max | primary CPU % | workers CPU % | primary µs/req | workers µs/req | wrk µs/req | primary RSS MiB | errors |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in configs:
        v = rows.get(c)
        if not v:
            continue
        share = "/".join(f"{x:.1f}" for x in v["share_pct"]) if v["share_pct"] else "–"
        if v["share_pct"] and v["share_source"] == "connections":
            share += " (conns)"
        L.append(
            f"| {c} | {v['rps']:.0f} | {v['rps_min']:.0f}–{v['rps_max']:.0f} | "
            f"{fmt(v['ratio_node_rr'], '.2f')} | {fmt(v['paired_ratio_node_rr'], '.2f')} | "
            f"{fmt(v['p99_ms'], '.2f')} | {fmt(v['p50_ms'], '.2f')} | {share} | "
            f"{fmt(v['share_dev_pct'], '.1f')}/{fmt(v['share_dev_max_pct'], '.1f')} | "
            f"{fmt(v.get('conn_share_dev_pct'), '.1f')}/{fmt(v['conn_share_dev_max_pct'], '.1f')} | "
            f"{fmt(v['primary_cpu_pct'], '.0f')} | {fmt(v['workers_cpu_pct'], '.0f')} | "
            f"{fmt(v['primary_us_per_req'], '.1f')} | {fmt(v['workers_us_per_req'], '.0f')} | "
            f"{fmt(v['wrk_us_per_req'], '.0f')} | "
            f"{fmt(v['primary_rss_kib'] and v['primary_rss_kib'] / 1024, '.1f')} | {v['errors']} |")
    return L


def markdown(meta, summary, tgts, configs, shapes) -> str:
    L = []
    a = meta["args"]
    L.append("## Results")
    L.append("")
    L.append(f"Command: `{meta['command']}`  ")
    L.append(f"Date: {meta['date']} (session took {meta['elapsed_s']:.0f} s)  ")
    m = meta["machine"]
    L.append(f"Binaries: `{meta['build_dir']}` (sha256 "
             + ", ".join(f"{k} {v}" for k, v in meta['binaries_sha256'].items()) + ")  ")
    L.append(f"Machine: {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}, Node {m['node']}, "
             f"{m['wrk']}, {m['musterd']}; repository checkout at {m['git']}  ")
    la = meta.get("loadavg_1m") or {}
    if la.get("median") is not None:
        L.append(f"1-minute load average at the end of each run: median {la['median']:.1f} "
                 f"(min {la['min']:.1f}, max {la['max']:.1f}) on {m['nproc']} CPUs; "
                 "the benchmark itself keeps about 3–5 tasks runnable; the rest is other work on the machine.  ")
    L.append(f"Load: `wrk -t{a['threads']} -c{a['connections']} -d{a['duration']:g}s --latency` "
             f"(+ `-H 'Connection: close'` for new-connection runs), {a['warmup']:g} s warm-up "
             f"before each run; {WORKERS_TXT}; {a['rounds']} interleaved rounds "
             f"(configuration order rotated every round, shape order alternated); "
             f"wrk, the primary and the workers share the same CPUs; {meta['cpu_group']}.  ")
    L.append("Configurations: " + "; ".join(f"`{c}`: {CONFIG_TXT[c]}" for c in configs)
             + (f" (PM2 {meta['pm2_version']}, installed from the npm registry for the run)"
                if meta.get("pm2_version") else "") + ".  ")
    for c, why in (meta.get("skipped") or {}).items():
        L.append(f"Skipped: `{c}` ({why}).  ")
    L.append("")
    L.append("Medians over rounds. *×node-rr* = median req/s ÷ node-rr's median req/s for the same "
             "shape (*paired*: median of the per-round ratios). *share* = each worker's share "
             "of the requests (Node workers count them) or, for the C++ worker, of the connections "
             "musterd handed out; *dev* = largest |share × workers − 1| (median / worst run); "
             "*conns dev* = the same for the connections each worker received (Node workers "
             "count them, any primary; C++ workers: musterd rr's counts), which under "
             "keep-alive is how the run's long connections were split. "
             "*primary CPU* = the daemon's (or Node primary's) utime+stime over the run, % of one "
             "core; *workers CPU* = both workers together; *µs/req* = that CPU time (and wrk's own, "
             "from wait4) divided by the requests wrk completed in the run. *RSS* = the primary's VmRSS at the end. "
             "*errors* = wrk socket errors + non-2xx responses, summed over rounds.")
    for shape in shapes:
        rows = summary.get(shape, {})
        if rows:
            L += shape_table(shape, rows, configs)
    L.append("")
    L.append("### Targets (issue 3)")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    for t in tgts:
        mark = "not measured" if t["met"] is None else ("**met**" if t["met"] else "**not met**")
        L.append(f"| {t['target']} | {t['value'] or '–'} | {mark} |")
    L.append("")
    L.append("Raw per-round numbers: `results.json` next to this file.")
    return "\n".join(L)


WORKERS_TXT = (f"{B.WORKERS} workers everywhere (node-single: 1 process), Node ones running "
               "bench/node_cluster.js")
CONFIG_TXT = {
    "node-single": "one plain Node http server process (node_cluster.js, BENCH_SINGLE=1), no primary",
    "node-rr": "Node's cluster primary, rr", "node-none": "Node's cluster primary, none",
    "musterd-rr-node": "musterd rr, Node workers", "musterd-none-node": "musterd none, Node workers",
    "musterd-reuseport-node": "musterd reuseport, Node workers",
    "musterd-rr-cpp": "musterd rr, muster-hello", "musterd-none-cpp": "musterd none, muster-hello",
    "musterd-reuseport-cpp": "musterd reuseport, muster-hello",
    "pm2-cluster": "PM2 cluster mode, 2 instances of node_cluster.js (PM2's daemon is the primary: Node's rr)",
    "c-floor": "the C floor dispatcher (bench/floor/dispatcher.c, --ack), muster-hello",
}


def write_results(out_dir, meta, runs, summary, tgts, configs, shapes):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "targets": tgts, "runs": runs}, f, indent=1)
        f.write("\n")
    body = markdown(meta, summary, tgts, configs, shapes)
    path = os.path.join(out_dir, "RESULTS.md")
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + BEGIN + "\n" + body + "\n" + END + tail
    else:
        text = ("# muster benchmark results\n\n" + BEGIN + "\n" + body + "\n" + END + "\n"
                + old)
    with open(path, "w") as f:
        f.write(text)
    return path, body
