# shellcheck shell=bash
# Sourced by scripts/test.sh: the QEMU tests' boot (tests/qemu/).  Debian's
# QEMU on /dev/yakvm and /dev/kvm -- SeaBIOS, Linux, virtio, kvm-unit-tests
# -- in a test VM of its own with one vCPU (scripts/testvm.sh says why), on
# one CPU model: epyc when the run includes it.  Judged like the suite's
# boots, against tests/qemu/manifest-SUITE.txt (`make manifest`).
#   YAKVM_QEMU_SUITE=quick (make test) or full (make test-full)
#   YAKVM_QEMU_TIMEOUT     the boot's hard limit in seconds (a hang guard)
# With --filter the boot runs only when the filter names one of these tests
# (qemu, qemu-linux, seabios, kut, ...).  Uses test.sh's boot, judge, tally,
# filter_hits.
qemu_suite=${YAKVM_QEMU_SUITE:-quick}
case " $cpus " in *" epyc "*) qemu_cpu=epyc ;; *) qemu_cpu=${cpus%% *} ;; esac
qemu_manifest=tests/qemu/manifest-$qemu_suite.txt

# qemu_wanted: whether this run has the QEMU boot (--filter may leave it out).
qemu_wanted() {
	filter_hits "$qemu_manifest"
}

# The boot and its judgement: test.sh's job "qemu".
job_qemu_boot() {
	local limit=3000
	[ "$qemu_suite" = full ] && limit=9000
	limit=${YAKVM_QEMU_TIMEOUT:-$limit}
	echo "== QEMU tests on CPU model $qemu_cpu (one vCPU; suite $qemu_suite)"
	boot "$qemu_cpu" qemu "$limit" --args "$qemu_suite" ${filter:+--filter "$filter"}
	echo "$rc" > "$out/qemu-$qemu_cpu.rc"
}
job_qemu_judge() {
	res=$out/qemu-$qemu_cpu.results log=$out/qemu-$qemu_cpu.log
	rc=$(cat "$out/qemu-$qemu_cpu.rc")
	judge "qemu-$qemu_cpu" "$qemu_cpu" "$res" "$log" "$rc" "$qemu_manifest" tests/allowed-skips.txt \
		"" "$filter"
	tally "$out/judged-qemu-$qemu_cpu.results"
}
