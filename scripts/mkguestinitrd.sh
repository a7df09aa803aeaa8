#!/bin/bash
# Builds the Linux guest that yakvm boots: Debian's own kernel image and a
# small busybox initramfs (scripts/guest/init) with the programs of
# guests/linux/, into build/linux-guest/.
set -euo pipefail
cd "$(dirname "$0")/.."
kver=$(cat build/kver 2>/dev/null || scripts/kver.sh)
out=build/linux-guest
stage=build/guest-initramfs
rm -rf "$stage"
mkdir -p "$out" "$stage"/{bin,sbin,dev,proc,sys,tmp,etc}
cp /bin/busybox "$stage/bin/busybox"
# The guest's own test programs (guests/linux/*.c, built by guests.mk).
for f in build/linux-guest-bin/*; do [ -f "$f" ] && cp "$f" "$stage/bin/"; done
cp scripts/guest/init "$stage/init"
# A file with known content for the guest's sha256sum test.
head -c 65536 /dev/zero | tr '\0' 'y' > "$stage/etc/known-file"
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out/initrd.gz"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
