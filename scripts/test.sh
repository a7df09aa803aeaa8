#!/bin/bash
# make test: proves the harness catches failures, then boots the test VM
# under each CPU model and runs the whole suite.  Ends with the line
# "N passed, N failed, N skipped"; exits non-zero when anything failed, a VM
# did not finish, a kernel log shows a warning or crash, a case of the
# inventory (tests/manifest.txt) is missing or unexpected, or a case skipped
# without a line in tests/allowed-skips.txt (docs/testing.md).
#   test.sh [--threads single|multi] [--cpus "epyc max"] [--filter STR] [--no-selfcheck]
#           [--lines "6.12"] [--full] [--deb]
# --full (make test-full): also the scenarios too slow for make test (the
# inventory's "full" cases, tvm.full=1 in the test VM; docs/testing.md).
# --lines: other kernel lines than build/kver's (make test: Debian 12's 6.12,
# scripts/kver.sh --lines); on each the module is built against its headers
# and a test VM boots that kernel.  Without --full (make test) a smoke set
# runs there on one CPU model; with --full (make test-full) the whole suite
# on every CPU model.  --deb: make deb, lintian and the DKMS check
# (docs/packaging.md).
set -uo pipefail
cd "$(dirname "$0")/.."

threads=single cpus="epyc max" filter="" selfcheck=1 full=""
lines="" deb=0
# A hang guard per boot, not a speed limit: a boot takes ~6 min on an idle
# 2-core machine and more than twice that when other VMs share it.
suite_timeout=${YAKVM_SUITE_TIMEOUT:-2400}
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) threads=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--filter) filter=$2; shift ;;
	--no-selfcheck) selfcheck=0 ;;
	--lines) lines=$2; shift ;;
	--full) full=1 ;;
	--deb) deb=1 ;;
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
python=/usr/bin/python3

result() {		# result ok|FAIL|skip NAME [WHY]
	local status=$1 name=$2 why=${3:-}
	case "$status" in
	ok) passed=$((passed + 1)); echo "ok $name${why:+: $why}" ;;
	skip) skipped=$((skipped + 1)); echo "skip $name: $why" ;;
	*) failed=$((failed + 1)); echo "FAIL $name: $why" ;;
	esac
}

# count_results [PREFIX] < LINES: counts and prints the "ok|FAIL|skip NAME[: why]" lines.
count_results() {
	local status name why
	while read -r status name why; do
		result "$status" "${1:+$1/}$name" "${why#: }"
	done < <(grep -E '^(ok|FAIL|skip) ' | sed -E 's/^(ok|FAIL|skip) ([^:]*)(: )?/\1 \2 /')
}

# tally FILE: adds a judged file's verdicts to the totals without printing.
tally() {
	passed=$((passed + $(grep -c '^ok ' "$1")))
	failed=$((failed + $(grep -c '^FAIL ' "$1")))
	skipped=$((skipped + $(grep -c '^skip ' "$1")))
}

# unicorn_judge CPU RESULTS [--no-selfcheck]: replays the boot's single-step
# traces in unicorn, an independent emulator, on the host (docs/testing.md,
# "Single-step judge"); leaves its verdicts in $out/unicorn-CPU.results.
unicorn_judge() {
	local verdicts=$out/unicorn-$1.results
	$python scripts/unicorn-compare.py ${3:-} "$2" > "$verdicts" 2> "$verdicts.err"
	[ -s "$verdicts.err" ] &&
		echo "FAIL unicorn/judge: the judge crashed: $(tail -1 "$verdicts.err")" >> "$verdicts"
	sed "s/^/[$1] /" "$verdicts"
}

