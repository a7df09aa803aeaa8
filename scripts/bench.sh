#!/bin/bash
# make bench: one test-VM boot runs tests/bench.c on /dev/yakvm and /dev/kvm,
# interleaved, ROUNDS times; then the table, build/bench/results.json and the
# chart build/bench/ratios.png.
#   bench.sh [--cpu epyc|max] [--rounds N] [--only NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
cpu=epyc rounds=${ROUNDS:-5} only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) cpu=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--only) only=$2; shift ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=build/bench
mkdir -p "$out"
args="--rounds,$rounds"
[ -n "$only" ] && args+=",--only,$only"
scripts/testvm.sh --cpu "$cpu" --mode bench --timeout 3000 --args "$args" \
	--results "$out/raw-$cpu.txt" --log "$out/kernel-$cpu.log" > /dev/null || true
if ! grep -q '^@@ END' "$out/raw-$cpu.txt"; then
	echo "bench: the test VM did not finish; see $out/raw-$cpu.txt" >&2
	exit 1
fi
if problems=$(scripts/scan-log.sh "$out/kernel-$cpu.log"); then :; else
	echo "bench: the kernel log shows problems:" >&2
	echo "$problems" >&2
	exit 1
fi
/usr/bin/python3 scripts/bench-report.py "$out/raw-$cpu.txt" "$cpu" "$out"
