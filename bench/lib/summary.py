#!/usr/bin/env python3
"""Summary of a bench/exec or bench/startup run (standard library only).

  summary.py RESULTS_DIR A/B [C/D ...]

Reads RESULTS_DIR/runs.csv (round,tool,seconds,exit,answered,hosts,check,...), prints for every tool the median
(min-max) wall seconds, and for each pair A/B both the ratio of the medians and the median of the per-round
ratios (each round runs both side by side, so a drift of the machine's speed cancels within the round). Writes
RESULTS_DIR/summary.txt and summary.json. Exit 1 when any run failed its check.
"""
import csv
import json
import os
import statistics
import sys


def stats(values):
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3), "n": len(values)}


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    results, pairs = argv[1], [p.split("/") for p in argv[2:]]
    rows = list(csv.DictReader(open(os.path.join(results, "runs.csv"))))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    by = {t: {int(r["round"]): float(r["seconds"]) for r in rows if r["tool"] == t} for t in tools}
    failed = [r for r in rows if r["check"] != "ok"]
    out = {"tools": {t: stats(list(by[t].values())) for t in tools if by[t]}, "ratios": {}, "checks": f"{len(rows) - len(failed)}/{len(rows)} ok"}
    for a, b in pairs:
        rounds = sorted(set(by[a]) & set(by[b]))
        if not rounds:
            continue
        per = [by[a][r] / by[b][r] for r in rounds]
        out["ratios"][f"{a}/{b}"] = {"of_medians": round(out["tools"][a]["median"] / out["tools"][b]["median"], 3), "per_round": stats(per)}
    lines = ["| tool | wall, median (min–max) | runs |", "|---|---:|---:|"]
    for t, s in out["tools"].items():
        lines.append(f"| {t} | {s['median']:.3f} s ({s['min']:.3f}–{s['max']:.3f}) | {s['n']} |")
    lines.append("")
    lines.append("| ratio | median A / median B | per round: median (min–max) |")
    lines.append("|---|---:|---:|")
    for k, v in out["ratios"].items():
        p = v["per_round"]
        lines.append(f"| {k} | {v['of_medians']:.3f} | {p['median']:.3f} ({p['min']:.3f}–{p['max']:.3f}) |")
    lines.append("")
    lines.append(f"checks: {out['checks']}" + ("" if not failed else "; FAILED: " + ", ".join(f"round {r['round']} {r['tool']}" for r in failed)))
    text = "\n".join(lines)
    print(text)
    open(os.path.join(results, "summary.txt"), "w").write(text + "\n")
    json.dump(out, open(os.path.join(results, "summary.json"), "w"), indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
