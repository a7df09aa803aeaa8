#!/bin/sh
# Runs every test binary in /tests inside the test VM and prints one line per
# test case: "ok NAME", "FAIL NAME: why" or "skip NAME: why".  Each binary runs
# its cases on /dev/yakvm and, where KVM supports them, on /dev/kvm.
# After each binary the module's object counters must be back at zero: every
# VM, vCPU, slot, pinned page and NPT page freed.
#   run-tests.sh [FILTER]   (only binaries whose name contains FILTER, or
#                            one of FILTER's comma-separated parts)
filter=$1
objects=/sys/kernel/debug/yakvm/objects
timeout_s=${TVM_TEST_TIMEOUT:-900}

leak_check() {
	name=$1
	bad=$(grep -v ' 0$' "$objects" 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "FAIL leaks/$name: objects left after the test: $(echo $bad)"
	else
		echo "ok leaks/$name"
	fi
}

matches() {
	old_ifs=$IFS
	IFS=,
	for part in $2; do
		case "$1" in *"$part"*) IFS=$old_ifs; return 0 ;; esac
	done
	IFS=$old_ifs
	[ -z "$2" ]
}

for t in /tests/*.test; do
	[ -x "$t" ] || continue
	name=$(basename "$t" .test)
	matches "$name" "$filter" || continue
	start=$(date +%s)
	timeout -s KILL "$timeout_s" "$t" > /tmp/out 2>&1
	rc=$?
	cat /tmp/out
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' /tmp/out; then
		echo "FAIL $name: exited with status $rc"
	fi
	echo "# $name took $(( $(date +%s) - start ))s"
	leak_check "$name"
done

if [ -z "$filter" ]; then
	if rmmod yakvm; then
		echo "ok module/rmmod"
	else
		echo "FAIL module/rmmod: rmmod yakvm failed"
	fi
fi
