#!/bin/bash
# make test: proves the harness catches failures, then boots the test VM
# under each CPU model and runs the whole suite.  Ends with the line
# "N passed, N failed, N skipped"; exits non-zero when anything failed, a VM
# did not finish, or a kernel log shows a warning or crash.
#   test.sh [--threads single|multi] [--cpus "epyc max"] [--filter STR] [--no-selfcheck]
set -uo pipefail
cd "$(dirname "$0")/.."

threads=single cpus="epyc max" filter="" selfcheck=1
suite_timeout=${YAKVM_SUITE_TIMEOUT:-900}
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) threads=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--filter) filter=$2; shift ;;
	--no-selfcheck) selfcheck=0 ;;
	*) echo "test.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

# The VM runs what the initramfs holds: pack it from the current build, so
# `make && scripts/test.sh` never tests stale binaries.
make --no-print-directory initramfs > /dev/null ||
	{ echo "test.sh: make initramfs failed" >&2; exit 1; }

start=$(date +%s)
passed=0 failed=0 skipped=0
out=build/test
mkdir -p "$out"

result() {		# result ok|FAIL|skip NAME [WHY]
	local status=$1 name=$2 why=${3:-}
	case "$status" in
	ok) passed=$((passed + 1)); echo "ok $name" ;;
	skip) skipped=$((skipped + 1)); echo "skip $name: $why" ;;
	*) failed=$((failed + 1)); echo "FAIL $name: $why" ;;
	esac
}

# count_results [PREFIX] < LINES: counts the "ok|FAIL|skip NAME[: why]" lines.
count_results() {
	local status name why
	while read -r status name why; do
		result "$status" "${1:+$1/}$name" "${why#: }"
	done < <(sed -E 's/^(ok|FAIL|skip) ([^:]*)(: )?/\1 \2 /')
}

# unicorn_judge CPU RESULTS: replays the boot's single-step traces in unicorn,
# an independent emulator, on the host (docs/testing.md, "Single-step judge").
unicorn_judge() {
	local verdicts=$out/unicorn-$1.results
	/usr/bin/python3 scripts/unicorn-compare.py "$2" > "$verdicts" 2> "$verdicts.err"
	[ -s "$verdicts.err" ] &&
		echo "FAIL unicorn/judge: the judge crashed: $(tail -1 "$verdicts.err")" >> "$verdicts"
	count_results "$1" < <(grep -E '^(ok|FAIL|skip) ' "$verdicts")
}

# judge TAG RESULTS LOG RC: counts one boot's results and checks its kernel log.
# Sets judged_ok/judged_fail/judged_finished/judged_clean for the self-checks.
judge() {
	local tag=$1 res=$2 log=$3 rc=$4 problems
	judged_ok=$(grep -c '^ok ' "$res")
	judged_fail=$(grep -c '^FAIL ' "$res")
	judged_skip=$(grep -c '^skip ' "$res")
	judged_finished=1 judged_clean=1
	grep -q '^@@ END' "$res" || judged_finished=0
	problems=$(scripts/scan-log.sh "$log") || judged_clean=0
	passed=$((passed + judged_ok))
	failed=$((failed + judged_fail))
	skipped=$((skipped + judged_skip))
	if [ "$judged_finished" = 1 ]; then
		result ok "$tag/harness/vm-finished"
	else
		result FAIL "$tag/harness/vm-finished" "no end marker (VM status $rc: timeout, crash or hang); log in $log"
	fi
	if [ "$judged_clean" = 1 ]; then
		result ok "$tag/harness/kernel-log-clean"
	else
		result FAIL "$tag/harness/kernel-log-clean" "kernel log $log shows:"
		echo "$problems" | head -20 | sed 's/^/    /'
	fi
}

boot() {		# boot CPU MODE TIMEOUT: runs the VM; sets res, log, rc
	res=$out/$2-$1.results
	log=$out/$2-$1.log
	scripts/testvm.sh --cpu "$1" --mode "$2" --timeout "$3" --threads "$threads" \
		--results "$res" --log "$log" ${filter:+--filter "$filter"} |
		sed -u "/^@step /d; s/^/[${2/#test/$1}] /"	# step traces: results file only
	rc=${PIPESTATUS[0]}
}

echo "== host-side checks: build warnings, sparse, checkpatch"
count_results < <(scripts/style.sh)

if [ "$selfcheck" = 1 ]; then
	echo "== harness self-check: a run with a failing test and a kernel warning"
	saved="$passed $failed $skipped"
	boot epyc selfcheck-fail 180
	judge selfcheck "$res" "$log" "$rc" > /dev/null
	read -r passed failed skipped <<< "$saved"
	if [ "$judged_fail" = 1 ] && [ "$judged_ok" = 1 ]; then
		result ok harness/selfcheck-counts-failed-test
	else
		result FAIL harness/selfcheck-counts-failed-test "expected 1 ok + 1 FAIL, judged $judged_ok ok + $judged_fail FAIL"
	fi
	if [ "$judged_clean" = 0 ]; then
		result ok harness/selfcheck-flags-kernel-warning
	else
		result FAIL harness/selfcheck-flags-kernel-warning "the scanner missed the WARNING written to /dev/kmsg"
	fi

	echo "== harness self-check: a VM that hangs"
	boot epyc selfcheck-hang 25
	judge selfcheck "$res" "$log" "$rc" > /dev/null
	read -r passed failed skipped <<< "$saved"
	if [ "$rc" = 124 ] && [ "$judged_finished" = 0 ]; then
		result ok harness/selfcheck-stops-hung-vm
	else
		result FAIL harness/selfcheck-stops-hung-vm "VM status $rc, finished=$judged_finished"
	fi
fi

for cpu in $cpus; do
	echo "== suite on CPU model $cpu ($threads-threaded TCG unless KVM runs the outer VM)"
	boot "$cpu" test "$suite_timeout"
	judge "$cpu" "$res" "$log" "$rc"
	unicorn_judge "$cpu" "$res"
done

# The QEMU tests and kvm-unit-tests: a boot of their own (docs/qemu.md).
. scripts/test-qemu.sh
qemu_suite

elapsed=$(( $(date +%s) - start ))
echo "make test took $((elapsed / 60))m$((elapsed % 60))s; logs in $out/"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
