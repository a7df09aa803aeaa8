#!/bin/bash
# make test's package check (docs/packaging.md), one result line each:
# make deb builds both packages, lintian finds nothing, both install on this
# machine, DKMS builds yakvm.ko for the kernel of every kernel line
# (scripts/kver.sh --lines), a test VM booting that kernel loads the
# DKMS-built module with modprobe and runs a guest on /dev/yakvm, and
# removing the packages removes every file they brought and DKMS made.
# Needs root (make test runs as root in CI); the packages are removed again
# at the end, and if they were installed before, first.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/deb-check
rm -rf "$out"
mkdir -p "$out"
version=$(dpkg-parsechangelog -S Version)
pkgs="yakvm yakvm-dkms"

if [ "$(id -u)" != 0 ]; then
	echo "FAIL deb/root: the package check installs packages and needs root"
	exit 0
fi

if debs=$(scripts/deb.sh 2> "$out/deb.err"); then
	echo "ok deb/build: $(echo $debs | xargs -n1 basename | tr '\n' ' ')"
else
	echo "FAIL deb/build: $(tail -3 "$out/deb.err" | tr '\n' ' ')"
	exit 0
fi

# lintian as root says so; that is not about the packages.
lintian --fail-on none build/deb/*.changes 2>&1 | grep -v 'running with root privileges' > "$out/lintian.txt"
if [ -s "$out/lintian.txt" ]; then
	echo "FAIL deb/lintian-clean: $(head -5 "$out/lintian.txt" | tr '\n' ' ')"
else
	echo "ok deb/lintian-clean"
fi

installed() { dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null | grep -q 'install ok installed'; }
for p in $pkgs; do
	if installed "$p"; then
		echo "# deb: $p was installed before the check: removed first"
		dpkg --purge $pkgs > /dev/null 2>&1
	fi
done

# shellcheck disable=SC2086
if dpkg -i $debs > "$out/install.log" 2>&1; then
	echo "ok deb/install: dpkg -i $(echo $debs | xargs -n1 basename | tr '\n' ' ')"
else
	echo "FAIL deb/install: $(grep -iE 'error|fail' "$out/install.log" | head -3 | tr '\n' ' ')"
fi
# What the packages brought, to check that removing them takes it away.
dpkg -L $pkgs 2>/dev/null | sort -u > "$out/files.txt"
# (dkms 3.0.10's readelf checks of 6.12's modules warn about a missing .comment.)
dkms status yakvm 2>&1 | grep -v "^readelf: Warning" > "$out/dkms-status.txt"
echo "# dkms status: $(tr '\n' ';' < "$out/dkms-status.txt")"

for line in $(scripts/kver.sh --lines); do
	kv=$(scripts/kver.sh "$line") || { echo "FAIL deb/dkms-built/$line: no $line kernel installed"; continue; }
	if grep -q "^yakvm/$version, $kv, x86_64: installed" "$out/dkms-status.txt"; then
		echo "ok deb/dkms-built/$line: yakvm/$version for $kv"
	else
		echo "FAIL deb/dkms-built/$line: dkms status shows no yakvm/$version installed for $kv"
		continue
	fi
	# The VM: that kernel, the suite's initramfs for it, and a second
	# archive with /lib/modules/KV/updates/dkms/yakvm.ko as DKMS installed
	# it (decompressed: busybox's modprobe wants it plain) and its modules.dep.
	ko=$(ls /lib/modules/"$kv"/updates/dkms/yakvm.ko* 2>/dev/null | head -1)
	extra=$out/extra-$kv
	mkdir -p "$extra/lib/modules/$kv/updates/dkms"
	case "$ko" in
	*.xz) xz -dc "$ko" > "$extra/lib/modules/$kv/updates/dkms/yakvm.ko" ;;
	*) cp "$ko" "$extra/lib/modules/$kv/updates/dkms/yakvm.ko" ;;
	esac
	depmod -b "$extra" "$kv" 2> /dev/null
	# The test VM's initramfs for that kernel (its yakvm.ko in /lib/modules
	# stays unused: modprobe takes the one DKMS installed).
	initrd=$out/testvm-$kv.cpio.gz
	scripts/mkinitramfs.sh "$initrd" "$kv" "$extra/lib/modules/$kv/updates/dkms/yakvm.ko" ||
		{ echo "FAIL deb/vm/$line: mkinitramfs.sh failed for $kv"; continue; }
	scripts/testvm.sh --cpu epyc --mode dkms --timeout 600 --kver "$kv" --initrd "$initrd" \
		--extra "$extra" --results "$out/vm-$line.results" --log "$out/vm-$line.log" > /dev/null
	grep -E '^(ok|FAIL|skip) ' "$out/vm-$line.results" | sed 's/^\(ok\|FAIL\|skip\) /&deb\//'
	grep -q '^@@ END' "$out/vm-$line.results" ||
		echo "FAIL deb/vm/$line: the VM did not finish; log in $out/vm-$line.log"
	if problems=$(scripts/scan-log.sh "$out/vm-$line.log"); then
		echo "ok deb/vm/$line/kernel-log-clean"
	else
		echo "FAIL deb/vm/$line/kernel-log-clean: $(echo "$problems" | head -3 | tr '\n' '|')"
	fi
done

# shellcheck disable=SC2086
if dpkg --purge $pkgs > "$out/remove.log" 2>&1; then
	left=""
	while read -r f; do
		[ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
	done < "$out/files.txt"
	installed yakvm || installed yakvm-dkms && left="$left (a package is still installed)"
	dkms status yakvm 2>/dev/null | grep -q . && left="$left (dkms status still lists yakvm)"
	for f in /usr/src/yakvm-* /var/lib/dkms/yakvm /lib/modules/*/updates/dkms/yakvm.ko*; do
		[ -e "$f" ] && left="$left $f"
	done
	if [ -z "$left" ]; then
		echo "ok deb/remove: dpkg --purge $pkgs left no file of theirs or of DKMS"
	else
		echo "FAIL deb/remove: left behind:$left"
	fi
else
	echo "FAIL deb/remove: dpkg --purge failed: $(tail -3 "$out/remove.log" | tr '\n' ' ')"
fi
