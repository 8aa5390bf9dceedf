#!/usr/bin/env python3
"""Helpers of bench/upgrade/run (standard library only).

  bench.py files INVENTORY HOSTS WORKDIR       topology.yaml (Tug) and hosts.ini (Ansible) for the first HOSTS hosts
  bench.py check INVENTORY HOSTS PORT VERSION  every host's exporter on PORT reports node_exporter_build_info VERSION
  bench.py tug-run OUT.json STDOUT STDERR ...  one Tug run: its report, its phase timings and the overhead, as JSON
  bench.py ansible-run OUT.json LOG ...        one Ansible run: its recap and the time of each task (from its log_path)
  bench.py summary RESULTS_DIR                 the table of all runs (also written to RESULTS_DIR/summary.json)
"""
import concurrent.futures
import csv
import datetime
import json
import os
import re
import statistics
import sys
import urllib.request


def hosts_of(inventory, count):
    hosts = json.load(open(inventory))["hosts"][:count]
    if len(hosts) < count:
        sys.exit(f"bench: the testbed has {len(hosts)} hosts, {count} wanted")
    return hosts


def files(inventory, count, work):
    inv = json.load(open(inventory))
    hosts = hosts_of(inventory, count)
    # Tug: one cheap server instance per host (alertmanager) so that the monitoring agents, node_exporter among
    # them, land on every host; the versions are pinned so that only node_exporter moves.
    with open(os.path.join(work, "topology.yaml"), "w") as f:
        f.write("global:\n  user: tidb\n  deploy_dir: /tidb-deploy\n  data_dir: /tidb-data\n")
        f.write("monitored:\n  node_exporter_version: v1.1.2\n  blackbox_exporter_version: v0.23.0\n")
        f.write("component_versions:\n  alertmanager: v0.25.0\n")
        f.write("alertmanager_servers:\n")
        for h in hosts:
            f.write(f"  - host: {h['address']}\n")
    # Ansible: the same hosts, the same key, the testbed's pinned host keys.
    with open(os.path.join(work, "hosts.ini"), "w") as f:
        f.write("[nodes]\n")
        for h in hosts:
            f.write(f"{h['name']} ansible_host={h['address']} ansible_port={h['port']}\n")
        f.write("\n[nodes:vars]\nansible_user=root\n")
        f.write(f"ansible_ssh_private_key_file={inv['key']}\n")
        f.write(f"ansible_ssh_common_args='-o UserKnownHostsFile={inv['knownHosts']} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n")


def build_version(address, port):
    try:
        with urllib.request.urlopen(f"http://{address}:{port}/metrics", timeout=10) as r:
            body = r.read().decode("utf-8", "replace")
    except OSError as e:
        return f"unreachable ({e})"
    m = re.search(r'^node_exporter_build_info\{[^}]*\bversion="([^"]*)"', body, re.M)
    return m.group(1) if m else "no node_exporter_build_info"


def check(inventory, count, port, version):
    """Exit 0 when every host's exporter on PORT reports VERSION (Debian's 1.1.2 says "1.1.2+ds": prefix match)."""
    hosts = hosts_of(inventory, count)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda h: build_version(h["address"], port), hosts))
    bad = [(h["name"], v) for h, v in zip(hosts, found) if not re.match(re.escape(version) + r"($|\+)", v)]
    print(f"port {port}: {len(hosts) - len(bad)}/{len(hosts)} hosts report node_exporter {version}"
          + ("" if not bad else "; NOT: " + ", ".join(f"{n}={v}" for n, v in bad)))
    return 0 if not bad else 1


def parse_timings(report):
    """Tug's phase timings, from its JSON report's `timings` (fields of typed events, not text to scrape).

    The executor times "connect", each wave as phase "batch" (wave 0 is the staging of every host, reported here as the
    global phase "stage"), each instance's restart/switch/health/verify within its batch, and "total"."""
    timings = []
    for t in (report or {}).get("timings", []):
        phase, batch, instance, seconds = t.get("phase"), t.get("batch"), t.get("instance"), float(t.get("seconds", 0))
        if phase == "batch" and batch == 0:
            phase, batch = "stage", None
        timings.append({"phase": phase, "batch": batch, "instance": instance, "seconds": seconds})
    return timings


