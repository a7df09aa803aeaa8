#!/bin/bash
# Host-side quality checks run by `make test`, one result line each:
# the module builds with no warning, its post-#VMEXIT speculation hygiene
# is in the objects (scripts/check-speculation.py), sparse (C=2) reports
# nothing, and checkpatch.pl (from Debian's linux-source package) is clean
# for driver/.
#   style.sh [KVER KO]: the build, speculation and sparse checks against
#   another kernel's headers (scripts/test.sh's other kernel lines), leaving
#   the module built there in KO; checkpatch does not depend on the kernel
#   and runs only without arguments.
set -uo pipefail
cd "$(dirname "$0")/.."
kver=${1:-$(cat build/kver 2>/dev/null || scripts/kver.sh)}
ko=${2:-}
kdir=/usr/src/linux-headers-$kver
src=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
cp_dir=build/checkpatch
driver_files=$(find driver -name '*.[chS]' ! -name '*.mod.c' | sort)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rsync -a --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' driver/ "$tmp/driver/" 2>/dev/null ||
	cp -r driver "$tmp/driver"

# A fresh out-of-tree build, so every file is compiled (and checked) again.
if make -C "$kdir" M="$tmp/driver" modules > "$tmp/build.log" 2>&1 &&
   ! grep -q 'warning:' "$tmp/build.log"; then
	echo "ok style/module-builds-without-warnings"
else
	echo "FAIL style/module-builds-without-warnings: $(grep -m3 -E 'warning:|error:' "$tmp/build.log" | tr '\n' ' ')"
fi
if [ -n "$ko" ]; then
	mkdir -p "$(dirname "$ko")"
	cp "$tmp/driver/yakvm.ko" "$ko" 2>/dev/null || rm -f "$ko"
fi
# Speculation hygiene after #VMEXIT, checked on the objects just built.
/usr/bin/python3 scripts/check-speculation.py "$tmp/driver" ||
	echo "FAIL style/check-speculation: the checker failed"
make -C "$kdir" M="$tmp/driver" clean > /dev/null 2>&1
if make -C "$kdir" M="$tmp/driver" C=2 modules > "$tmp/sparse.log" 2>&1 &&
   ! grep -E '^[^ ].*: (warning|error):' "$tmp/sparse.log" | grep -q .; then
	echo "ok style/sparse-clean"
else
	echo "FAIL style/sparse-clean: $(grep -m3 -E 'warning:|error:' "$tmp/sparse.log" | tr '\n' ' ')"
fi

[ -n "${1:-}" ] && exit 0
if [ -z "$src" ]; then
	echo "FAIL style/checkpatch-clean: no /usr/src/linux-source-*.tar.xz (make env installs it)"
	exit 0
fi
if [ ! -x "$cp_dir/checkpatch.pl" ]; then
	mkdir -p "$cp_dir"
	top=$(basename "$src" .tar.xz)
	tar -xJf "$src" -C "$cp_dir" --strip-components=2 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi
# driver/compat.h holds the module's only kernel version checks (one per
# API change between 6.1 and 6.12): checkpatch's LINUX_VERSION_CODE rule,
# meant for code merged into one kernel, and its constant-comparison rule,
# which takes LINUX_VERSION_CODE for a constant, are waived there alone.
# shellcheck disable=SC2086
out=$({ "$cp_dir/checkpatch.pl" --no-tree -f --terse $(echo "$driver_files" | grep -vx driver/compat.h)
	"$cp_dir/checkpatch.pl" --no-tree -f --terse \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON driver/compat.h; } 2>&1 |
	grep -v "^total: 0 errors, 0 warnings")
if [ -z "$out" ]; then
	echo "ok style/checkpatch-clean"
else
	echo "FAIL style/checkpatch-clean: $(echo "$out" | head -5 | tr '\n' ' ')"
fi
