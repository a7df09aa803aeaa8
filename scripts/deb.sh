#!/bin/bash
# make deb: builds the two packages of docs/packaging.md with
# dpkg-buildpackage (debhelper, dh-dkms) in a copy of the tree, and leaves
# them in build/deb/: yakvm-dkms_VERSION_all.deb (the module's source, built
# by DKMS on install) and yakvm_VERSION_amd64.deb (the VMM, its man page,
# the udev rule).  Prints the paths of the two .deb files.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(dpkg-parsechangelog -S Version)
out=build/deb
src=$out/src/yakvm-$version
rm -rf "$out"
mkdir -p "$src"
# The tree as git would check it out, without build products.
rsync -a --exclude /build --exclude .git --exclude '*.o' --exclude '*.ko' \
	--exclude '.*.cmd' --exclude '*.mod' --exclude '*.mod.c' --exclude modules.order \
	--exclude Module.symvers ./ "$src/"
(cd "$src" && dpkg-buildpackage -b -us -uc > ../build.log 2>&1) ||
	{ echo "deb: dpkg-buildpackage failed; see $out/src/build.log:" >&2; tail -20 "$out/src/build.log" >&2; exit 1; }
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out/"
ls "$out"/yakvm-dkms_"$version"_all.deb "$out"/yakvm_"$version"_amd64.deb
