#!/bin/sh
# Prints the lines of a test VM kernel log that show a kernel problem, and
# exits 1 if there is any.  A hypervisor whose tests pass while the host
# warns is broken, so any of these fails the run.  The EPYC model's boot-time
# "Speculative Return Stack Overflow: WARNING: See ..." is informational and
# does not match (real splats read "WARNING: CPU: n PID: n at file:line").
log=$1
pattern='WARNING: CPU:|BUG:|kernel BUG at|Oops|general protection fault|soft lockup|hung task|list_del corruption|Call Trace:|Kernel panic|rcu: INFO|detected stall|UBSAN:|double fault'
if grep -aE "$pattern" "$log"; then
	exit 1
fi
exit 0
