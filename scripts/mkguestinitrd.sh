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
# The guest's own drivers for the devices QEMU gives it (tests/qemu/): virtio
# over PCI for the disk and the NIC, vfat for a file system on the disk.
# Copied from Debian's module tree with their dependencies, listed in load
# order in /lib/modules/load-order (the guest's init never loads them by
# itself; a test's commands do: `for m in $(cat /lib/modules/load-order);
# do insmod /lib/modules/$m.ko; done`).
mods="virtio_pci virtio_blk virtio_net vfat nls_cp437 nls_ascii nls_utf8"
dep=/lib/modules/$kver/modules.dep
mkdir -p "$stage/lib/modules"
: > "$stage/lib/modules/load-order"
for m in $mods; do
	line=$(grep -E "(^|/)$m\.ko:" "$dep") || { echo "mkguestinitrd: no $m in $dep" >&2; exit 1; }
	# modules.dep lists what a module needs, the last to be loaded first.
	for f in $(echo "${line#*:}" | tr ' ' '\n' | tac) "${line%%:*}"; do
		n=$(basename "$f" .ko)
		grep -qx "$n" "$stage/lib/modules/load-order" && continue
		cp "/lib/modules/$kver/$f" "$stage/lib/modules/$n.ko"
		echo "$n" >> "$stage/lib/modules/load-order"
	done
done
# udhcpc's hook: configure the address and the default route it was given.
mkdir -p "$stage/usr/share/udhcpc"
cat > "$stage/usr/share/udhcpc/default.script" <<'SH'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
	;;
esac
exit 0
SH
chmod +x "$stage/usr/share/udhcpc/default.script"
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out/initrd.gz"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
