#!/bin/bash
# Boots the yakvm test VM: Debian's kernel with build/testvm.cpio.gz, 2 vCPUs,
# 2 GiB, emulated SVM.  On an AMD host with nested SVM in kvm_amd the outer VM
# uses KVM (-cpu host); otherwise QEMU's TCG with the chosen CPU model.
#
#   testvm.sh [--cpu epyc|max] [--mode MODE] [--timeout SEC] [--threads single|multi]
#             [--results FILE] [--log FILE] [--extra DIR] [--filter STR] [--args A,B]
#             [--gdb] [--append "kernel args"] [--kver VERSION --initrd FILE]
#
# Modes are those of scripts/vm/init.  In test-like modes the kernel log goes to
# --log and the results (second serial port) to stdout and --results; in
# interactive modes the console is this terminal.  Exit status: QEMU's, or 124
# when the hard timeout stopped the VM.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=epyc mode=shell timeout_s=900 threads=single results="" log="" extra=""
filter="" args="" gdb=0 append="" kver="" initrd=build/testvm.cpio.gz
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) cpu=$2; shift ;;
	--mode) mode=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	--threads) threads=$2; shift ;;
	--results) results=$2; shift ;;
	--log) log=$2; shift ;;
	--extra) extra=$2; shift ;;
	--filter) filter=$2; shift ;;
	--args) args=$2; shift ;;
	--gdb) gdb=1 ;;
	--append) append=$2; shift ;;
	--kver) kver=$2; shift ;;		# another kernel line (scripts/kver.sh)
	--initrd) initrd=$2; shift ;;	# ... with its initramfs (mkinitramfs.sh)
	*) echo "testvm.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

[ -n "$kver" ] || kver=$(cat build/kver 2>/dev/null || scripts/kver.sh)
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || { echo "testvm.sh: $kernel missing; run 'make env'" >&2; exit 1; }
[ -r "$initrd" ] || { echo "testvm.sh: $initrd missing; run 'make initramfs'" >&2; exit 1; }

case "$cpu" in
epyc) model="EPYC,+svm,+npt" ;;
max) model="max" ;;
*) echo "testvm.sh: --cpu must be epyc or max" >&2; exit 2 ;;
esac

# A real AMD-V host with nested SVM: let KVM run the outer VM.
accel="tcg,thread=$threads"
if grep -qw svm /proc/cpuinfo 2>/dev/null && [ -w /dev/kvm ] &&
   grep -q '^[1Y]' /sys/module/kvm_amd/parameters/nested 2>/dev/null; then
	accel=kvm
	model=host
fi

# More cpio archives ride after the first, each unpacked over the ones
# before: Debian's QEMU and GNU tools (build/qemu-root.cpio.gz,
# scripts/mkqemuroot.sh) and kvm-unit-tests (build/kut.cpio.gz,
# scripts/mkkut.sh) for the QEMU tests, when built -- not for the harness
# self-checks, which need neither -- and extra files (e.g. /etc/run.sh for
# `make run`).
layers=()
case "$mode" in
selfcheck-*) ;;
*)	for f in build/qemu-root.cpio.gz build/kut.cpio.gz; do
		[ -s "$f" ] && layers+=("$f")
	done ;;
esac
if [ -n "$extra" ] || [ ${#layers[@]} -gt 0 ]; then
	combined=$(mktemp /tmp/yakvm-initrd.XXXXXX)
	trap 'rm -f "$combined"' EXIT
	cat "$initrd" ${layers[@]+"${layers[@]}"} > "$combined"
	[ -n "$extra" ] &&
		(cd "$extra" && find . | cpio -o -H newc --quiet) | gzip -1 >> "$combined"
	initrd=$combined
fi

cmdline="console=ttyS0 panic=-1 tvm.mode=$mode tvm.cpu=$cpu"
[ -n "$filter" ] && cmdline+=" tvm.filter=$filter"
[ -n "$args" ] && cmdline+=" tvm.args=$args"
case "$mode" in
run|shell) cmdline+=" quiet loglevel=3" ;;
debug) cmdline+=" nokaslr" ;;
esac
[ -n "$append" ] && cmdline+=" $append"

# The QEMU tests boot with one vCPU: with two, single-threaded TCG switches
# between them on a timer, and each switch can make QEMU's emulated SVM
# deliver an interrupt that KVM injected a second time (the bug yakvm works
# around, docs/design.md); QEMU+KVM guests with KVM's in-kernel irqchip then
# hang within seconds.  With one vCPU they boot (docs/qemu.md).
smp=2
case "$mode" in qemu|qemu-bench) smp=1 ;; esac
smp=${YAKVM_TESTVM_SMP:-$smp}
qemu=(qemu-system-x86_64 -accel "$accel" -cpu "$model" -smp "$smp" -m 2048
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      -nodefaults -display none -no-reboot)
[ "$gdb" = 1 ] && qemu+=(-s)

case "$mode" in
run|shell|debug)
	qemu+=(-serial mon:stdio -serial null)
	# QEMU lists every CPUID bit of the EPYC model TCG cannot emulate;
	# those lines say nothing about yakvm, so they stay out of the console.
	# Not exec'd: the EXIT trap removes the combined initrd afterwards.
	set +e
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" \
		2> >(grep -v "TCG doesn't support requested feature" >&2)
	exit $?
	;;
*)
	log=${log:-build/testvm-$mode-$cpu.log}
	results=${results:-build/testvm-$mode-$cpu.results}
	mkdir -p "$(dirname "$log")" "$(dirname "$results")"
	qemu+=(-serial "file:$log" -serial stdio)
	set +e
	timeout -k 10 "$timeout_s" "${qemu[@]}" < /dev/null 2> "${log%.log}.qemu-stderr" | sed -u 's/\r//g' | tee "$results"
	rc=${PIPESTATUS[0]}
	exit "$rc"
	;;
esac
