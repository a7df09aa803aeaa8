# Helpers shared by the vmm-*.test scripts (sourced; busybox sh in the test VM).
# Each case prints "ok NAME", "FAIL NAME: why" or "skip NAME: why".
YAKVM=${YAKVM:-/bin/yakvm}
GUESTS=${GUESTS:-/guests}
TMP=$(mktemp -d /tmp/vmm-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# A guest that hangs is stopped by SIGTERM after this long (status 143).
RUN_TIMEOUT=${RUN_TIMEOUT:-60}

ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "skip $1: $2"; }

# Helpers declare their variables local: the test scripts use names like
# tag and name for their own loops.

# The devices to run on: /dev/yakvm always, /dev/kvm when KVM is loaded.
devices() {
	echo /dev/yakvm
	[ -c /dev/kvm ] && echo /dev/kvm
}

# dev_tag /dev/kvm -> kvm
dev_tag() { basename "$1"; }

# run_yakvm TAG STDIN [yakvm run args...]: runs yakvm with STDIN as input;
# leaves $TMP/TAG.out, $TMP/TAG.err and $TMP/TAG.status.
run_yakvm() {
	local run_tag=$1 input=$2
	shift 2
	timeout "$RUN_TIMEOUT" "$YAKVM" run "$@" < "$input" > "$TMP/$run_tag.out" 2> "$TMP/$run_tag.err"
	echo $? > "$TMP/$run_tag.status"
}

status_of() { cat "$TMP/$1.status"; }

# expect_status NAME TAG WANT: one case on the exit status.
expect_status() {
	local got
	got=$(status_of "$2")
	if [ "$got" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "exit status $got, expected $3; stderr: $(head -c 600 "$TMP/$2.err" | tr '\n' '|')"
	fi
}

# expect_stderr NAME TAG TEXT: stderr contains TEXT (fixed string).
expect_stderr() {
	if grep -qF -- "$3" "$TMP/$2.err"; then
		ok "$1"
	else
		fail "$1" "stderr lacks '$3'; got: $(head -c 600 "$TMP/$2.err" | tr '\n' '|')"
	fi
}

# expect_output NAME TAG FILE: stdout is byte-identical to FILE.
expect_output() {
	if cmp -s "$TMP/$2.out" "$3"; then
		ok "$1"
	else
		fail "$1" "console output differs from the expected text: $(head -c 400 "$TMP/$2.out" | od -c | head -8 | tr '\n' '|')"
	fi
}

# expect_same NAME TAG_A TAG_B: identical console output and exit status.
expect_same() {
	if ! cmp -s "$TMP/$2.out" "$TMP/$3.out"; then
		fail "$1" "console output differs between $2 and $3"
	elif [ "$(status_of "$2")" != "$(status_of "$3")" ]; then
		fail "$1" "exit status $(status_of "$2") on $2, $(status_of "$3") on $3"
	else
		ok "$1"
	fi
}
