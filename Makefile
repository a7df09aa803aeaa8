# yakvm — top-level build.  `make help` lists the targets.
#
# Everything is built against the installed Debian kernel headers (scripts/kver.sh),
# never against `uname -r`: the build machine's own kernel is unrelated to the
# kernel that the test VM boots.

SHELL := /bin/bash
BUILD := build
KVER  := $(shell cat $(BUILD)/kver 2>/dev/null || scripts/kver.sh 2>/dev/null)
KDIR  := /usr/src/linux-headers-$(KVER)

# Test VM CPU model for `make run`, `make shell`, `make debug`, `make bench`:
# epyc (EPYC,+svm,+npt: NPT only) or max (adds VGIF and 5-level host paging).
CPU ?= epyc
CMD ?=
GUEST ?=
VMCMD ?=
SEED ?= 1
CALLS ?= 1000000
DEBUG_VMLINUX ?= 0

CC      := gcc
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror
CFLAGS  := $(CSTD) $(WARN) -O2 -g
LDFLAGS := -static -pthread

BIN := $(BUILD)/bin

.PHONY: all env module vmm tests guests run shell test debug bench fuzz stress \
	clean help sparse check-style initramfs manifest test-full run-qemu deb

# The test VM's initramfs is packed last (0.4 s), so `make` alone leaves
# everything scripts/test.sh and scripts/testvm.sh boot.
all: module vmm tests guests
	@scripts/mkinitramfs.sh $(BUILD)/testvm.cpio.gz
	@scripts/mkqemuroot.sh
	@scripts/mkkut.sh

help:
	@echo "make env      install missing Debian packages, prepare build/"
	@echo "make          build module, VMM, tests and guests"
	@echo "make run      Debian's kernel under yakvm to a shell (CMD='...' runs guest commands;"
	@echo "              GUEST=hello-long runs an example guest, VMCMD='...' any test-VM command)"
	@echo "make test     the whole suite on both CPU models (Linux 6.1), a smoke set on 6.12,"
	@echo "              the QEMU tests' quick set, the package check; ends with 'N passed, N failed'"
	@echo "make test-full  the same with the slow scenarios (Linux on 4 vCPUs), the whole suite on"
	@echo "              6.12, every QEMU configuration and kvm-unit-tests"
	@echo "make run-qemu Debian's QEMU boots the Linux guest on /dev/yakvm (DEV=kvm, MACHINE=, SMP=, CMD=)"
	@echo "make deb      build/deb/yakvm-dkms_*_all.deb and build/deb/yakvm_*_amd64.deb"
	@echo "make debug    test VM with gdbstub + gdb with kernel and module symbols"
	@echo "make shell    test VM with an interactive shell (module loaded)"
	@echo "make bench    yakvm vs KVM benchmarks (build/bench/)"
	@echo "make fuzz     long ioctl fuzz run (SEED=, CALLS=)"
	@echo "make stress   the suite with multi-threaded TCG"
	@echo "make sparse   sparse (C=1) over the module"
	@echo "make manifest regenerate tests/manifest.txt, the inventory of expected cases"
	@echo "make clean"

env:
	@scripts/env.sh

include driver/module.mk
include vmm/vmm.mk
include tests/tests.mk
include tests/vmm/vmm-tests.mk
include tests/linux/linux-tests.mk
include tests/qemu/qemu.mk
include guests/guests.mk
include tests/step/step.mk
include tests/selfcheck/selfcheck.mk

initramfs: all

# The inventory of every case the suite must report (docs/testing.md):
# regenerate after adding, renaming or removing tests, and review the diff.
# The QEMU tests' boot has an inventory of its own per suite (tests/qemu/).
manifest: tests
	@/usr/bin/python3 scripts/inventory.py manifest
	@YAKVM_QEMU_SUITE=quick /usr/bin/python3 scripts/inventory.py manifest \
		--tests $(BUILD)/tests/qemu --out tests/qemu/manifest-quick.txt
	@YAKVM_QEMU_SUITE=full /usr/bin/python3 scripts/inventory.py manifest \
		--tests $(BUILD)/tests/qemu --out tests/qemu/manifest-full.txt

run: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/run-main.sh --cpu $(CPU) --cmd "$(CMD)" --guest "$(GUEST)" --vm-cmd "$(VMCMD)"

shell: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/testvm.sh --cpu $(CPU) --mode shell

debug: env
	@$(MAKE) --no-print-directory initramfs
	@DEBUG_VMLINUX=$(DEBUG_VMLINUX) scripts/debug.sh --cpu $(CPU)

# Debian 12's other kernel lines (scripts/kver.sh --lines, all but the first).
OTHER_LINES = $(shell scripts/kver.sh --lines | cut -d' ' -f2-)

test: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/test.sh --lines "$(OTHER_LINES)" --deb

# make test, the scenarios too slow for it (the inventory's "full" cases),
# the whole suite on the other kernel lines, the whole QEMU matrix and all
# of kvm-unit-tests (docs/qemu.md, docs/packaging.md).
test-full: env
	@$(MAKE) --no-print-directory initramfs
	@YAKVM_QEMU_SUITE=full scripts/test.sh --lines "$(OTHER_LINES)" --full --deb

deb: env
	@scripts/deb.sh

# Debian's QEMU boots the Linux guest in the test VM, console in this terminal.
DEV ?= yakvm
MACHINE ?= pc,kernel-irqchip=off
SMP ?= 1
run-qemu: env
	@$(MAKE) --no-print-directory initramfs
	@YAKVM_TESTVM_SMP=1 scripts/run-main.sh --cpu $(CPU) --vm-cmd "qemu-linux --dev $(DEV) --machine $(MACHINE) --smp $(SMP)$(if $(CMD), --cmd '$(CMD)')"

stress: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/test.sh --threads multi --no-selfcheck

bench: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/bench.sh --cpu $(CPU)

fuzz: env
	@$(MAKE) --no-print-directory initramfs
	@scripts/testvm.sh --cpu $(CPU) --mode fuzz --args $(SEED),$(CALLS) --timeout 3600

clean: module-clean
	rm -rf $(BUILD)
