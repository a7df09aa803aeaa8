#!/bin/sh
# Prints the version of the newest installed Debian kernel headers (e.g. 6.1.0-56-amd64).
# The module is built against these headers and the test VM boots the matching
# /boot/vmlinuz-<version>; `uname -r` names the build machine's own kernel, which is
# unrelated, so it is never used.
for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V -r); do
	v=${d#/usr/src/linux-headers-}
	if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
		echo "$v"
		exit 0
	fi
done
exit 1