# judge TAG MODEL RESULTS LOG RC MANIFEST SKIPS ONCE FILTER [MORE RESULTS...]: judges
# one boot: its verdict lines against the inventory and the allowed skips,
# whether the VM finished, whether its kernel log is clean.  Writes every
# verdict of the boot to $out/judged-TAG.results (counted by the caller)
# and prints what the judging added.  Sets judged_finished/judged_clean.
judge() {
	local tag=$1 model=$2 res=$3 log=$4 rc=$5 manifest=$6 skips=$7 once=$8 jfilter=$9 problems
	local jfull=$full
	local judged=$out/judged-$tag.results
	shift 9
	judged_finished=1 judged_clean=1
	grep -q '^@@ END' "$res" || judged_finished=0
	problems=$(scripts/scan-log.sh "$log") || judged_clean=0
	$python scripts/inventory.py check --manifest "$manifest" --skips "$skips" \
		--model "$model" --tag "$tag" ${once:+--once} ${jfull:+--full} ${jfilter:+--filter "$jfilter"} \
		--judged "$judged" "$res" "$@" 2>&1 | sed "s/^/[$tag] /"
	[ -s "$judged" ] || echo "FAIL $tag/harness/inventory: scripts/inventory.py failed" > "$judged"
	if [ "$judged_finished" = 1 ]; then
		echo "ok $tag/harness/vm-finished" >> "$judged"
	else
		echo "FAIL $tag/harness/vm-finished: no end marker (VM status $rc: timeout, crash or hang); log in $log" >> "$judged"
	fi
	if [ "$judged_clean" = 1 ]; then
		echo "ok $tag/harness/kernel-log-clean" >> "$judged"
	else
		echo "FAIL $tag/harness/kernel-log-clean: kernel log $log shows: $(echo "$problems" | head -3 | tr '\n' '|')" >> "$judged"
	fi
	tail -2 "$judged"
	[ "$judged_clean" = 1 ] || echo "$problems" | head -20 | sed 's/^/    /'
}

# boot CPU MODE TIMEOUT [testvm.sh args]: runs the VM; sets res, log, rc.
# $boot_name names its files instead of MODE, $boot_tag prefixes its lines.
boot() {
	local cpu=$1 mode=$2 timeout_s=$3
	shift 3
	res=$out/${boot_name:-$mode}-$cpu.results
	log=$out/${boot_name:-$mode}-$cpu.log
	scripts/testvm.sh --cpu "$cpu" --mode "$mode" --timeout "$timeout_s" --threads "$threads" \
		--results "$res" --log "$log" "$@" |
		sed -u "/^@step /d; s/^/[${boot_tag:-${mode/#test/$cpu}}] /"	# step traces: results file only
	rc=${PIPESTATUS[0]}
}

echo "== host-side checks: build warnings, sparse, checkpatch, unit tests, the inventory"
count_results < <(scripts/style.sh; scripts/unit.sh; $python scripts/inventory.py manifest --check
	# The full QEMU inventory lists kvm-unit-tests' tests, read from the
	# pinned archive (scripts/mkkut.sh), which a machine may not have;
	# make test-full needs it, make test does not.
	suites=quick
	[ -r build/kvm-unit-tests/x86/unittests.cfg ] && suites="quick full"
	[ "$full" = 1 ] && suites="quick full"
	for suite in $suites; do
		YAKVM_QEMU_SUITE=$suite $python scripts/inventory.py manifest --check \
			--tests build/tests/qemu --out tests/qemu/manifest-$suite.txt \
			--case harness/qemu-manifest-$suite-current
	done)

if [ "$selfcheck" = 1 ]; then
	echo "== harness self-check: the runner and the judge on tests that fail on purpose"
	# tests/selfcheck/: test binaries and scripts that pass, fail, crash,
	# leak, skip with and without leave, miss a listed case and print an
	# unlisted one; then the same without KVM, and a kernel warning.  The
	# judge must come to exactly the verdicts of tests/selfcheck/expected.txt.
	boot epyc selfcheck 240 > /dev/null	# its FAILs are on purpose: only the judgement counts
	judge selfcheck epyc "$res" "$log" "$rc" tests/selfcheck/manifest.txt \
		tests/selfcheck/allowed-skips.txt once "" > /dev/null
	got=$(sed -E 's/^(ok|FAIL|skip) ([^ :]*).*/\1 \2/' "$out/judged-selfcheck.results" | sort)
	want=$(grep -v '^#' tests/selfcheck/expected.txt | sort)
	if [ "$got" = "$want" ]; then
		result ok harness/selfcheck-judged-as-expected \
			"$(echo "$want" | grep -c '^FAIL') failures and $(echo "$want" | grep -c '^skip') allowed skip caught, as tests/selfcheck/expected.txt says"
	else
		result FAIL harness/selfcheck-judged-as-expected \
			"judged otherwise than tests/selfcheck/expected.txt: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -8 | tr '\n' '|')"
	fi

	echo "== harness self-check: a VM that hangs"
	boot epyc selfcheck-hang 25
	if [ "$rc" = 124 ] && ! grep -q '^@@ END' "$res"; then
		result ok harness/selfcheck-stops-hung-vm
	else
		result FAIL harness/selfcheck-stops-hung-vm "VM status $rc"
	fi
fi

