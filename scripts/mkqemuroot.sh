#!/bin/bash
# Builds build/qemu-root.cpio.gz: Debian's own QEMU and the few GNU tools the
# QEMU tests and kvm-unit-tests' runner need, laid out as on Debian, for the
# test VM.  It rides as a second cpio archive after build/testvm.cpio.gz
# (scripts/testvm.sh), so the everyday `make` repacks only the small one.
#
#   /usr/bin/qemu-system-x86_64, qemu-img (savevm's qcow2 disks) and every
#                                 shared library ldd names for them
#   /usr/share/qemu, /usr/share/seabios, /usr/lib/ipxe/qemu   its firmware
#       (the three directories Debian's QEMU searches, `qemu -L help`)
#   /usr/bin/bash, env, timeout (coreutils: --foreground), getconf (libc),
#   getopt (util-linux), strace; QEMU's TCG module
#
# The archive is rebuilt only when a package version or this script changes
# (build/qemu-root.stamp); packing takes ~10 s, the archive is ~22 MB.
#   mkqemuroot.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/qemu-root.cpio.gz
stamp=build/qemu-root.stamp
stage=build/qemu-root

PKGS="qemu-system-x86 qemu-utils qemu-system-data seabios ipxe-qemu bash coreutils libc-bin util-linux strace"
BINS="/usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /usr/bin/bash /usr/bin/env /usr/bin/timeout /usr/bin/getconf
/usr/bin/getopt /usr/bin/strace"
# The x86 firmware in /usr/share/qemu (the rest of it is for other targets).
QEMU_SHARE="bios*.bin kvmvapic.bin linuxboot*.bin multiboot*.bin pvh.bin qboot.rom sgabios.bin
vgabios*.bin efi-*.rom pxe-*.rom"

want=$( { dpkg-query -W $PKGS; sha256sum "$0"; } 2>&1)
if [ "${1:-}" != --force ] && [ -s "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	exit 0
fi
echo "  QEMU-ROOT $out"
for b in $BINS; do
	[ -x "$b" ] || { echo "mkqemuroot: $b missing; run 'make env'" >&2; exit 1; }
done

rm -rf "$stage"
mkdir -p "$stage"/{usr/bin,usr/share/qemu,usr/share/seabios,usr/lib/ipxe/qemu,lib64,bin}

# copy_lib PATH: the library as a regular file under the name the loader
# looks for (sonames are symlinks on the host; the initramfs has no /usr/lib
# merge, so /lib and /usr/lib stay apart as ldd printed them).
copy_lib() {
	local dst=$stage$1
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$1" "$dst"
}

for b in $BINS; do
	cp -L "$b" "$stage$b"
	# ldd prints "name => /path (addr)" or "/path (addr)" for the loader.
	# A library that is not found ("not found") stops the build.
	if ldd "$b" | grep -q 'not found'; then
		echo "mkqemuroot: $b: $(ldd "$b" | grep 'not found' | head -3 | tr '\n' ' ')" >&2
		exit 1
	fi
	for lib in $(ldd "$b" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		copy_lib "$lib"
	done
done
ln -s /usr/bin/bash "$stage/bin/bash"
# QEMU's TCG is a loadable module in Debian's build (22 KB): with it the
# staged QEMU can be checked below without KVM, and TCG works in the VM too.
copy_lib /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so

# Firmware: regular files (symlinks followed), so a link from one of these
# directories into another package's directory cannot dangle in the VM.
( cd /usr/share/qemu && for f in $QEMU_SHARE; do
	[ -e "$f" ] && cp -L "$f" "$OLDPWD/$stage/usr/share/qemu/"
  done ) 2>/dev/null || true
cp -L /usr/share/seabios/* "$stage/usr/share/seabios/"
cp -L /usr/lib/ipxe/qemu/* "$stage/usr/lib/ipxe/qemu/"

# Check the staged tree as the VM will see it: the binaries start with only
# the staged libraries, and QEMU finds the firmware of a pc machine with a
# VGA card and a virtio NIC (its ROM loading fails loudly when a file is
# missing) -- stopped (-S) before the first instruction.  Needs root (chroot).
CHROOT=$(command -v chroot)
if [ "$(id -u)" = 0 ]; then
	for b in /usr/bin/bash /usr/bin/timeout /usr/bin/getconf /usr/bin/strace; do
		env -i "$CHROOT" "$stage" "$b" --version > /dev/null 2>&1 ||
			{ echo "mkqemuroot: $b does not start in the staged tree" >&2; exit 1; }
	done
	mkdir -p "$stage/dev" && : > "$stage/dev/null"
	for m in pc q35; do
		if ! msg=$(echo quit | env -i timeout 30 "$CHROOT" "$stage" /usr/bin/qemu-system-x86_64 \
			-machine "$m" -accel tcg -S -display none -nodefaults -vga std \
			-netdev user,id=n -device virtio-net-pci,netdev=n -device e1000,netdev=n2 \
			-netdev user,id=n2 -monitor stdio -serial none 2>&1); then
			echo "mkqemuroot: QEMU ($m) does not start in the staged tree: $msg" >&2
			exit 1
		fi
		if echo "$msg" | grep -qi 'rom\|firmware\|bios\|could not'; then
			echo "mkqemuroot: QEMU ($m) complains in the staged tree: $msg" >&2
			exit 1
		fi
	done
	rm -rf "$stage/dev"
fi

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$want" > "$stamp"
