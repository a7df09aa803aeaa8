# yakvm, the user-space VMM: one static binary, so it runs in the test VM's
# busybox initramfs as it is.

VMM     := $(BIN)/yakvm
VMM_SRC := $(wildcard vmm/*.c vmm/devices/*.c vmm/loaders/*.c)
VMM_HDR := $(wildcard vmm/*.h vmm/devices/*.h vmm/loaders/*.h)
VMM_OBJ := $(patsubst vmm/%.c,$(BUILD)/vmm/%.o,$(VMM_SRC))

vmm: $(VMM)

$(VMM): $(VMM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/vmm/%.o: vmm/%.c $(VMM_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
