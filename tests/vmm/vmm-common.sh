# Helpers shared by the vmm-*.test and linux-*.test scripts (sourced; busybox
# sh in the test VM).
#
# A script is a list of scenarios, each one verdict line:
#
#	begin vmm/guests/hello-real-yakvm || return 0	# (or: || continue)
#	run_yakvm "$tag" "$TMP/key" --dev "$dev" "$GUESTS/hello-real.bin"
#	expect_status status "$tag" 0
#	expect_output console "$tag" "$TMP/hello-real.want"
#	end
#
# prints "ok NAME: status, console" when every sub-check passed, or
# "FAIL NAME: console: why; ..." naming each one that did not.  With --list
# (SCRIPT --list), begin prints the scenario's name and returns 1, so the
# body does not run: that is how scripts/manifest.sh learns the names.
YAKVM=${YAKVM:-/bin/yakvm}
GUESTS=${GUESTS:-/guests}
HELPERS=$(dirname "$0")
TMP=$(mktemp -d /tmp/vmm-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# A guest that hangs is stopped by SIGTERM after this long (status 143).
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
LIST=
[ "${1:-}" = --list ] && LIST=1

# Helpers declare their variables local: the test scripts use names like
# tag and name for their own loops.

# The devices every scenario runs on: both, always.  A missing /dev/kvm
# fails the KVM scenarios (KVM is the reference), it does not remove them.
devices() {
	echo /dev/yakvm
	echo /dev/kvm
}

# dev_tag /dev/kvm -> kvm
dev_tag() { basename "$1"; }

# begin NAME: starts a scenario; in --list mode prints NAME and returns 1.
begin() {
	SCENARIO=$1 FAILED="" PASSED=""
	if [ -n "$LIST" ]; then
		echo "$1"
		return 1
	fi
	return 0
}

# begin_full NAME: a scenario that only make test-full runs (tvm.full=1 on
# the test VM's command line: scripts/test.sh --full); --list prints it as
# "NAME full", which the inventory keeps as a flag (docs/testing.md).
FULL=
case " $(cat /proc/cmdline 2>/dev/null) " in *" tvm.full=1 "*) FULL=1 ;; esac
begin_full() { begin_if full "$FULL" "$1"; }

# begin_once NAME: a scenario that runs in the first boot of make test only
# (tvm.once=1, as the CPU-model-independent tests; every boot of make
# test-full has it), while the rest of its script runs in every boot;
# --list prints it as "NAME once" (docs/testing.md).
ONCE=
case " $(cat /proc/cmdline 2>/dev/null) " in *" tvm.once=1 "*) ONCE=1 ;; esac
begin_once() { begin_if once "$ONCE" "$1"; }

# begin_if FLAG ON NAME: begin NAME when ON is set; --list prints "NAME FLAG".
begin_if() {
	if [ -n "$LIST" ]; then
		echo "$3 $1"
		return 1
	fi
	[ -n "$2" ] || return 1
	begin "$3"
}

# pass CHECK / fail_check CHECK WHY: a sub-check's result.
pass() { PASSED="${PASSED:+$PASSED, }$1"; }
fail_check() { FAILED="${FAILED:+$FAILED; }$1: $2"; }

# end [NOTE]: the scenario's verdict line.
end() {
	if [ -n "$FAILED" ]; then
		echo "FAIL $SCENARIO: $FAILED"
	else
		echo "ok $SCENARIO: ${PASSED:-no sub-checks}${1:+; $1}"
	fi
}

# run_yakvm TAG STDIN [yakvm run args...]: runs yakvm with STDIN as input;
# leaves $TMP/TAG.out, $TMP/TAG.err and $TMP/TAG.status.
run_yakvm() {
	local run_tag=$1 input=$2
	shift 2
	timeout "$RUN_TIMEOUT" "$YAKVM" run "$@" < "$input" > "$TMP/$run_tag.out" 2> "$TMP/$run_tag.err"
	echo $? > "$TMP/$run_tag.status"
}

status_of() { cat "$TMP/$1.status"; }

# One line of a file, for a message: newlines shown as '|'.
flat() { head -c "${2:-400}" "$1" | tr '\n' '|'; }

# expect_status CHECK TAG WANT: the exit status.
expect_status() {
	local got
	got=$(status_of "$2")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail_check "$1" "exit status $got, expected $3; stderr: $(flat "$TMP/$2.err" 600)"
	fi
}

# expect_stderr CHECK TAG TEXT: stderr contains TEXT (fixed string).
expect_stderr() {
	if grep -qF -- "$3" "$TMP/$2.err"; then
		pass "$1"
	else
		fail_check "$1" "stderr lacks '$3'; got: $(flat "$TMP/$2.err" 600)"
	fi
}

# expect_output CHECK TAG FILE: stdout is byte-identical to FILE.
expect_output() {
	if cmp -s "$TMP/$2.out" "$3"; then
		pass "$1"
	else
		fail_check "$1" "console output differs from the expected text: $(head -c 400 "$TMP/$2.out" | od -c | head -8 | tr '\n' '|')"
	fi
}

# check CHECK WHY-IF-FALSE COMMAND...: a sub-check on any command's success.
check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail_check "$name" "$why"; fi
}

# kvm_cap DEV CAP: KVM_CHECK_EXTENSION(CAP) on DEV, by a helper that is
# not the VMM under test (tests/vmm/kvmcap.c).
kvm_cap() { "$HELPERS/vmm-kvmcap" "$1" "$2"; }
