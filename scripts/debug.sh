#!/bin/bash
# make debug: the test VM with QEMU's gdbstub, and gdb attached with the
# module's symbols at the addresses the VM reports (/sys/module/yakvm/sections)
# and, with DEBUG_VMLINUX=1, the kernel's (Debian's -dbg package, ~850 MB).
#
# The VM's console is a UNIX socket: attach to it from another terminal with
#   socat -,raw,echo=0 UNIX-CONNECT:build/debug/console.sock
# With stdin not a terminal, gdb runs in batch mode, prints where a few yakvm
# functions are, and everything stops (used to check that this target works).
set -euo pipefail
cd "$(dirname "$0")/.."
cpu=epyc
[ "${1:-}" = --cpu ] && cpu=$2
kver=$(cat build/kver 2>/dev/null || scripts/kver.sh)
dir=build/debug
rm -rf "$dir"
mkdir -p "$dir"

vmlinux=""
if [ "${DEBUG_VMLINUX:-0}" = 1 ]; then
	vmlinux=/usr/lib/debug/boot/vmlinux-$kver
	if [ ! -r "$vmlinux" ]; then
		echo "debug: installing linux-image-$kver-dbg for the kernel's symbols"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "linux-image-$kver-dbg"
	fi
fi

model="EPYC,+svm,+npt"
[ "$cpu" = max ] && model=max
qemu-system-x86_64 -accel tcg,thread=single -cpu "$model" -smp 2 -m 2048 \
	-kernel "/boot/vmlinuz-$kver" -initrd build/testvm.cpio.gz \
	-append "console=ttyS0 panic=-1 nokaslr tvm.mode=debug" \
	-nodefaults -display none -no-reboot -s \
	-serial "unix:$dir/console.sock,server=on,wait=off" \
	-serial "file:$dir/sections.txt" > "$dir/qemu.log" 2>&1 &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null || true' EXIT

echo "debug: booting the test VM (gdbstub on localhost:1234) ..."
for _ in $(seq 120); do
	grep -q '^@@ SECTIONS DONE' "$dir/sections.txt" 2>/dev/null && break
	kill -0 $qemu_pid 2>/dev/null || { cat "$dir/qemu.log"; exit 1; }
	sleep 1
done
grep -q '^@@ SECTIONS DONE' "$dir/sections.txt" || { echo "debug: the VM did not load yakvm" >&2; exit 1; }

section() { awk -v s="$1" '$1 == "section" && $2 == s { print $3 }' "$dir/sections.txt"; }
{
	[ -n "$vmlinux" ] && echo "file $vmlinux"
	echo "target remote localhost:1234"
	echo "add-symbol-file driver/yakvm.ko -s .text $(section .text) -s .data $(section .data) -s .bss $(section .bss) -s .rodata $(section .rodata)"
} > "$dir/gdbinit"
echo "debug: module sections: $(tr '\n' ' ' < "$dir/sections.txt")"
echo "debug: VM console: socat -,raw,echo=0 UNIX-CONNECT:$dir/console.sock"

if [ -t 0 ]; then
	gdb -q -x "$dir/gdbinit"
else
	gdb -q -batch -x "$dir/gdbinit" -ex 'info address yakvm_vcpu_run' \
		-ex 'info address __yakvm_vmrun' -ex 'info registers rip' 2>&1 | tail -5
fi
