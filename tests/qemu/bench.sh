#!/bin/sh
# make bench, QEMU part (scripts/bench.sh; the test VM's qemu-bench mode):
# the same measurements through Debian's QEMU on /dev/yakvm and /dev/kvm,
# devices alternating, ROUNDS rounds.  Prints for scripts/bench-report.py
#   @bench NAME DEVICE ROUND VALUE UNIT
# and "# ..." notes.  A run that fails prints "# NAME DEVICE: failed: why"
# and no value (the table then shows "-" for that device).
#   qemu-linux-boot-smp2   QEMU start to the guest's shell, -smp 2, default pc
#   kut-vmexit-NAME        kvm-unit-tests' vmexit test NAME, cycles per exit,
#                          run as x86/unittests.cfg runs it (group vmexit)
#   qemu-virtio-blk-read   guest `dd if=/dev/vda bs=1M count=64` after
#                          dropping its caches, MB/s (higher is better)
#   qemu-migrate-total     live migration (`migrate "exec:cat > FILE"`) of a
#   qemu-migrate-downtime  256 MiB, -smp 2 guest whose vCPUs keep rewriting
#                          32 MiB (the guest of qemu-migrate.test): QEMU's
#                          `info migrate` "total time" and "downtime", ms
# tvm.args: rounds=N (default 3), only=STR (the benchmarks whose name has STR).
. /tests/qemu/common.sh

rounds=3 only=""
for a in $(echo "${YAKVM_QEMU_ARGS:-}" | tr , ' '); do
	case "$a" in
	rounds=*) rounds=${a#rounds=} ;;
	only=*) only=${a#only=} ;;
	esac
done

# Linux boot to the shell, 2 vCPUs.
bench_boot() {
	local dev=$1 r=$2 tag=boot-$1-$2
	QEMU_TIME_MARK="@@ CMD BEGIN" qemu_run "$tag" "$dev" 300 "@@ CMD END" \
		$LINUX_QEMU -no-reboot -machine pc -smp 2 \
		-kernel "$LINUX_KERNEL" -initrd "$LINUX_INITRD" \
		-append "$LINUX_APPEND ycmd=$(linux_cmd_arg 'true')"
	if [ -s "$TMP/$tag.marktime" ]; then
		echo "@bench qemu-linux-boot-smp2 $dev $r $(cat "$TMP/$tag.marktime") s"
	else
		echo "# qemu-linux-boot-smp2 $dev: failed: $(why_not "$tag")"
	fi
}

# kvm-unit-tests' vmexit group: "NAME CYCLES" lines in each test's log.
bench_vmexit() {
	local dev=$1 r=$2 qemu=/usr/bin/qemu-system-x86_64 logs=$TMP/vmexit-$1-$2 f
	[ "$dev" = yakvm ] && qemu=/bin/yakvm-qemu
	(cd /kut && YAKVM_QEMU=$QEMU_BIN PATH=/usr/bin:$PATH ACCEL=kvm TIMEOUT=120s QEMU=$qemu \
		unittest_log_dir=$logs ./run_tests.sh -g vmexit) < /dev/null > "$logs.out" 2>&1
	for f in "$logs"/vmexit_*.log; do
		[ -e "$f" ] || continue
		# e.g. "cpuid 1234": the test's own name and cycles per iteration.
		if ! tr -d '\r' < "$f" | grep -qE '^[a-z_0-9]+ [0-9]+$'; then
			echo "# kut-$(basename "$f" .log) $dev: failed: $(strip_colours < "$logs.out" | grep " $(basename "$f" .log) " | head -1)"
		fi
		tr -d '\r' < "$f" | sed -n "s/^\([a-z_0-9]*\) \([0-9][0-9]*\)\$/@bench kut-vmexit-\1 $dev $r \2 cycles/p"
	done
}

# Sequential read of the virtio disk.
bench_blk() {
	local dev=$1 r=$2 tag=blk-$1-$2 line secs
	truncate -s 80M "$TMP/$tag.disk"
	qemu_run "$tag" "$dev" 400 "@@ dd-done" $LINUX_QEMU -no-reboot \
		-machine pc,kernel-irqchip=off -smp 1 \
		-kernel "$LINUX_KERNEL" -initrd "$LINUX_INITRD" \
		-append "$LINUX_APPEND ycmd=$(linux_cmd_arg 'for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko; done
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/vda of=/dev/null bs=1M count=64 2>/dev/null && echo "@@ dd $t0 $(cut -d" " -f1 /proc/uptime)"
echo "@@ dd-done"')" \
		-drive "file=$TMP/$tag.disk,format=raw,if=none,id=disk0" -device virtio-blk-pci,drive=disk0
	rm -f "$TMP/$tag.disk"
	# The guest's uptime before and after (busybox dd prints no rate).
	line=$(tr -d '\r' < "$TMP/$tag.out" | sed -n 's/^@@ dd //p')
	secs=$(echo "$line" | awk 'NF == 2 && $2 > $1 { print $2 - $1 }')
	if [ -n "$secs" ]; then
		echo "@bench qemu-virtio-blk-read $dev $r $(awk -v s="$secs" 'BEGIN { printf "%.2f", 64 * 1048576 / s / 1e6 }') MB/s"
	else
		echo "# qemu-virtio-blk-read $dev: failed: ${line:-$(why_not "$tag")}"
	fi
}

# Live migration of the dirty-writer guest, to a file.
bench_migrate() {
	local dev=$1 r=$2 tag=mig-$1-$2 why what v
	piped_start "$tag" "$dev" -machine pc -smp 2 -kernel "$LINUX_KERNEL" \
		-initrd "$LINUX_INITRD" -append "$LINUX_APPEND ycmd=$(linux_cmd_arg "$WRITER_GUEST_CMD")"
	if piped_wait_for "$tag" out "@@ MIGRATE" 400; then
		why=$(migrate_out "$tag")
	else
		why="the guest did not start its writers: $(one_line "$TMP/$tag.out")"
	fi
	piped_stop "$tag"
	rm -f "$TMP/$tag.state"
	if [ -n "$why" ]; then
		echo "# qemu-migrate $dev: failed: $why"
		return
	fi
	for what in "total time:total" "downtime:downtime"; do
		v=$(tr -d '\r' < "$TMP/$tag.mon" | sed -n "s/^${what%:*}: *\([0-9]*\) ms\$/\1/p" | tail -1)
		if [ -n "$v" ]; then
			echo "@bench qemu-migrate-${what#*:} $dev $r $v ms"
		else
			echo "# qemu-migrate $dev: failed: no '${what%:*}' in info migrate"
		fi
	done
}

r=1
while [ "$r" -le "$rounds" ]; do
	# Alternate which device goes first.
	if [ $((r % 2)) = 1 ]; then order="yakvm kvm"; else order="kvm yakvm"; fi
	for b in bench_boot:qemu-linux-boot-smp2 bench_vmexit:kut-vmexit bench_blk:qemu-virtio-blk-read \
		 bench_migrate:qemu-migrate; do
		case "${b#*:}" in *"$only"*) ;; *) continue ;; esac
		b=${b%%:*}
		for dev in $order; do
			$b "$dev" "$r"
		done
	done
	r=$((r + 1))
done
