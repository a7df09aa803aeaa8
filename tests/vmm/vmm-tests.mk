# The VMM's in-VM tests: shell scripts copied to build/tests/ (run by
# scripts/vm/run-tests.sh as /tests/*.test) with their helpers.

VMM_TESTS := $(patsubst tests/vmm/%,$(BUILD)/tests/%,$(wildcard tests/vmm/*.test) \
	tests/vmm/vmm-common.sh)

tests: vmm-tests
vmm-tests: $(VMM_TESTS)

$(BUILD)/tests/%: tests/vmm/%
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: vmm-tests

# Helpers: a command on a pseudo-terminal (the terminal tests), and a
# device's KVM_CHECK_EXTENSION answers (asked without the VMM under test).
vmm-tests: $(BUILD)/tests/vmm-ptyrun $(BUILD)/tests/vmm-kvmcap
$(BUILD)/tests/vmm-ptyrun: tests/vmm/ptyrun.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
$(BUILD)/tests/vmm-kvmcap: tests/vmm/kvmcap.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
