#!/usr/bin/env python3
"""Markdown table of bench samples (bench/bench_lib.sh `run` lines), medians per row and tool.

bench_report.py SAMPLES REPEAT SERVER_NAME ROW=TITLE=BYTES=OBJECTS[=noserver] ...
Columns: median wall time, MB/s, objects/s, client CPU s (user+sys) and s/GB, peak RSS (max over
the runs), the server's CPU s and its share of the wall time (a single-threaded server near 100 %
is the bottleneck), and ratio = tool time / omnio time (> 1: omnio is faster; the row's first
omnio variant is the base).
"""
import statistics
import sys

path, repeat, server = sys.argv[1], int(sys.argv[2]), sys.argv[3]
specs = []
for spec in sys.argv[4:]:
    row, title, nbytes, nobj, *flags = spec.split("=")
    specs.append((row, title, int(nbytes), int(nobj), "noserver" in flags))
rows = {}
for line in open(path):
    row, tool, wall, user, sys_, rss, srv = line.rstrip("\n").split("\t")
    rows.setdefault(row, {}).setdefault(tool, []).append(
        (float(wall), float(user) + float(sys_), int(rss), float(srv)))
print(f"\n(medians of {repeat} interleaved rounds; ratio = tool time / omnio time, > 1 means omnio is faster)\n")
print(f"| operation | tool | time s | MB/s | objects/s | client CPU s | CPU s/GB | peak RSS MiB | {server} CPU s | {server} CPU % of wall | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for row, title, nbytes, nobj, noserver in specs:
    if row not in rows:
        continue
    med = {t: (statistics.median(x[0] for x in s), statistics.median(x[1] for x in s),
               max(x[2] for x in s), statistics.median(x[3] for x in s))
           for t, s in rows[row].items()}
    # The base is the row's first omnio variant (plain "omnio" where it ran).
    base_tool = next((t for t in med if t.split()[0] == "omnio"), None)
    base = med[base_tool][0] if base_tool else None
    for tool, (wall, cpu, rss, srv) in med.items():
        mbs = f"{nbytes / wall / 1e6:.0f}" if nbytes else "-"
        ops = f"{nobj / wall:.0f}" if nobj else "-"
        per_gb = f"{cpu / (nbytes / 1e9):.2f}" if nbytes else "-"
        ratio = f"{wall / base:.2f}" if base and tool != base_tool else ""
        srv_s = "-" if noserver else f"{srv:.2f}"
        srv_pct = "-" if noserver else f"{100 * srv / wall:.0f}"
        print(f"| {title} | {tool} | {wall:.2f} | {mbs} | {ops} | {cpu:.2f} | {per_gb} | {rss / 1024:.0f} | {srv_s} | {srv_pct} | {ratio} |")
