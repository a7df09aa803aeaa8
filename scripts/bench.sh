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
# The same through Debian's QEMU (tests/qemu/bench.sh): a boot of its own
# with one vCPU, like the QEMU tests (scripts/testvm.sh says why).
# QEMU_ROUNDS (3) rounds; QEMU_BENCH=0 leaves it out; --only skips it unless
# it names a QEMU benchmark (qemu-..., kut-vmexit-...).
raw=$out/raw-$cpu.txt
case "$only" in ""|qemu-*|kut-*) qemu_bench=${QEMU_BENCH:-1} ;; *) qemu_bench=0 ;; esac
if [ "$qemu_bench" = 1 ]; then
	scripts/testvm.sh --cpu "$cpu" --mode qemu-bench --timeout 5400 \
		--args "rounds=${QEMU_ROUNDS:-3}${only:+,only=$only}" --results "$out/qemu-raw-$cpu.txt" \
		--log "$out/qemu-kernel-$cpu.log" > /dev/null || true
	if ! grep -q '^@@ END' "$out/qemu-raw-$cpu.txt"; then
		echo "bench: the QEMU benchmarks' test VM did not finish; see $out/qemu-raw-$cpu.txt" >&2
		exit 1
	fi
	if problems=$(scripts/scan-log.sh "$out/qemu-kernel-$cpu.log"); then :; else
		echo "bench: the QEMU benchmarks' kernel log shows problems:" >&2
		echo "$problems" >&2
		exit 1
	fi
	grep '^# .*failed' "$out/qemu-raw-$cpu.txt" | sort -u >&2 || true
	cat "$out/raw-$cpu.txt" "$out/qemu-raw-$cpu.txt" > "$out/all-raw-$cpu.txt"
	raw=$out/all-raw-$cpu.txt
fi
/usr/bin/python3 scripts/bench-report.py "$raw" "$cpu" "$out"
