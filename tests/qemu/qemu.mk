# The QEMU tests (docs/qemu.md): shell scripts and their inputs, copied to
# build/tests/qemu/ (the test VM's /tests/qemu/, run by tests/qemu/run.sh in
# its own one-vCPU boot: scripts/test.sh, scripts/test-qemu.sh), and the
# SeaBIOS boot-sector image.  kvm-unit-tests and Debian's QEMU ride in their
# own cpio archives (scripts/mkkut.sh, scripts/mkqemuroot.sh).

QEMU_TEST_DIR := $(BUILD)/tests/qemu
QEMU_TEST_FILES := $(patsubst tests/qemu/%,$(QEMU_TEST_DIR)/%,$(wildcard tests/qemu/*.test) \
	tests/qemu/common.sh tests/qemu/run.sh tests/qemu/bench.sh tests/qemu/kut-timed \
	tests/qemu/kut-quick tests/qemu/kut-kvm-known)

tests: qemu-tests
qemu-tests: $(QEMU_TEST_FILES) $(QEMU_TEST_DIR)/boot.img

$(QEMU_TEST_DIR)/%: tests/qemu/%
	@mkdir -p $(dir $@)
	cp $< $@

$(QEMU_TEST_DIR)/boot.img: tests/qemu/bootsector.S
	@mkdir -p $(dir $@) $(BUILD)/tests-obj
	$(CC) -m32 -c -o $(BUILD)/tests-obj/bootsector.o $<
	ld -m elf_i386 -nostdlib -Ttext=0x7c00 --oformat=binary -o $@ $(BUILD)/tests-obj/bootsector.o
	@test "$$(stat -c %s $@)" = 1024 || { echo "boot.img: not 1024 bytes" >&2; rm -f $@; exit 1; }

.PHONY: qemu-tests
