#!/bin/sh
# Runs the QEMU tests (/tests/qemu/*.test) in the test VM's "qemu" mode
# (scripts/vm/init) and prints their "ok/FAIL/skip NAME" lines, like
# /tests/run-tests.sh for the main suite: a script that exits non-zero
# without a FAIL line gets one, its run time is printed, and after each
# script yakvm's object counters must be back at zero.
#   run.sh [FILTER]   (comma-separated: "qemu" all, "qemu/linux" the
#                      scripts whose name contains "linux", "kut")
# YAKVM_QEMU_SUITE (quick or full) picks each script's configurations.
filter=$1
# YAKVM_QEMU_ARGS (tvm.args): quick or full, and VARIABLE=VALUE settings for
# the scripts, comma-separated.
for a in $(echo "${YAKVM_QEMU_ARGS:-}" | tr , ' '); do
	case "$a" in
	quick|full) export YAKVM_QEMU_SUITE=$a ;;
	*=*) export "$a" ;;	# e.g. KUT_TIMEOUT=90s, KUT_DEVICES=kvm
	esac
done
objects=/sys/kernel/debug/yakvm/objects
timeout_s=${TVM_TEST_TIMEOUT:-3000}

# matches NAME FILTER: FILTER's parts that concern these tests are "qemu"
# (all of them), "qemu/NAME-PART" and "kut"; no filter runs everything.
matches() {
	old_ifs=$IFS
	IFS=,
	for part in $2; do
		case "$part" in
		qemu) IFS=$old_ifs; return 0 ;;
		qemu/*) case "$1" in *"${part#qemu/}"*) IFS=$old_ifs; return 0 ;; esac ;;
		kut) [ "$1" = kut ] && { IFS=$old_ifs; return 0; } ;;
		esac
	done
	IFS=$old_ifs
	[ -z "$2" ]
}

echo "# QEMU tests, suite ${YAKVM_QEMU_SUITE:-quick}: $(/usr/bin/qemu-system-x86_64 --version | head -1)"
for t in /tests/qemu/*.test; do
	[ -x "$t" ] || continue
	name=$(basename "$t" .test)
	matches "$name" "$filter" || continue
	start=$(date +%s)
	# Streamed, not collected: these scripts run for minutes, and a hang
	# should show where it is.
	{ timeout -s KILL "$timeout_s" "$t"; echo $? > /tmp/qemu-rc; } 2>&1 | tee /tmp/qemu-out
	rc=$(cat /tmp/qemu-rc)
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' /tmp/qemu-out; then
		echo "FAIL qemu/$name: exited with status $rc"
	fi
	echo "# qemu/$name took $(( $(date +%s) - start ))s"
	bad=$(grep -v ' 0$' "$objects" 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "FAIL leaks/qemu-$name: objects left after the test: $(echo $bad)"
	else
		echo "ok leaks/qemu-$name"
	fi
done
