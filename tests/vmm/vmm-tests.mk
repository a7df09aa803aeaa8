# The VMM's in-VM tests: shell scripts copied to build/tests/ (run by
# scripts/vm/run-tests.sh as /tests/*.test) with their helper.

VMM_TESTS := $(patsubst tests/vmm/%,$(BUILD)/tests/%,$(wildcard tests/vmm/*.test) \
	tests/vmm/vmm-common.sh)

tests: vmm-tests
vmm-tests: $(VMM_TESTS)

$(BUILD)/tests/%: tests/vmm/%
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: vmm-tests

# A helper that runs a command on a pseudo-terminal (for the terminal tests).
vmm-tests: $(BUILD)/tests/vmm-ptyrun
$(BUILD)/tests/vmm-ptyrun: tests/vmm/ptyrun.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