# filter_hits MANIFEST: whether --filter names a test of MANIFEST (or there
# is no filter): a boot whose tests the filter leaves out is not made.
filter_hits() {
	local b part
	[ -z "$filter" ] && return 0
	for b in $(awk '!/^#/ && $1 != "@harness" { print $1 }' "$1" | sort -u); do
		for part in ${filter//,/ }; do
			[[ $b == *"$part"* ]] && return 0
		done
	done
	return 1
}

# ---- The boots: the suite on each CPU model, the QEMU tests, the other
# kernel lines, the packages.  Each is a job: its boot part (and what it
# must build first) runs in the background and writes only files under
# $out; its judge part judges and counts them, in the jobs' order, so the
# output and the totals are those of a sequential run.  A single-threaded
# TCG VM keeps one host CPU busy, so YAKVM_TEST_JOBS (default: 2 with
# --threads single on a machine with 2 or more CPUs, else 1) boots run at a
# time; a boot's hang guards are per test and per boot, not speed limits.
jobs=()
add_job() { jobs+=("$*"); }

# The tests marked "cpu-model-independent" run in the first boot only --
# in every boot with --full (make test-full).
job_suite_boot() {	# CPU ONCE
	local cpu=$1 append="${2:+tvm.once=1 }${full:+tvm.full=1}"
	append=${append% }
	echo "== suite on CPU model $cpu ($threads-threaded TCG unless KVM runs the outer VM)"
	boot "$cpu" test "$suite_timeout" ${filter:+--filter "$filter"} ${append:+--append "$append"}
	echo "$rc" > "$out/test-$cpu.rc"
}
job_suite_judge() {	# CPU ONCE
	local cpu=$1 jonce=${2:-}
	res=$out/test-$cpu.results log=$out/test-$cpu.log rc=$(cat "$out/test-$cpu.rc")
	unicorn_judge "$cpu" "$res" $([ -n "$jonce" ] || echo --no-selfcheck)
	judge "$cpu" "$cpu" "$res" "$log" "$rc" tests/manifest.txt tests/allowed-skips.txt \
		"$jonce" "$filter" "$out/unicorn-$cpu.results"
	tally "$out/judged-$cpu.results"
}

# The other kernel lines (docs/packaging.md, "Kernel lines").  make test
# runs this smoke set on one CPU model, a few minutes: every ioctl group,
# coexistence, module reload, PIO/MMIO exits, guest modes, memory slots,
# dirty log, kvmclock, the in-kernel irqchip's main paths, NPT, signals,
# stats, the VMM's guests; make test-full everything on both models.
line_smoke="ioctl,coexist,module_reload,pio,mmio,exits,guest_modes,memslots,dirty_log,kvmclock,irq_lapic,irq_ioapic,irq_msi,irq_create,irq_mpstate,npt_tables,delivery_npf,signals,stats,cpu_hotplug,vmm-guests"
if [ "$full" = 1 ]; then lcpus=${cpus:-epyc max} lfilter=$filter; else
	lcpus=${cpus%% *} lcpus=${lcpus:-epyc} lfilter=${filter:-$line_smoke}; fi
job_line_boot() {	# LINE: the module and its checks, then a boot per CPU model
	local line=$1 kv ko cpu lonce
	local fails=$out/line-$line.fails
	: > "$fails"
	kv=$(scripts/kver.sh "$line") || {
		echo "FAIL $line/harness/kernel: no $line kernel installed (make env)" > "$fails"
		return
	}
	echo "$kv" > "$out/line-$line.kver"
	echo "== kernel line $line ($kv): module build and checks against its headers"
	ko=build/k-$kv/yakvm.ko
	rm -f "$ko"
	scripts/style.sh "$kv" "$ko" > "$out/line-$line.style" 2>&1
	[ -f "$ko" ] || { echo "FAIL $line/harness/module: yakvm.ko was not built for $kv" > "$fails"; return; }
	scripts/mkinitramfs.sh "build/testvm-$kv.cpio.gz" "$kv" "$ko" ||
		{ echo "FAIL $line/harness/initramfs: mkinitramfs.sh failed for $kv" > "$fails"; return; }
	[ "$full" = 1 ] && lonce=1 || lonce=""
	for cpu in $lcpus; do
		echo "== suite on kernel $line, CPU model $cpu${lfilter:+ (tests matching $lfilter)}"
		boot_name="test-$line" boot_tag="$line $cpu" boot "$cpu" test "$suite_timeout" \
			--kver "$kv" --initrd "build/testvm-$kv.cpio.gz" \
			--append "tvm.coexist=1${lonce:+ tvm.once=1}${full:+ tvm.full=1}" ${lfilter:+--filter "$lfilter"}
		echo "$rc" > "$out/test-$line-$cpu.rc"
		lonce=""
	done
}
job_line_judge() {	# LINE
	local line=$1 cpu tag lonce
	[ -s "$out/line-$line.style" ] && count_results "$line" < "$out/line-$line.style"
	if [ -s "$out/line-$line.fails" ]; then
		count_results < "$out/line-$line.fails"
		return
	fi
	[ "$full" = 1 ] && lonce=1 || lonce=""
	for cpu in $lcpus; do
		tag="$line-$cpu"
		res=$out/test-$line-$cpu.results log=$out/test-$line-$cpu.log
		rc=$(cat "$out/test-$line-$cpu.rc")
		# coexist-at-load/ (scripts/vm/init): 6.12's kvm_amd holding SVM
		# from load time; not in the inventory, counted here.
		grep -E '^(ok|FAIL|skip) coexist-at-load/' "$res" > "$out/coexist-$tag.results"
		grep -vE '^(ok|FAIL|skip) coexist-at-load/' "$res" > "$res.suite"
		unicorn_judge "$tag" "$res.suite" $([ -n "$lonce" ] || echo --no-selfcheck)
		judge "$tag" "$cpu" "$res.suite" "$log" "$rc" tests/manifest.txt tests/allowed-skips.txt \
			"$lonce" "$lfilter" "$out/unicorn-$tag.results" | sed -u "s/^\[$tag\]/[$line $cpu]/"
		tally "$out/judged-$tag.results"
		count_results "$line-$cpu" < "$out/coexist-$tag.results"
		[ -s "$out/coexist-$tag.results" ] ||
			result FAIL "$tag/coexist-at-load" "the check did not run (see $res)"
		lonce=""
	done
}

job_deb_boot() {
	echo "== packages: make deb, lintian, the DKMS check (docs/packaging.md)"
	scripts/deb-check.sh > "$out/deb.results" 2>&1
}
job_deb_judge() {
	count_results < "$out/deb.results"
}

# The QEMU tests and kvm-unit-tests: a boot of their own (docs/qemu.md).
. scripts/test-qemu.sh

# The longest boot first (the QEMU tests, about half of make test), so
# that the suites on the CPU models fill the other slot meanwhile and the
# short jobs (the other kernel lines, the packages) come last.
qemu_wanted && add_job qemu
first=1
for cpu in $cpus; do
	filter_hits tests/manifest.txt || break
	add_job suite "$cpu" "${first:+1}"
	first=$full
done
for line in $lines; do
	add_job line "$line"
done
[ "$deb" = 1 ] && add_job deb

njobs=${YAKVM_TEST_JOBS:-1}
[ -z "${YAKVM_TEST_JOBS:-}" ] && [ "$threads" = single ] && [ "$(nproc)" -ge 2 ] && njobs=2
pids=() next=0
start_job() {	# K
	local k=$1
	# shellcheck disable=SC2086
	set -- ${jobs[k]}
	date +%s > "$out/job-$k.start"
	( "job_$1_boot" "${@:2}"; date +%s > "$out/job-$k.end" ) > "$out/job-$k.console" 2>&1 < /dev/null &
	pids[k]=$!
}
# fill: starts the next jobs, in order, while fewer than $njobs run.
fill() {
	local j n=0
	for ((j = 0; j < next; j++)); do
		kill -0 "${pids[j]}" 2>/dev/null && n=$((n + 1))
	done
	while ((next < ${#jobs[@]} && n < njobs)); do
		start_job "$next"
		next=$((next + 1)) n=$((n + 1))
	done
}
fill
for ((k = 0; k < ${#jobs[@]}; k++)); do
	# The job in front is shown as it runs; the others when their turn
	# comes.  A slot that frees meanwhile takes the next job.
	tail -n +1 -f --pid="${pids[k]}" "$out/job-$k.console" &
	viewer=$!
	while kill -0 "${pids[k]}" 2>/dev/null; do
		fill
		sleep 2
	done
	wait "${pids[k]}"
	wait "$viewer"
	fill
	# shellcheck disable=SC2086
	set -- ${jobs[k]}
	"job_$1_judge" "${@:2}"
	# What a job costs, for the order above and make test's budget.
	echo "# job $* ran from +$(( $(cat "$out/job-$k.start") - start ))s to +$(( $(cat "$out/job-$k.end" 2>/dev/null || date +%s) - start ))s"
done

elapsed=$(( $(date +%s) - start ))
echo "make test took $((elapsed / 60))m$((elapsed % 60))s; logs in $out/"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
