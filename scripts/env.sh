#!/bin/sh
# make env: installs whatever is missing on a Debian 12 machine and prepares build/.
# Idempotent: when every package is present it only checks and returns.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="gcc make libc6-dev binutils kmod cpio gzip xz-utils busybox-static
qemu-system-x86 qemu-utils linux-image-amd64 linux-headers-amd64 python3 python3-unicorn
sparse gdb gnuplot-nox procps rsync socat linux-source-6.1"
# Debian 12's second kernel line (bookworm-security): the module is built,
# checked and tested on it too (scripts/kver.sh, docs/packaging.md).  The
# metapackages pull its newest version.  Installing a kernel image makes it
# the machine's default boot entry; these machines never boot it, they only
# give it to the test VM.
PACKAGES="$PACKAGES linux-image-6.12-amd64 linux-headers-6.12-amd64"
# make deb (dpkg-buildpackage, debhelper with dh-dkms), its lintian run and
# the DKMS check in make test (docs/packaging.md).
PACKAGES="$PACKAGES dpkg-dev debhelper dh-dkms dkms lintian fakeroot"

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
# The other kernel lines (scripts/kver.sh --lines) must be there too.
also=""
for line in $(scripts/kver.sh --lines); do
	v=$(scripts/kver.sh "$line") || {
		echo "env: no linux-image/linux-headers pair of the $line kernel line" >&2
		exit 1
	}
	[ "$v" = "$kver" ] || also="$also $v"
done
echo "env: ready (kernel $kver${also:+; also$also})"
