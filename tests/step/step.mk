# Single-step judges (tests/step/, docs/testing.md "Single-step judge"):
# build/tests/step.test steps two guest programs on /dev/yakvm and /dev/kvm
# inside the test VM; scripts/unicorn-compare.py replays the same images,
# build/tests/step-*.bin, on the host.  The initramfs copies build/tests/*.

# Guest-physical load address of both images.
STEP_LOAD   := 0x10000
STEP_DIR    := $(BUILD)/tests
STEP_OBJDIR := $(BUILD)/step
STEP_IMAGES := $(STEP_DIR)/step-real16.bin $(STEP_DIR)/step-prot32.bin

# Link address of each image: real16 runs at CS:0 with CS = STEP_LOAD / 16.
STEP_LINK_real16 := 0
STEP_LINK_prot32 := $(STEP_LOAD)

tests: $(STEP_DIR)/step.test $(STEP_IMAGES)

# The objects stay for objdump -d when reading a trace.
.SECONDARY: $(STEP_OBJDIR)/real16.o $(STEP_OBJDIR)/prot32.o

$(STEP_DIR)/step.test: tests/step/step.c tests/step/step.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DSTEP_LOAD=$(STEP_LOAD) $< -o $@ $(LDFLAGS)

$(STEP_OBJDIR)/%.o: tests/step/%.S tests/step/step.mk
	@mkdir -p $(@D)
	$(CC) -m32 -c -DSTEP_LOAD=$(STEP_LOAD) $< -o $@

$(STEP_DIR)/step-%.bin: $(STEP_OBJDIR)/%.o
	@mkdir -p $(@D)
	ld -m elf_i386 -Ttext=$(STEP_LINK_$*) -e start --oformat binary $< -o $@