def tug_run(out, stdout, stderr, wall, exit_code, meta_json):
    """Tug's report (stdout, pure JSON with --format json) and the phase timings it carries."""
    text = open(stdout).read()
    start = text.find("\n{")
    report = json.loads(text[start + 1:] if start >= 0 else text) if "{" in text else None
    timings = parse_timings(report)
    wall = float(wall)
    glob = {t["phase"]: t["seconds"] for t in timings if t["batch"] is None and t["instance"] is None}
    batches = sorted({t["batch"] for t in timings if t["batch"] is not None})
    per_batch = []
    for b in batches:
        inst = {}
        for t in timings:
            if t["batch"] == b and t["instance"]:
                inst.setdefault(t["instance"], {})[t["phase"]] = t["seconds"]
        wall_b = next((t["seconds"] for t in timings if t["batch"] == b and t["phase"] == "batch" and not t["instance"]), 0.0)
        save_b = next((t["seconds"] for t in timings if t["batch"] == b and t["phase"] == "save" and not t["instance"]), 0.0)
        # The batch cannot end before its slowest restart + health wait: that is the wait on its critical path.
        waits_b = max((p.get("restart", 0) + p.get("health", 0) for p in inst.values()), default=0.0)
        per_batch.append({
            "batch": b, "instances": len(inst), "wall": wall_b, "save": save_b, "waits": waits_b,
            "max_restart": max((p.get("restart", 0) for p in inst.values()), default=0.0),
            "max_health": max((p.get("health", 0) for p in inst.values()), default=0.0),
            "max_switch": max((p.get("switch", 0) for p in inst.values()), default=0.0),
            "max_verify": max((p.get("verify", 0) for p in inst.values()), default=0.0),
        })
    waits = sum(b["waits"] for b in per_batch)
    total = glob.get("total", 0.0)
    breakdown = {
        "process": wall - total,  # .NET start-up, argument parsing, plan, loading the cluster, exit
        "resolve": glob.get("resolve", 0.0),  # mirror metadata and the cached packages, verified
        "connect": glob.get("connect", 0.0),  # SSH to every host of the upgrade
        "stage": glob.get("stage", 0.0),  # upload + sha256 check + unpack beside the running files, on every host
        "batches_beyond_waits": sum(b["wall"] - b["waits"] for b in per_batch),  # switch, verify probe, scheduling
        "save": sum(b["save"] for b in per_batch),  # meta.yaml after each batch
    }
    breakdown["unaccounted"] = total - sum(v for k, v in breakdown.items() if k != "process") - waits
    run = dict(json.loads(meta_json))
    run.update({
        "tool": "tug", "wall_seconds": wall, "exit": int(exit_code), "report_ok": bool(report and report.get("ok")),
        "instances_ok": sum(1 for o in (report or {}).get("outcomes", []) if o.get("status") == "ok"),
        "internal_total": total, "restart_and_health_waits": waits, "overhead": wall - waits,
        "overhead_breakdown": breakdown, "batches": per_batch, "timings": timings, "report": report,
    })
    json.dump(run, open(out, "w"), indent=1)
    print(f"tug: {wall:.2f} s wall, restart+health waits {waits:.2f} s, overhead {wall - waits:.2f} s "
          f"(process {breakdown['process']:.2f}, resolve {breakdown['resolve']:.2f}, connect {breakdown['connect']:.2f}, "
          f"stage {breakdown['stage']:.2f}, batches beyond waits {breakdown['batches_beyond_waits']:.2f}, save {breakdown['save']:.2f})")


LOGLINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) p=\d+ u=\S+ n=\S+ \| (.*)$")


def ansible_run(out, log, wall, exit_code, meta_json, started):
    """Ansible's time per task (a task runs on every host of the batch before the next starts: linear strategy),
    from the timestamps of Ansible's own log (log_path), and its recap."""
    events = []
    for line in open(log, errors="replace"):
        m = LOGLINE.match(line.rstrip("\n"))
        if m:
            t = datetime.datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S").timestamp() + int(m[2]) / 1000
            events.append((t, m[3]))
    heads = [(t, msg) for t, msg in events if msg.startswith(("PLAY [", "TASK [", "PLAY RECAP"))]
    tasks = {}
    for (t, msg), (t_next, _) in zip(heads, heads[1:]):
        if msg.startswith("TASK ["):
            name = msg[len("TASK ["):msg.index("]")]
            tasks[name] = tasks.get(name, 0.0) + (t_next - t)
    recap = [msg for _, msg in events if re.match(r"^h\d+ +: ok=", msg)]
    first = heads[0][0] if heads else float(started)
    last = heads[-1][0] if heads else float(started)
    run = dict(json.loads(meta_json))
    run.update({
        "tool": "ansible", "wall_seconds": float(wall), "exit": int(exit_code),
        "startup": first - float(started),  # python start-up, configuration, inventory, playbook parsing
        "tasks": tasks,  # seconds per task, summed over the batches
        "after_last_task": float(started) + float(wall) - last,  # recap and exit
        "hosts_failed_or_unreachable": [r.split()[0] for r in recap if not re.search(r"unreachable=0 +failed=0", r)],
        "hosts_in_recap": len(recap),
    })
    json.dump(run, open(out, "w"), indent=1)
    print("ansible: " + f"{float(wall):.2f} s wall: start-up {run['startup']:.2f}, " + ", ".join(f"{k} {v:.2f}" for k, v in tasks.items()))


def stats(values):
    return {"n": len(values), "median": statistics.median(values), "min": min(values), "max": max(values)} if values else None


