# shellcheck shell=bash
# Sourced by scripts/test.sh: the QEMU tests' boot (tests/qemu/, docs/qemu.md).
# Debian's QEMU on /dev/yakvm and /dev/kvm -- SeaBIOS, Linux, virtio,
# kvm-unit-tests -- in a test VM of its own with one vCPU (scripts/testvm.sh
# says why), on one CPU model: epyc when the run includes it.
#   YAKVM_QEMU_SUITE=quick (make test) or full (make test-full)
#   YAKVM_QEMU_TIMEOUT     the boot's hard limit in seconds
# With --filter the boot runs only when the filter names these tests
# ("qemu", "qemu/linux", "kut", ...).  Uses test.sh's judge, $out, $threads.
qemu_suite() {
	local suite=${YAKVM_QEMU_SUITE:-quick} cpu limit args
	case " $cpus " in *" epyc "*) cpu=epyc ;; *) cpu=${cpus%% *} ;; esac
	if [ -n "$filter" ]; then
		case ",$filter," in *,qemu*|*,kut,*) ;; *) return 0 ;; esac
	fi
	limit=1500
	[ "$suite" = full ] && limit=5400
	limit=${YAKVM_QEMU_TIMEOUT:-$limit}
	args=$suite
	echo "== QEMU tests on CPU model $cpu (one vCPU; suite $suite)"
	res=$out/qemu-$cpu.results
	log=$out/qemu-$cpu.log
	scripts/testvm.sh --cpu "$cpu" --mode qemu --timeout "$limit" --threads "$threads" \
		--args "$args" --results "$res" --log "$log" ${filter:+--filter "$filter"} |
		sed -u "s/^/[qemu-$cpu] /"
	rc=${PIPESTATUS[0]}
	judge "qemu-$cpu" "$res" "$log" "$rc"
}
