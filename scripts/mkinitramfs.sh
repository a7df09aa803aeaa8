#!/bin/bash
# Builds the test VM's initramfs: busybox, /init, yakvm.ko, Debian's KVM
# modules (so tests can compare with /dev/kvm), the VMM, the tests and guests.
#   mkinitramfs.sh OUTPUT.cpio.gz [KVER YAKVM.KO]
# KVER and YAKVM.KO: another kernel than build/kver's, and yakvm.ko built
# for it (scripts/test.sh's second kernel line, docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
kver=${2:-$(cat build/kver 2>/dev/null || scripts/kver.sh)}
module=${3:-build/yakvm.ko}
stage=${out%.cpio.gz}.stage
[ "$out" = build/testvm.cpio.gz ] && stage=build/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,root,etc,lib/modules,tests,guests,run}

cp /bin/busybox "$stage/bin/busybox"
cp scripts/vm/init "$stage/init"
cp scripts/vm/run-tests.sh "$stage/tests/run-tests.sh"
cp scripts/vm/yakvm-linux "$stage/bin/yakvm-linux"
cp scripts/vm/yakvm-qemu scripts/vm/qemu-linux scripts/vm/qemu-ioctls "$stage/bin/"
chmod +x "$stage/init" "$stage/tests/run-tests.sh" "$stage/bin/yakvm-linux" "$stage/bin/yakvm-qemu" \
	"$stage/bin/qemu-linux" "$stage/bin/qemu-ioctls"
cp "$module" "$stage/lib/modules/yakvm.ko"
# msr.ko is loaded by the tests that read the host's MSRs (/dev/cpu/N/msr).
for m in virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm.ko \
	 arch/x86/kvm/kvm-amd.ko arch/x86/kernel/msr.ko; do
	# 6.12's modules are xz-compressed; busybox's insmod wants them plain.
	if [ -e "/lib/modules/$kver/kernel/$m.xz" ]; then
		xz -dc "/lib/modules/$kver/kernel/$m.xz" > "$stage/lib/modules/$(basename "$m")"
	else
		cp "/lib/modules/$kver/kernel/$m" "$stage/lib/modules/"
	fi
done
# Optional pieces: present once their issues have landed.
[ -x build/bin/yakvm ] && cp build/bin/yakvm "$stage/bin/"
for f in build/tests/*; do [ -f "$f" ] && cp "$f" "$stage/tests/"; done
# The QEMU tests: a directory of their own, outside run-tests.sh's
# /tests/*.test (they run in their own boot, tests/qemu/run.sh).
[ -d build/tests/qemu ] && cp -r build/tests/qemu "$stage/tests/qemu"
for f in build/guests/*; do [ -f "$f" ] && cp "$f" "$stage/guests/"; done
# The harness self-check's tests (tests/selfcheck/), apart from the suite's.
[ -d build/selfcheck ] && cp -r build/selfcheck "$stage/selfcheck"
if [ -d build/linux-guest ]; then
	mkdir -p "$stage/linux"
	cp build/linux-guest/* "$stage/linux/"
fi
echo "$kver" > "$stage/etc/kver"

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
