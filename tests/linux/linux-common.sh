# Helpers shared by the Linux guest tests (tests/linux/*.test; sourced after
# vmm-common.sh, whose begin/pass/fail_check/check/end they use): booting
# Debian's kernel under yakvm to its shell, typing a session into it, reading
# the output back, and comparing the warnings of two guests' kernel logs.

KVER=$(uname -r)		# the test VM boots the same Debian kernel
# sha256 of /etc/known-file in the guest: 65536 bytes of 'y'.
KNOWN_SHA=$(head -c 65536 /dev/zero | tr '\0' y | sha256sum | cut -d' ' -f1)

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# wait_for OUT PATTERN: until the console shows a line matching PATTERN;
# fails once the VM is gone (interactive() touches OUT.done) without it.
wait_for() {
	local i=0 gone
	while :; do
		[ -e "$1.done" ] && gone=1
		tr -d '\r' < "$1" 2>/dev/null | grep -q -- "$2" && return 0
		[ -n "$gone" ] && return 1
		i=$((i + 1))
		[ "$i" -gt $((RUN_TIMEOUT * 10)) ] && return 1
		usleep 100000
	done
}

# feeder OUT START SESSION: types SESSION's commands once the guest's shell
# is up, and notes when that was.  SESSION has "NAME COMMAND" lines; each
# command is typed when the previous one has finished, framed by "@@NAME"
# and "@@/NAME" lines (the typed line itself starts with the prompt, so it
# never matches).
feeder() {
	local out=$1 start=$2 session=$3 name cmd
	wait_for "$out" "Type 'exit'" || return
	awk -v a="$start" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }' > "$out.prompt"
	while read -r name cmd; do
		echo "echo @@$name; $cmd; echo @@/$name"
		wait_for "$out" "^@@/$name\$" || return
	done < "$session"
	echo exit
	# Keep the pipe open until the guest is gone: EOF is not an answer.
	while [ ! -e "$out.done" ]; do usleep 100000; done
}

# interactive TAG SESSION [yakvm-linux args...]: boots to the shell and runs
# the session; leaves $TMP/TAG.txt (console), TAG.err, TAG.status, TAG.out.prompt.
interactive() {
	local tag=$1 session=$2 start
	shift 2
	rm -f "$TMP/$tag.out" "$TMP/$tag.out.done" "$TMP/$tag.out.prompt" "$TMP/$tag.in"
	mkfifo "$TMP/$tag.in"
	start=$(uptime_s)
	feeder "$TMP/$tag.out" "$start" "$session" > "$TMP/$tag.in" &
	timeout "$RUN_TIMEOUT" yakvm-linux "$@" < "$TMP/$tag.in" \
		> "$TMP/$tag.out" 2> "$TMP/$tag.err"
	echo $? > "$TMP/$tag.status"
	touch "$TMP/$tag.out.done"
	wait
	tr -d '\r' < "$TMP/$tag.out" > "$TMP/$tag.txt"
}

# section TAG NAME: the output of one command of the session.
section() {
	sed -n "/^@@$2\$/,/^@@\/$2\$/p" "$TMP/$1.txt" | sed '1d;$d'
}

expect_section() {	# expect_section CHECK TAG NAME GREP-E-PATTERN
	if section "$2" "$3" | grep -qE -- "$4"; then
		pass "$1"
	else
		fail_check "$1" "no '$4' in the output of $3: $(section "$2" "$3" | head -c 300 | tr '\n' '|')"
	fi
}

# The end-of-session checks of a scenario: exit status 0, a prompt, the
# whole session, nothing said by yakvm.
expect_session_basics() {	# expect_session_basics TAG LAST-SECTION
	expect_status powers-off-cleanly "$1" 0
	check shell-prompt "no shell prompt; stderr: $(flat "$TMP/$1.err" 300) console: $(tail -c 400 "$TMP/$1.txt" | tr '\n' '|')" \
		[ -s "$TMP/$1.out.prompt" ]
	check session-complete "the session did not reach its end marker" \
		grep -q "^@@/$2\$" "$TMP/$1.txt"
	if grep -v '^yakvm: stopped' "$TMP/$1.err" | grep -q .; then
		fail_check vmm-quiet "yakvm said: $(flat "$TMP/$1.err")"
	else
		pass vmm-quiet
	fi
}

# The kernel log's warnings (the session's "dmesg" section, from dmesg -r):
# level 0-4 plus any "unchecked MSR access" line.  A splat counts by its
# headline ("WARNING: CPU: 0 PID: 0 at file:line function"): its register
# dump, code bytes and call trace differ between any two runs.  Numbers are
# normalised so that addresses and times do not count as differences.
warnings() {
	section "$1" dmesg | sed -n 's/^<\([0-9]*\)>\[[^]]*\] \(.*\)/\1 \2/p' |
		awk '$1 <= 4 || /unchecked MSR access/ { $1 = ""; print }' | sed 's/^ //' |
		grep -vE '^(Code|RIP|RSP|RAX|RDX|RBP|R8|R10|R13|FS|CS|CR2|DR0|DR3|DR6|PKRU):|^Call Trace|^<\/?TASK>|^\? |^[A-Za-z0-9_.]+\+0x|^Modules linked in|end trace|cut here' |
		sed -E 's/0x[0-9a-fA-F]+/N/g; s/[0-9a-fA-F]{8,}/N/g; s/[0-9]+/N/g' | sort -u
}

# only_in A B EXCEPTIONS: warnings of guest A that guest B lacks, minus the
# justified exceptions (grep -E patterns, one a line, in file EXCEPTIONS).
only_in() {
	warnings "$1" > "$TMP/w-$1"
	warnings "$2" > "$TMP/w-$2"
	grep -vxFf "$TMP/w-$2" "$TMP/w-$1" | grep -vEf "$3"
}

# compare_warnings SCENARIO A B EXCEPTIONS [full|once]: one scenario, a
# sub-check per guest that it has a kernel log at all (an empty log, from a
# session that did not get that far, compares nothing) and one per
# direction; "full": a make test-full scenario (begin_full), "once": one of
# the first boot only (begin_once).
compare_warnings() {
	local scenario=$1 a=$2 b=$3 exceptions=$4 extra tag pair
	begin${5:+_$5} "$scenario" || return 0
	for tag in "$a" "$b"; do
		check "$tag-log-read" "no kernel log from the $tag guest" \
			[ -n "$(section "$tag" dmesg | grep '^<[0-9]*>\[' | head -1)" ]
	done
	for pair in "$a $b" "$b $a"; do
		set -- $pair
		extra=$(only_in "$1" "$2" "$exceptions")
		check "no-warning-only-on-$1" "$(echo "$extra" | head -5 | tr '\n' '|')" [ -z "$extra" ]
	done
	end
}
