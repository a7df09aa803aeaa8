#!/bin/sh
# The Debian kernels yakvm is built and tested against: Debian 12's two
# kernel lines, 6.1 (the default, first) and 6.12 (bookworm-security).
#
#   kver.sh          version of the newest installed 6.1 kernel, e.g. 6.1.0-57-amd64
#   kver.sh LINE     the same for kernel line LINE, e.g. 6.12 -> 6.12.117+deb12-amd64
#   kver.sh --lines  the kernel lines, the default first: "6.1 6.12"
#
# A version counts as installed when its headers, /boot/vmlinuz-<version> and
# its modules are all there.  The module is built against these headers and
# the test VM boots the matching /boot/vmlinuz-<version>; `uname -r` names the
# build machine's own kernel, which is unrelated, so it is never used.
lines="6.1 6.12"
case "${1:-}" in
--lines) echo "$lines"; exit 0 ;;
"") line=${lines%% *} ;;
*) line=$1 ;;
esac
# "6.1." matches 6.1.0-57-amd64 but not 6.12.117+deb12-amd64.
for d in $(ls -d /usr/src/linux-headers-"$line".*-amd64 2>/dev/null | sort -V -r); do
	v=${d#/usr/src/linux-headers-}
	if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
		echo "$v"
		exit 0
	fi
done
exit 1
