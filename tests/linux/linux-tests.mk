# The Linux guest's in-VM tests (run by scripts/vm/run-tests.sh as
# /tests/linux-*.test): shell scripts copied to build/tests/.

LINUX_TESTS := $(patsubst tests/linux/%,$(BUILD)/tests/%,$(wildcard tests/linux/*.test))

tests: linux-tests
linux-tests: $(LINUX_TESTS)

$(BUILD)/tests/linux-%.test: tests/linux/linux-%.test
	@mkdir -p $(dir $@)
	cp $< $@

.PHONY: linux-tests
