#!/usr/bin/python3
"""Draws bench/fairness.png from bench/fairness.json (bench/fairness calls it).

    /usr/bin/python3 bench/fairness_chart.py [fairness.json [fairness.png]]

One panel per client count; per configuration four bars, the busiest to the
least busy worker's share of the connections (median over rounds, whiskers:
min-max over rounds), and a line at the fair 25%. Needs matplotlib: Debian's
python3-matplotlib for /usr/bin/python3 (apt-get install
--no-install-recommends python3-matplotlib).
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COLORS = ["#1f4e79", "#2e75b6", "#7fb2e0", "#c9ddf0"]  # busiest .. least busy


def main(argv):
    src = argv[1] if len(argv) > 1 else os.path.join(HERE, "fairness.json")
    dst = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(src), "fairness.png")
    with open(src) as f:
        data = json.load(f)
    meta, summary = data["meta"], data["summary"]
    workers = meta.get("workers", 4)
    fair = 100 / workers
    panels = [c for c in (str(x) for x in meta["args"]["clients"]) if summary.get(c)]
    names = [n for n in meta["args"]["configs"] if any(n in summary[p] for p in panels)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(8, 1.15 * len(names) + 2), 3.6 * len(panels) + 0.8),
                             squeeze=False)
    width = 0.8 / workers
    top = max((v for p in panels for s in summary[p].values() for v in s["share_sorted_max_pct"]), default=50)
    for ax, panel in zip(axes[:, 0], panels):
        rows = summary[panel]
        for rank in range(workers):
            xs, ys, lo, hi = [], [], [], []
            for i, name in enumerate(names):
                v = rows.get(name)
                if not v:
                    continue
                xs.append(i - 0.4 + width * (rank + 0.5))
                ys.append(v["share_sorted_pct"][rank])
                lo.append(v["share_sorted_pct"][rank] - v["share_sorted_min_pct"][rank])
                hi.append(v["share_sorted_max_pct"][rank] - v["share_sorted_pct"][rank])
            label = ["busiest worker", "2nd", "3rd", "least busy"][rank] if workers == 4 else f"#{rank + 1}"
            ax.bar(xs, ys, width * 0.95, color=COLORS[rank % len(COLORS)], edgecolor="#333333",
                   linewidth=0.4, label=label,
                   yerr=[lo, hi], error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#555555"})
        ax.axhline(fair, color="#c00000", linewidth=1.2, linestyle="--", label=f"fair share ({fair:g}%)")
        for i, name in enumerate(names):
            v = rows.get(name)
            if v and v.get("max_min_ratio") is not None:
                ax.text(i, top * 1.04, f"×{v['max_min_ratio']:.2f}", ha="center", va="bottom", fontsize=7.5)
            if v and v.get("reuseport_not_per_slot"):
                ax.text(i, top * 0.97, "one shared\nsocket (!)", ha="center", va="top", fontsize=6.5,
                        color="#c00000")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n.replace("musterd-", "musterd\n").replace("node-", "node\n", 1)
                            if not n.startswith("musterd") else n.replace("musterd-", "musterd\n")
                            for n in names], fontsize=8)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("share of connections (%)")
        c = int(panel)
        ax.set_title(f"{c} concurrent client connection{'s' if c != 1 else ''}, one request per connection "
                     f"(median of {meta['args']['rounds']} rounds; whiskers: min–max; ×: median max/min)",
                     fontsize=9)
        ax.grid(axis="y", linewidth=0.3, alpha=0.6)
        ax.set_axisbelow(True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, ncol=workers + 1, loc="lower center", frameon=False)
    la = meta.get("loadavg_1m", {}).get("median")
    fig.suptitle(f"muster fairness: {workers} workers, per-worker share of new connections "
                 f"({meta['date']}, {meta['machine']['nproc']} CPUs"
                 + (f", load avg {la:.1f})" if la is not None else ")"), fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(dst, dpi=110)
    print(dst)


if __name__ == "__main__":
    main(sys.argv)
