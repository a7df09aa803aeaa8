# The Linux guest's in-VM tests (run by scripts/vm/run-tests.sh as
# /tests/linux-*.test): shell scripts copied to build/tests/, with the
# helpers they share.

LINUX_TESTS := $(patsubst tests/linux/%,$(BUILD)/tests/%,$(wildcard tests/linux/*.test) \
	tests/linux/linux-common.sh)

tests: linux-tests
linux-tests: $(LINUX_TESTS)

$(BUILD)/tests/linux-%: tests/linux/linux-%
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: linux-tests