def summary(results):
    rows = list(csv.DictReader(open(os.path.join(results, "runs.csv"))))
    tug_runs = {r["seq"]: json.load(open(os.path.join(results, r["file"]))) for r in rows if r["tool"] == "tug"}
    out = {"batches": {}}
    meta = json.load(open(os.path.join(results, "meta.json")))
    lines = [f"batch  tool     n  median     min     max   (seconds, wall clock of the whole command, {meta['hosts']} hosts, concurrency {meta['concurrency']})"]
    for batch in sorted({int(r["batch"]) for r in rows}):
        entry = {}
        for tool in ("tug", "ansible"):
            entry[tool] = stats([float(r["seconds"]) for r in rows if r["tool"] == tool and int(r["batch"]) == batch])
            s = entry[tool]
            if s:
                lines.append(f"{batch:>5}  {tool:<7} {s['n']:>2} {s['median']:>7.2f} {s['min']:>7.2f} {s['max']:>7.2f}")
        runs = [t for seq, t in tug_runs.items() if int(t["batch"]) == batch]
        aruns = [json.load(open(os.path.join(results, r["file"].replace(".log", ".json")))) for r in rows
                 if r["tool"] == "ansible" and int(r["batch"]) == batch and os.path.exists(os.path.join(results, r["file"].replace(".log", ".json")))]
        if aruns:
            entry["ansible_seconds_per_task_median"] = {k: statistics.median(a["tasks"].get(k, 0.0) for a in aruns) for k in aruns[0]["tasks"]}
            entry["ansible_startup_median"] = statistics.median(a["startup"] for a in aruns)
        if entry["tug"] and entry["ansible"]:
            entry["ratio_median_ansible_over_tug"] = entry["ansible"]["median"] / entry["tug"]["median"]
        if runs:
            entry["tug_waits"] = stats([t["restart_and_health_waits"] for t in runs])
            entry["tug_overhead"] = stats([t["overhead"] for t in runs])
            entry["tug_overhead_breakdown_median"] = {k: statistics.median(t["overhead_breakdown"][k] for t in runs) for k in runs[0]["overhead_breakdown"]}
        out["batches"][str(batch)] = entry
    lines.append("")
    lines.append("batch  ratio (median Ansible / median Tug)   Tug: restart+health waits   Tug overhead = wall - waits: median; medians of its parts")
    for batch, e in out["batches"].items():
        if "ratio_median_ansible_over_tug" in e:
            b = e["tug_overhead_breakdown_median"]
            lines.append(f"{batch:>5}  {e['ratio_median_ansible_over_tug']:>5.2f}x{'':<31} {e['tug_waits']['median']:>6.2f} s{'':<18} "
                         f"{e['tug_overhead']['median']:>6.2f} s; process {b['process']:.2f}, resolve {b['resolve']:.2f}, connect {b['connect']:.2f}, "
                         f"stage {b['stage']:.2f}, batches beyond waits {b['batches_beyond_waits']:.2f}, save {b['save']:.2f}, rest {b['unaccounted']:.2f}")
    for batch, e in out["batches"].items():
        if "ansible_seconds_per_task_median" in e:
            lines.append(f"{batch:>5}  Ansible, median seconds per task (all batches): start-up {e['ansible_startup_median']:.2f}, "
                         + ", ".join(f"{k} {v:.2f}" for k, v in e["ansible_seconds_per_task_median"].items()))
    rss = [float(r["peak_rss_mib"]) for r in rows if r["tool"] == "tug" and r.get("peak_rss_mib")]
    if rss:
        out["tug_peak_rss_mib"] = stats(rss)
        lines.append("")
        lines.append(f"Tug's control process, peak RSS (GNU time %M) over {len(rss)} upgrades: median {statistics.median(rss):.1f} MiB, max {max(rss):.1f} MiB")
    checks = [r for r in rows]
    lines.append("")
    lines.append(f"checks: {sum(1 for r in checks if r['check'] == 'ok')}/{len(checks)} runs verified afterwards (see runs.csv)")
    json.dump(out, open(os.path.join(results, "summary.json"), "w"), indent=1)
    text = "\n".join(lines) + "\n"
    open(os.path.join(results, "summary.txt"), "w").write(text)
    print(text, end="")
    return 0 if all(r["check"] == "ok" for r in checks) else 1


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "files" and len(argv) == 5:
        return files(argv[2], int(argv[3]), argv[4]) or 0
    if cmd == "check" and len(argv) == 6:
        return check(argv[2], int(argv[3]), int(argv[4]), argv[5])
    if cmd == "tug-run" and len(argv) == 8:
        return tug_run(*argv[2:]) or 0
    if cmd == "ansible-run" and len(argv) == 8:
        return ansible_run(*argv[2:]) or 0
    if cmd == "summary" and len(argv) == 3:
        return summary(argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
