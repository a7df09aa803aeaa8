# shellcheck shell=bash
# Sourced by scripts/test.sh: the QEMU tests' boot (tests/qemu/).  Debian's
# QEMU on /dev/yakvm and /dev/kvm -- SeaBIOS, Linux, virtio, kvm-unit-tests
# -- in a test VM of its own with one vCPU (scripts/testvm.sh says why), on
# one CPU model: epyc when the run includes it.  Judged like the suite's
# boots, against tests/qemu/manifest-SUITE.txt (`make manifest`).
#   YAKVM_QEMU_SUITE=quick (make test) or full (make test-full)
#   YAKVM_QEMU_TIMEOUT     the boot's hard limit in seconds (a hang guard)
# With --filter the boot runs only when the filter names one of these tests
# (qemu, qemu-linux, seabios, kut, ...).  Uses test.sh's boot, judge, tally.
qemu_suite() {
	local suite=${YAKVM_QEMU_SUITE:-quick} cpu limit manifest
	case " $cpus " in *" epyc "*) cpu=epyc ;; *) cpu=${cpus%% *} ;; esac
	manifest=tests/qemu/manifest-$suite.txt
	filter_hits "$manifest" || return 0
	limit=3000
	[ "$suite" = full ] && limit=9000
	limit=${YAKVM_QEMU_TIMEOUT:-$limit}
	echo "== QEMU tests on CPU model $cpu (one vCPU; suite $suite)"
	boot "$cpu" qemu "$limit" --args "$suite" ${filter:+--filter "$filter"}
	judge "qemu-$cpu" "$cpu" "$res" "$log" "$rc" "$manifest" tests/allowed-skips.txt \
		"" "$filter"
	tally "$out/judged-qemu-$cpu.results"
}
