#!/bin/bash
# Host-side unit tests (tests/unit/*.c): pure functions of the module and the
# tools, built for the build host and run here, one result line each.
# tests/unit/shim stands in for the kernel headers the device models of
# driver/irq include (see tests/unit/shim/kshim.h).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/unit
for src in tests/unit/*.c; do
	name=$(basename "$src" .c)
	if ! gcc -std=c11 -Wall -Wextra -Werror -O2 -I tests/unit/shim -o "build/unit/$name" "$src" 2> "build/unit/$name.err"; then
		echo "FAIL unit/$name: does not build: $(head -1 "build/unit/$name.err")"
		continue
	fi
	out=$("build/unit/$name" 2>&1)
	rc=$?
	echo "$out"
	grep -q "^\(ok\|FAIL\) unit/$name" <<< "$out" ||
		echo "FAIL unit/$name: exited with status $rc and no verdict"
done
