#!/bin/bash
# make run: boots the test VM and runs one command in it with the console in
# this terminal: by default the long-mode example guest under yakvm, or
# CMD (make run CMD='yakvm run /guests/hello-real.bin').  The VM powers off
# when the command ends, so this returns by itself, terminal or not.
#
#   run-main.sh [--cpu epyc|max] [--cmd "COMMAND"] [--timeout SEC]
#
# The command travels as /etc/run.sh (run by the VM's /init in run mode) in
# an extra cpio layered over the test initramfs (testvm.sh --extra).
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=epyc cmd="" timeout_s=900
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) cpu=$2; shift ;;
	--cmd) cmd=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	*) echo "run-main.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$cmd" ] || cmd="yakvm run --mode long /guests/hello-long.bin"

extra=$(mktemp -d /tmp/yakvm-run.XXXXXX)
trap 'rm -rf "$extra"' EXIT
mkdir -p "$extra/etc"
# The command goes into its own file, so no quoting survives two shells.
printf '%s\n' "$cmd" > "$extra/etc/run-cmd"
cat > "$extra/etc/run.sh" <<'SH'
#!/bin/sh
echo "== yakvm test VM: $(cat /etc/run-cmd)"
sh /etc/run-cmd
echo "== command exited with status $?; powering off"
SH

exec scripts/testvm.sh --cpu "$cpu" --mode run --extra "$extra" --timeout "$timeout_s"
