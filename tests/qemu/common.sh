# Helpers shared by the QEMU tests (tests/qemu/*.test; sourced, busybox sh in
# the test VM).  Every case runs Debian's unmodified QEMU with -accel kvm,
# once on /dev/yakvm (through yakvm-qemu, which binds /dev/yakvm over /dev/kvm
# in a private mount namespace) and once on /dev/kvm (kvm_amd), in that order,
# and prints "ok DEV/qemu/...", "FAIL DEV/qemu/...: why" or "skip ...: why".
# Cases judge the guest's OUTPUT; QEMU's exit status is a secondary check
# (QEMU exits 1 for a start-up error as well as for some guest exits).
# A yakvm case that fails is a FAIL, never a skip.
# "SCRIPT --list" prints the names of the verdict lines the script would
# print, on any machine (scripts/inventory.py, `make manifest`): the scripts
# then only loop over their configurations.
LISTING=
[ "${1:-}" = --list ] && LISTING=1
export PATH=$PATH:/usr/bin
if [ -z "$LISTING" ]; then
	# kvm-unit-tests' runner uses process substitution and `tee /dev/stderr`:
	# devtmpfs has no /dev/fd or /dev/std* links (a real system's udev makes them).
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
	[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
	[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
fi
ESC=$(printf '\033')
# strip_colours: the runner's PASS/FAIL/SKIP come in ANSI colours.
strip_colours() { sed "s/$ESC\[[0-9;]*m//g"; }
QEMU_BIN=${QEMU_BIN:-/usr/bin/qemu-system-x86_64}
KVER=$(uname -r)		# the guest is the test VM's own Debian kernel
TMP=$(mktemp -d /tmp/qemu-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# list NAME...: under --list, the names, one a line.
list() { printf '%s\n' "$@"; }

ok() { echo "ok $1"; }
skip() { echo "skip $1: $2"; }

fail() { echo "FAIL $1: $2"; }

# wanted NAME WHICH: whether this run has configuration NAME, marked WHICH
# (q: make test and make test-full, f: make test-full only).  QEMU_ONLY
# (colon-separated names, tvm.args QEMU_ONLY=a:b) picks configurations by
# name instead, for a quick loop.
wanted() {
	if [ -n "${QEMU_ONLY:-}" ]; then
		case ":$QEMU_ONLY:" in *":$1:"*) return 0 ;; *) return 1 ;; esac
	fi
	[ "${YAKVM_QEMU_SUITE:-quick}" = full ] || [ "$2" = q ]
}
pass() { echo "ok $1${2:+: $2}"; }

# check CASE CONDITION-STATUS WHY: pass when the status is 0, else fail.
check() {
	if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi
}

# The devices, in the order their cases run.  /dev/kvm missing is a FAIL:
# the test VM always loads kvm_amd, and every case needs its reference.
devices() {
	echo yakvm
	echo kvm
}
have_dev() {
	[ -c "/dev/$1" ]
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

# one_line FILE [BYTES]: a file's tail as one line for a verdict message.
one_line() {
	tail -c "${2:-300}" "$1" 2>/dev/null | tr -d '\r' | tr '\n' '|'
}

# qemu_start_error TAG: the lines in which QEMU refused to start (or died),
# e.g. "kvm does not support KVM_CAP_MP_STATE" -- what a FAIL should say.
qemu_start_error() {
	grep -v -e 'warning:' -e '^$' "$TMP/$1.err" 2>/dev/null | head -4 | tr '\n' '|'
}

# qemu_run TAG DEV TIMEOUT STOP-MARKER [QEMU ARGS...]: runs QEMU with -accel
# kvm on DEV (yakvm or kvm), stdin from $TMP/TAG.in if it exists, the
# console (-serial stdio) in $TMP/TAG.out, stderr in $TMP/TAG.err, the exit
# status in $TMP/TAG.status (124: killed after TIMEOUT s; 125: yakvm-qemu
# could not set up the device) and the wall time in $TMP/TAG.time.  When
# STOP-MARKER (a fixed string, or "") shows up on the console QEMU gets 5 s
# to exit by itself and is then killed (status 137): the case judges the
# output, not how QEMU ended.  With QEMU_TIME_MARK set, the time until that
# string first shows up goes to $TMP/TAG.marktime (0.5 s resolution).
qemu_run() {
	local tag=$1 dev=$2 limit=$3 marker=$4 t0 pid n
	shift 4
	local in=/dev/null
	[ -e "$TMP/$tag.in" ] && in=$TMP/$tag.in
	t0=$(uptime_s)
	: > "$TMP/$tag.out"
	if [ "$dev" = yakvm ]; then
		YAKVM_QEMU=$QEMU_BIN yakvm-qemu -accel kvm "$@" < "$in" > "$TMP/$tag.out" 2> "$TMP/$tag.err" &
	else
		"$QEMU_BIN" -accel kvm "$@" < "$in" > "$TMP/$tag.out" 2> "$TMP/$tag.err" &
	fi
	pid=$!
	n=0
	rm -f "$TMP/$tag.marktime"
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "${QEMU_TIME_MARK:-}" ] && [ ! -e "$TMP/$tag.marktime" ] &&
		   grep -qF -- "$QEMU_TIME_MARK" "$TMP/$tag.out"; then
			elapsed "$t0" > "$TMP/$tag.marktime"
		fi
		if [ -n "$marker" ] && grep -qF -- "$marker" "$TMP/$tag.out"; then
			sleep 5
			kill -9 "$pid" 2>/dev/null
			break
		fi
		n=$((n + 1))
		if [ "$n" -gt $((limit * 2)) ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			echo 124 > "$TMP/$tag.status"
			elapsed "$t0" > "$TMP/$tag.time"
			return
		fi
		usleep 500000
	done
	wait "$pid"
	echo $? > "$TMP/$tag.status"
	elapsed "$t0" > "$TMP/$tag.time"
}

status_of() { cat "$TMP/$1.status" 2>/dev/null; }

# why_not TAG: one line saying what QEMU printed, for a FAIL.
why_not() {
	local e
	e=$(qemu_start_error "$1")
	if [ "$(status_of "$1")" = 124 ]; then
		echo "no answer within the time limit (QEMU killed); console: $(one_line "$TMP/$1.out")${e:+; stderr: $e}"
	elif [ -n "$e" ]; then
		echo "QEMU: $e (status $(status_of "$1")); console: $(one_line "$TMP/$1.out" 200)"
	else
		echo "status $(status_of "$1"); console: $(one_line "$TMP/$1.out")"
	fi
}

# The Linux guest (build/linux-guest: Debian's kernel and the busybox
# initramfs of scripts/guest/init, which runs the base64 "ycmd=" commands).
LINUX_KERNEL=/linux/vmlinuz
LINUX_INITRD=/linux/initrd.gz
# The guest command line.  no_timer_check and -global kvm-pit.lost_tick_policy
# (which kvm-unit-tests' runner passes too) keep the guest's timer checks
# from tripping over the slow nested timing of the test VM; quiet keeps the
# serial console (one exit per character) short -- the cases read the
# kernel log with dmesg instead.
LINUX_APPEND="console=ttyS0 panic=-1 no_timer_check quiet"
LINUX_QEMU="-nodefaults -display none -serial stdio -m 256 -global kvm-pit.lost_tick_policy=discard"

# linux_args CMD: the -kernel/-initrd/-append arguments for commands CMD.
linux_cmd_arg() {
	printf '%s\n' "$1" | base64 | tr -d '\n'
}

# section TAG NAME: the lines a guest printed between "@@<NAME" and "@@>NAME".
section() {
	tr -d '\r' < "$TMP/$1.out" | sed -n "/^@@<$2\$/,/^@@>$2\$/p" | sed '1d;$d'
}

# The guest's clock complaints: kernel messages of a clocksource watchdog, an
# unstable or unsynchronised TSC, or a clocksource switch away from the one
# it chose, with numbers normalised.
CLOCK_COMPLAINTS='clocksource watchdog|timekeeping watchdog|[Uu]nstable|unsynchroni[sz]ed|TSC warp|[Ss]kew|had cycles|Marking clocksource|Override clocksource|hpet.*lost|[Ll]ost .*tick|fallback'
clock_complaints() {
	section "$1" clock | sed 's/^\[[^]]*\] //' | grep -E "$CLOCK_COMPLAINTS" |
		sed -E 's/[0-9]+/N/g' | sort -u
}

# ---- QEMU with its console and monitor on FIFOs (migration) ----------------

# A Linux guest that keeps writing memory (guests/linux/dirty-writer.c: a
# thread per vCPU, WRITE_MIB MiB in all) while QEMU migrates it: the
# migration test and benchmark.  QEMU's -m is PIPED_MEM (MiB, default 256).
WRITE_MIB=32

# The guest starts the writers, reports, and waits for a line on its console
# (sent once the destination runs), then reports again.  Between
# "@@<NAME" and "@@>NAME": facts for the checks.
WRITER_GUEST_CMD='dirty-writer '$WRITE_MIB' $(nproc) /tmp/dw.status 2> /tmp/dw.err &
sleep 3
report() {
	echo "@@<$1"
	echo "status $(cat /tmp/dw.status)"
	echo "uptime $(cut -d" " -f1 /proc/uptime)"
	echo "timer $(grep LOC: /proc/interrupts | sed "s/[^0-9 ]//g" | tr -s " ")"
	echo "procs 1 $$ $(pidof dirty-writer)"
	echo "@@>$1"
}
report before
echo "@@ MIGRATE"
read -r go
sleep 3
report after
echo "@@<lost"; cat /tmp/dw.err; echo "@@>lost"'

# info_of TAG SECTION KEY: the value of a "KEY value" line of a section.
info_of() { section "$1" "$2" | sed -n "s/^$3 //p"; }

# piped_start TAG DEV ARGS...: QEMU in the background, its console and monitor on
# FIFOs ($TMP/TAG.ser.in/.out, $TMP/TAG.mon.in/.out: QEMU's pipe chardev),
# what they print copied to $TMP/TAG.out and $TMP/TAG.mon.
piped_start() {
	local tag=$1 dev=$2 f
	shift 2
	for f in ser.in ser.out mon.in mon.out; do
		rm -f "$TMP/$tag.$f"
		mkfifo "$TMP/$tag.$f"
	done
	: > "$TMP/$tag.out"
	: > "$TMP/$tag.mon"
	if [ "$dev" = yakvm ]; then
		set -- env YAKVM_QEMU="$QEMU_BIN" yakvm-qemu "$@"
	else
		set -- "$QEMU_BIN" "$@"
	fi
	"$@" -accel kvm -nodefaults -display none -no-reboot -m ${PIPED_MEM:-256} \
		-global kvm-pit.lost_tick_policy=discard \
		-chardev pipe,id=ser,path="$TMP/$tag.ser" -serial chardev:ser \
		-chardev pipe,id=mon,path="$TMP/$tag.mon" -mon chardev=mon,mode=readline \
		< /dev/null > "$TMP/$tag.err" 2>&1 &
	echo $! > "$TMP/$tag.pid"
	cat "$TMP/$tag.ser.out" >> "$TMP/$tag.out" &
	echo $! > "$TMP/$tag.cats"
	cat "$TMP/$tag.mon.out" >> "$TMP/$tag.mon" &
	echo $! >> "$TMP/$tag.cats"
	# Each write to the .in FIFOs opens it: QEMU holds it open (O_RDWR).
}

# piped_send TAG FIFO TEXT: a line into $TMP/TAG.FIFO.in (ser or mon).  The
# open blocks while no QEMU holds the FIFO (one that died): give up then.
piped_send() {
	timeout 5 sh -c 'printf "%s\n" "$1" > "$2"' sh "$3" "$TMP/$1.$2.in"
}

# piped_monitor TAG COMMAND: one HMP command.
piped_monitor() {
	piped_send "$1" mon "$2"
}

piped_alive() { kill -0 "$(cat "$TMP/$1.pid")" 2>/dev/null; }

# piped_wait_for TAG FILE-SUFFIX STRING SECONDS: until STRING shows up in
# $TMP/TAG.SUFFIX (0: seen; 1: QEMU died or the time ran out).
piped_wait_for() {
	local n=0
	while ! grep -qF -- "$3" "$TMP/$1.$2" 2>/dev/null; do
		piped_alive "$1" || return 1
		n=$((n + 1))
		[ "$n" -gt $(($4 * 2)) ] && return 1
		usleep 500000
	done
}

piped_stop() {
	local pid
	pid=$(cat "$TMP/$1.pid")
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The console and monitor copies end with QEMU, or never if it died
	# before it opened the FIFOs.
	usleep 200000
	kill $(cat "$TMP/$1.cats") 2>/dev/null
	wait 2>/dev/null
}

# migrate_out TAG: migrates the running guest to $TMP/TAG.state; empty
# output when it completed, else why not.
migrate_out() {
	local n=0
	piped_monitor "$1" "migrate_set_parameter downtime-limit 1000"
	piped_monitor "$1" "migrate \"exec:cat > $TMP/$1.state\""
	while :; do
		: > "$TMP/$1.mon"
		piped_monitor "$1" "info migrate"
		usleep 500000
		grep -q 'Migration status: completed' "$TMP/$1.mon" && return
		if grep -q 'Migration status: failed' "$TMP/$1.mon"; then
			echo "migration failed: $(grep -i -e error -e fail "$TMP/$1.mon" | head -3 | tr '\n' '|')"
			return
		fi
		piped_alive "$1" || { echo "the source QEMU died: $(one_line "$TMP/$1.err")"; return; }
		n=$((n + 1))
		[ "$n" -gt 600 ] && { echo "not completed within 300 s: $(tr -d '\r' < "$TMP/$1.mon" | grep -e status -e remaining -e dirty | tr '\n' '|')"; return; }
	done
}

# migration_times TAG: "total time: N ms, downtime: N ms" of the last
# `info migrate`.
migration_times() {
	tr -d '\r' < "$TMP/$1.mon" | sed -n 's/^\(total time\|downtime\): *\([0-9]*\) ms$/\1 \2 ms/p' |
		tail -2 | tr '\n' ',' | sed 's/,$//; s/,/, /'
}
