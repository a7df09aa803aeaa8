# Example and test guests, built into build/guests/ (copied to /guests in the
# test VM).  Assembly-only guests are flat binaries linked at their load
# address; the C guests share guests/lib and guests/guest.ld.
#
#   hello-real.bin   real mode (yakvm run hello-real.bin)
#   hello-prot.bin   32-bit protected mode (--mode prot)
#   hello-long.bin   64-bit long mode, C (--mode long)
#   mbtest.elf       multiboot v1 kernel that prints the boot information
#   elftest.elf      ELF64 image that prints the boot information
#   mbkludge.bin     the multiboot test kernel as a flat file (header load addresses)
#   mmioforms.elf    MMIO/string-I/O instruction forms beyond MOV, one per line
#   irqchip.elf      the --irqchip kernel machine: MP table, APIC and IOAPIC
#                    interrupt paths, INIT/SIPI (ELF64, C + a real-mode trampoline)
#   spin.bin, triplefault.bin, unclaimed.bin   for the VMM tests

GUEST_OUT := $(BUILD)/guests
GUEST_OBJ := $(BUILD)/guest-obj
GUEST_INC := -Ivmm/devices -Ivmm/loaders -Iguests/lib
GUEST_CFLAGS := -std=c11 $(WARN) -O2 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-nostdlib $(GUEST_INC)
# One RWX segment is what a bare-metal guest wants: no warning for it.
GUEST_LDFLAGS := -nostdlib --build-id=none -z noexecstack -z max-page-size=0x1000 \
	--no-warn-rwx-segments
GUEST_DEPS := $(wildcard guests/lib/*.h) vmm/devices/platform.h vmm/loaders/multiboot.h

GUESTS := $(addprefix $(GUEST_OUT)/,hello-real.bin hello-prot.bin hello-long.bin \
	mbtest.elf elftest.elf mbkludge.bin mmioforms.elf spin.bin triplefault.bin unclaimed.bin \
	irqchip.elf)

guests: $(GUESTS)

# Objects: <name>.32.o for 32-bit (real and protected mode), <name>.64.o for 64-bit.
$(GUEST_OBJ)/%.32.o: guests/%.S $(GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_INC) -c -o $@ $<
$(GUEST_OBJ)/%.32.o: guests/%.c $(GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -m32 $(GUEST_CFLAGS) -c -o $@ $<
$(GUEST_OBJ)/%.64.o: guests/%.S $(GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -m64 $(GUEST_INC) -c -o $@ $<
$(GUEST_OBJ)/%.64.o: guests/%.c $(GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -m64 -mno-red-zone $(GUEST_CFLAGS) -c -o $@ $<

# Assembly-only flat guests: real-mode ones at 0x1000, protected-mode ones at 1 MiB.
$(GUEST_OBJ)/%.real.elf: $(GUEST_OBJ)/%.32.o
	ld -m elf_i386 $(GUEST_LDFLAGS) -Ttext=0x1000 -e _start -o $@ $<
$(GUEST_OBJ)/%.prot.elf: $(GUEST_OBJ)/%.32.o
	ld -m elf_i386 $(GUEST_LDFLAGS) -Ttext=0x100000 -e _start -o $@ $<

$(GUEST_OUT)/hello-real.bin: $(GUEST_OBJ)/hello-real.real.elf
$(GUEST_OUT)/spin.bin: $(GUEST_OBJ)/spin.real.elf
$(GUEST_OUT)/triplefault.bin: $(GUEST_OBJ)/triplefault.real.elf
$(GUEST_OUT)/hello-prot.bin: $(GUEST_OBJ)/hello-prot.prot.elf
$(GUEST_OUT)/unclaimed.bin: $(GUEST_OBJ)/unclaimed.prot.elf
$(GUEST_OUT)/hello-long.bin: $(GUEST_OBJ)/hello-long.elf

$(GUEST_OUT)/%.bin:
	@mkdir -p $(dir $@)
	objcopy -O binary $< $@

# C guests.
LINK32 = ld -m elf_i386 $(GUEST_LDFLAGS) -T guests/guest.ld -o $@ $(filter %.o,$^)
LINK64 = ld -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/guest.ld -o $@ $(filter %.o,$^)
$(GUEST_OBJ)/hello-long.elf: $(addprefix $(GUEST_OBJ)/,lib/start.64.o hello-long.64.o \
		lib/console.64.o) guests/guest.ld
	$(LINK64)
$(GUEST_OUT)/elftest.elf: $(addprefix $(GUEST_OBJ)/,lib/start.64.o lib/bootreport.64.o \
		lib/console.64.o) guests/guest.ld
	@mkdir -p $(dir $@)
	$(LINK64)
$(GUEST_OUT)/mmioforms.elf: $(addprefix $(GUEST_OBJ)/,lib/start.64.o mmioforms.64.o \
		lib/console.64.o) guests/guest.ld
	@mkdir -p $(dir $@)
	$(LINK64)
$(GUEST_OUT)/irqchip.elf: $(addprefix $(GUEST_OBJ)/,lib/start.64.o irqchip.64.o \
		irqchip-ap.64.o lib/console.64.o) guests/guest.ld
	@mkdir -p $(dir $@)
	$(LINK64)
$(GUEST_OUT)/mbtest.elf: $(addprefix $(GUEST_OBJ)/,mbheader.32.o lib/start.32.o \
		lib/bootreport.32.o lib/console.32.o) guests/guest.ld
	@mkdir -p $(dir $@)
	$(LINK32)
$(GUEST_OBJ)/mbheader-kludge.32.o: guests/mbheader.S $(GUEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) -m32 -DAOUT_KLUDGE $(GUEST_INC) -c -o $@ $<
$(GUEST_OBJ)/mbkludge.elf: $(addprefix $(GUEST_OBJ)/,mbheader-kludge.32.o lib/start.32.o \
		lib/bootreport.32.o lib/console.32.o) guests/guest.ld
	$(LINK32)
$(GUEST_OUT)/mbkludge.bin: $(GUEST_OBJ)/mbkludge.elf

.SECONDARY:

# The Linux guest: Debian's kernel and a busybox initramfs (scripts/guest/init),
# in the test VM as /linux/vmlinuz and /linux/initrd.gz.  Its own programs
# (guests/linux/*.c, static) go to the guest's /bin.
LINUX_GUEST := $(BUILD)/linux-guest/initrd.gz
LINUX_GUEST_BIN := $(patsubst guests/linux/%.c,$(BUILD)/linux-guest-bin/%,\
	$(wildcard guests/linux/*.c))

guests: $(LINUX_GUEST)

$(BUILD)/linux-guest-bin/%: guests/linux/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -pthread -s -o $@ $<

$(LINUX_GUEST): scripts/mkguestinitrd.sh scripts/guest/init $(LINUX_GUEST_BIN) \
		$(wildcard $(BUILD)/kver)
	@scripts/mkguestinitrd.sh
