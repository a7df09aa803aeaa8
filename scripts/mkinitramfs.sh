#!/bin/bash
# Builds the test VM's initramfs: busybox, /init, yakvm.ko, Debian's KVM
# modules (so tests can compare with /dev/kvm), the VMM, the tests and guests.
#   mkinitramfs.sh OUTPUT.cpio.gz
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
kver=$(cat build/kver 2>/dev/null || scripts/kver.sh)
stage=build/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,root,etc,lib/modules,tests,guests,run}

cp /bin/busybox "$stage/bin/busybox"
cp scripts/vm/init "$stage/init"
cp scripts/vm/run-tests.sh "$stage/tests/run-tests.sh"
cp scripts/vm/yakvm-linux "$stage/bin/yakvm-linux"
chmod +x "$stage/init" "$stage/tests/run-tests.sh" "$stage/bin/yakvm-linux"
cp build/yakvm.ko "$stage/lib/modules/"
# msr.ko is loaded by the tests that read the host's MSRs (/dev/cpu/N/msr).
for m in virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm.ko \
	 arch/x86/kvm/kvm-amd.ko arch/x86/kernel/msr.ko; do
	cp "/lib/modules/$kver/kernel/$m" "$stage/lib/modules/"
done
# Optional pieces: present once their issues have landed.
[ -x build/bin/yakvm ] && cp build/bin/yakvm "$stage/bin/"
for f in build/tests/*; do [ -f "$f" ] && cp "$f" "$stage/tests/"; done
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
