#!/bin/sh
# Runs every test in a directory of the test VM (/tests) and prints one line
# per test case: "ok NAME", "FAIL NAME: why" or "skip NAME: why"; "#" lines
# are information.  Each test runs its cases on /dev/yakvm and /dev/kvm.
# After each test the module's object counters must be back at zero: every
# VM, vCPU, slot, pinned page and NPT page freed ("leaks/NAME").  The host
# (scripts/test.sh) then checks the lines against the inventory of expected
# cases, tests/manifest.txt.
#
#   run-tests.sh [-d DIR] [-o] [FILTER]
#     -d DIR   the tests' directory (default /tests; the self-check has its own)
#     -o       also run the tests marked "yakvm-test: cpu-model-independent",
#              which `make test` runs in its first boot only
#     FILTER   only tests whose name contains FILTER, or one of FILTER's
#              comma-separated parts; a filter matching no test fails
dir=/tests once=0
while [ $# -gt 0 ]; do
	case "$1" in
	-d) dir=$2; shift ;;
	-o) once=1 ;;
	*) break ;;
	esac
	shift
done
filter=$1
objects=/sys/kernel/debug/yakvm/objects
timeout_s=${TVM_TEST_TIMEOUT:-900}

leak_check() {
	name=$1
	bad=$(grep -v ' 0$' "$objects" 2>/dev/null)
	if [ ! -r "$objects" ]; then
		echo "FAIL leaks/$name: $objects is missing (yakvm not loaded?)"
	elif [ -n "$bad" ]; then
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

# Scripts say in a comment whether their result depends on the CPU model;
# C tests hold the same line as a string (TEST_CPU_MODEL_INDEPENDENT).
model_independent() {
	grep -aq '^# yakvm-test: cpu-model-independent$' "$1"
}

matched=0
for t in "$dir"/*.test; do
	[ -x "$t" ] || continue
	name=$(basename "$t" .test)
	matches "$name" "$filter" || continue
	matched=$((matched + 1))
	if [ "$once" = 0 ] && model_independent "$t"; then
		echo "# $name: not run in this boot (CPU-model independent: run in the first boot)"
		continue
	fi
	start=$(date +%s)
	timeout -s KILL "$timeout_s" "$t" > /tmp/out 2>&1
	rc=$?
	cat /tmp/out
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' /tmp/out; then
		echo "FAIL $name: exited with status $rc"
	fi
	echo "# $name took $(( $(date +%s) - start ))s"
	# A test killed by the timeout leaves its VMMs running, and a VM left
	# on /dev/kvm holds SVM: every later yakvm VM would fail with EBUSY.
	stray=$(pidof yakvm qemu-system-x86_64)
	if [ -n "$stray" ]; then
		echo "FAIL $name: left processes running (killed): $(echo $stray)"
		kill -9 $stray 2>/dev/null
		sleep 1
	fi
	leak_check "$name"
done
if [ "$matched" = 0 ]; then
	echo "FAIL harness/filter: no test in $dir matches '$filter'"
fi

if [ -z "$filter" ] && [ "$dir" = /tests ]; then
	if rmmod yakvm; then
		echo "ok module/rmmod"
	else
		echo "FAIL module/rmmod: rmmod yakvm failed"
	fi
fi
