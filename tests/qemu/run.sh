#!/bin/sh
# Runs the QEMU tests (/tests/qemu/*.test) in the test VM's "qemu" mode
# (scripts/vm/init) and prints their "ok/FAIL/skip NAME" lines, like
# /tests/run-tests.sh for the main suite: a script that exits non-zero
# without a FAIL line gets one, its run time is printed, after each script
# yakvm's object counters must be back at zero (leaks/NAME), and an
# unfiltered run ends with rmmod yakvm (module/rmmod).
#   run.sh [FILTER]   (comma-separated parts; a script runs when its name,
#                      e.g. qemu-linux, contains one of them)
# YAKVM_QEMU_ARGS (tvm.args): quick or full (the suite: YAKVM_QEMU_SUITE),
# and VARIABLE=VALUE settings for the scripts (QEMU_ONLY=a:b), comma-separated.
filter=$1
for a in $(echo "${YAKVM_QEMU_ARGS:-}" | tr , ' '); do
	case "$a" in
	quick|full) export YAKVM_QEMU_SUITE=$a ;;
	*=*) export "$a" ;;
	esac
done
objects=/sys/kernel/debug/yakvm/objects
timeout_s=${TVM_TEST_TIMEOUT:-5000}

matches() {
	old_ifs=$IFS
	IFS=,
	for part in $2; do
		case "$1" in *"$part"*) IFS=$old_ifs; return 0 ;; esac
	done
	IFS=$old_ifs
	[ -z "$2" ]
}

echo "# QEMU tests, suite ${YAKVM_QEMU_SUITE:-quick}: $(/usr/bin/qemu-system-x86_64 --version | head -1)"
matched=0
for t in /tests/qemu/*.test; do
	[ -x "$t" ] || continue
	name=$(basename "$t" .test)
	matches "$name" "$filter" || continue
	matched=$((matched + 1))
	start=$(date +%s)
	# Streamed, not collected: these scripts run for minutes, and a hang
	# should show where it is.
	{ timeout -s KILL "$timeout_s" "$t"; echo $? > /tmp/qemu-rc; } 2>&1 | tee /tmp/qemu-out
	rc=$(cat /tmp/qemu-rc)
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' /tmp/qemu-out; then
		echo "FAIL $name: exited with status $rc"
	fi
	echo "# $name took $(( $(date +%s) - start ))s"
	bad=$(grep -v ' 0$' "$objects" 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "FAIL leaks/$name: objects left after the test: $(echo $bad)"
	else
		echo "ok leaks/$name"
	fi
done
[ "$matched" = 0 ] && echo "FAIL harness/filter: no test in /tests/qemu matches '$filter'"
if [ -z "$filter" ]; then
	if rmmod yakvm; then
		echo "ok module/rmmod"
	else
		echo "FAIL module/rmmod: rmmod yakvm failed"
	fi
fi
