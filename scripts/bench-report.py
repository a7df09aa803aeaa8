#!/usr/bin/python3
"""Turns the "@bench NAME DEVICE ROUND VALUE UNIT" lines of a bench run into
a table (stdout), results.json and a ratio chart (PNG, gnuplot)."""
import json
import statistics
import subprocess
import sys
from collections import defaultdict


def parse(path):
    samples = defaultdict(list)
    units = {}
    for line in open(path, errors="replace"):
        f = line.split()
        if len(f) == 6 and f[0] == "@bench":
            samples[(f[1], f[2])].append(float(f[4]))
            units[f[1]] = f[5]
    return samples, units


def summarize(samples, units):
    names = []
    for name, _ in samples:
        if name not in names:
            names.append(name)
    rows = []
    for name in names:
        row = {"benchmark": name, "unit": units[name]}
        for dev in ("yakvm", "kvm"):
            vals = samples.get((name, dev), [])
            if vals:
                row[dev] = {"median": statistics.median(vals), "min": min(vals),
                            "max": max(vals), "samples": vals}
        if "yakvm" in row and "kvm" in row and row["kvm"]["median"] > 0:
            row["ratio"] = row["yakvm"]["median"] / row["kvm"]["median"]
        rows.append(row)
    return rows


def cell(row, dev):
    if dev not in row:
        return "-"
    d = row[dev]
    return "%.2f %s (%.2f-%.2f)" % (d["median"], row["unit"], d["min"], d["max"])


def print_table(rows, cpu):
    print("benchmark | yakvm | kvm | ratio   (median, min-max; CPU model %s; ratio < 1: yakvm faster)" % cpu)
    for r in rows:
        ratio = "%.2f" % r["ratio"] if "ratio" in r else "-"
        print("%s | %s | %s | %s" % (r["benchmark"], cell(r, "yakvm"), cell(r, "kvm"), ratio))


def chart(rows, out, cpu):
    data = [r for r in rows if "ratio" in r]
    if not data:
        return
    dat = "%s/ratios.dat" % out
    with open(dat, "w") as f:
        for i, r in enumerate(data):
            f.write("%d %s %.4f\n" % (i, r["benchmark"], r["ratio"]))
    script = """
set terminal pngcairo size 900,480 noenhanced
set output '%s/ratios.png'
set title 'yakvm / KVM, median of each benchmark (CPU model %s; below 1 = yakvm faster)'
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:%.2f]
set xtics rotate by -30
set grid ytics
set arrow from -0.5,1 to %d.5,1 nohead dt 2 lc rgb 'red'
plot '%s' using 1:3:xtic(2) with boxes notitle, '' using 1:3:(sprintf('%%.2f',$3)) with labels offset 0,1 notitle
""" % (out, cpu, max(1.3, 1.15 * max(r["ratio"] for r in data)), len(data) - 1, dat)
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("bench: no chart (%s)" % e, file=sys.stderr)


def main():
    path, cpu, out = sys.argv[1], sys.argv[2], sys.argv[3]
    samples, units = parse(path)
    rows = summarize(samples, units)
    print_table(rows, cpu)
    with open("%s/results.json" % out, "w") as f:
        json.dump({"cpu_model": cpu, "benchmarks": rows}, f, indent=2)
    chart(rows, out, cpu)
    print("wrote %s/results.json and %s/ratios.png" % (out, out))


main()
