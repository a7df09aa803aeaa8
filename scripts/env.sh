#!/bin/sh
# make env: installs whatever is missing on a Debian 12 machine and prepares build/.
# Idempotent: when every package is present it only checks and returns.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="gcc make libc6-dev binutils kmod cpio gzip xz-utils busybox-static
qemu-system-x86 linux-image-amd64 linux-headers-amd64 python3 python3-unicorn
sparse gdb gnuplot-nox procps rsync socat linux-source-6.1"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "env: missing packages:$missing; run 'make env' as root" >&2
		exit 1
	fi
	echo "env: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# The test VM boots the kernel image directly with its own initramfs, so the
	# host never needs Debian's initramfs for it: INITRD=No skips that minute.
	export INITRD=No
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

kver=$(scripts/kver.sh) || {
	echo "env: no matching linux-image/linux-headers pair under /boot and /usr/src" >&2
	exit 1
}
mkdir -p build
echo "$kver" > build/kver.new
if ! cmp -s build/kver.new build/kver 2>/dev/null; then mv build/kver.new build/kver; else rm build/kver.new; fi
echo "env: ready (kernel $kver)"
