#!/bin/bash
# make run: boots the test VM and, inside it, Debian's kernel with the guest
# initramfs under yakvm, its console in this terminal.
#
#   run-main.sh [--cpu epyc|max] [--cmd "GUEST COMMANDS"] [--guest NAME]
#               [--vm-cmd "TEST-VM COMMAND"] [--timeout SEC]
#
#   (nothing)   an interactive shell in the Linux guest; 'exit' powers it off.
#               When stdin is not a terminal there is nobody to type: the
#               guest runs what stdin holds as its commands (a short demo if
#               stdin is empty) and powers off, so `make run < /dev/null`
#               and `echo 'uname -r' | make run` return by themselves.
#   --cmd       the Linux guest runs these shell commands and powers off
#   --guest     one of the example guests (hello-real, hello-prot, hello-long,
#               mbtest, elftest, mmioforms) instead of Linux
#   --vm-cmd    any command in the test VM (e.g. 'yakvm run --help')
#
# The VM powers off when the command ends, so this returns by itself.  The
# command travels as /etc/run-cmd (run by /etc/run.sh in the VM's run mode)
# in an extra cpio layered over the test initramfs (testvm.sh --extra).
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=epyc cmd="" guest="" vm_cmd="" timeout_s=900
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) cpu=$2; shift ;;
	--cmd) cmd=$2; shift ;;
	--guest) guest=$2; shift ;;
	--vm-cmd) vm_cmd=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	*) echo "run-main.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

# What the Linux guest shows when make run has no terminal and no commands.
DEMO_CMD='uname -a; echo; grep -m1 "model name" /proc/cpuinfo; grep -c ^processor /proc/cpuinfo; head -3 /proc/interrupts; free -m'

if [ -z "$vm_cmd$guest$cmd" ] && [ ! -t 0 ]; then
	cmd=$(cat)
	[ -n "$cmd" ] || cmd=$DEMO_CMD
fi

# How each example guest is started (README, "The VMM and the example guests").
example() {
	case "$1" in
	hello-real) echo "yakvm run /guests/hello-real.bin" ;;
	hello-prot) echo "yakvm run --mode prot /guests/hello-prot.bin" ;;
	hello-long) echo "yakvm run --mode long /guests/hello-long.bin" ;;
	mbtest) echo "yakvm run --mem 64M --cmdline a=b /guests/mbtest.elf" ;;
	elftest) echo "yakvm run --cmdline a=b /guests/elftest.elf" ;;
	mmioforms) echo "yakvm run /guests/mmioforms.elf" ;;
	*) echo "run-main.sh: unknown guest '$1' (hello-real, hello-prot, hello-long," \
		"mbtest, elftest, mmioforms)" >&2; exit 2 ;;
	esac
}

extra=$(mktemp -d /tmp/yakvm-run.XXXXXX)
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra/etc"
# Commands go into files of their own, so no quoting survives two shells.
if [ -n "$vm_cmd" ]; then
	printf '%s\n' "$vm_cmd" > "$extra/etc/run-cmd"
elif [ -n "$guest" ]; then
	example "$guest" > "$extra/etc/run-cmd"
elif [ -n "$cmd" ]; then
	printf '%s\n' "$cmd" > "$extra/etc/guest-cmd"
	echo 'yakvm-linux --cmd "$(cat /etc/guest-cmd)"' > "$extra/etc/run-cmd"
else
	echo 'yakvm-linux' > "$extra/etc/run-cmd"
fi
cat > "$extra/etc/run.sh" <<'SH'
#!/bin/sh
echo "== yakvm test VM: $(cat /etc/run-cmd)"
sh /etc/run-cmd
echo "== command exited with status $?; powering off"
SH

exec scripts/testvm.sh --cpu "$cpu" --mode run --extra "$extra" --timeout "$timeout_s"
