#!/bin/bash
# Builds kvm-unit-tests (KVM's own test suite, an external test input that
# never enters the repository) into build/kvm-unit-tests/ and packs what its
# runner needs in the test VM as build/kut.cpio.gz, unpacked at /kut there
# (tests/qemu/qemu-kut.test runs it).
#
# The source is the pinned upstream archive kvm-unit-tests-1da1819e.tar.gz
# (`git archive` of commit 1da1819e49fc4938985edca67df669099b4c87a7), looked
# for in $KUT_TARBALL, then ../shared/external/ beside the repository, then
# /work/shared/external/.  Rebuilt only when the archive or this script
# changes (~15 s for ./configure && make -j2; 49 x86/*.flat).
#   mkkut.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
name=kvm-unit-tests-1da1819e.tar.gz
src=build/kvm-unit-tests
out=build/kut.cpio.gz
stamp=build/kut.stamp
stage=build/kut-root

tarball=""
for t in "${KUT_TARBALL:-}" "../shared/external/$name" "/work/shared/external/$name"; do
	[ -n "$t" ] && [ -r "$t" ] && { tarball=$t; break; }
done
if [ -z "$tarball" ]; then
	# Without the archive the QEMU tests report kvm-unit-tests as FAIL
	# (tests/qemu/qemu-kut.test): a missing test input is not a pass.
	echo "mkkut: $name not found (set KUT_TARBALL=...); kvm-unit-tests not built" >&2
	rm -f "$out"
	exit 0
fi

want=$(sha256sum "$tarball" "$0" | cut -d' ' -f1)
if [ "${1:-}" != --force ] && [ -s "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	exit 0
fi
echo "  KUT     $src (from $tarball)"
rm -rf "$src" "$stage"
mkdir -p build
tar xzf "$tarball" -C build
# The archive unpacks as kvm-unit-tests/.
(
	cd "$src"
	./configure --arch=x86_64 > configure.log 2>&1
	make -j2 > make.log 2>&1 || { tail -20 make.log >&2; exit 1; }
	# The Makefile names the build after the enclosing git repository's
	# HEAD (ours); the runner's log should name the suite's own commit.
	echo 1da1819e > build-head
)
ls "$src"/x86/*.flat > /dev/null

# What run_tests.sh and x86/run read: the runner scripts, the config, the
# test list and the tests.  config.mak points at /kut; stack traces are
# printed raw (pretty_print_stacks.py would need python in the VM).
d=$stage/kut
mkdir -p "$d/scripts" "$d/x86"
cp "$src"/run_tests.sh "$src"/errata.txt "$src"/build-head "$d/"
cp "$src"/scripts/*.bash "$d/scripts/"
cp "$src"/x86/run "$src"/x86/unittests.cfg "$src"/x86/*.flat "$d/x86/"
sed -e 's|^SRCDIR=.*|SRCDIR=/kut|' -e 's|^ERRATATXT=.*|ERRATATXT=/kut/errata.txt|' \
    -e 's|^PRETTY_PRINT_STACKS=.*|PRETTY_PRINT_STACKS=no|' "$src/config.mak" > "$d/config.mak"
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$want" > "$stamp"
