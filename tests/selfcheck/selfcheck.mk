# The harness self-check's tests (tests/selfcheck/): built into
# build/selfcheck/, outside build/tests/, so the suite never runs them;
# the initramfs holds them in /selfcheck for the self-check boot.

SELFCHECK_DIR := $(BUILD)/selfcheck
SELFCHECK := $(SELFCHECK_DIR)/selfcheck.test $(SELFCHECK_DIR)/vm-leak.test \
	     $(SELFCHECK_DIR)/crash.test \
	     $(SELFCHECK_DIR)/without-kvm/nokvm.test \
	     $(SELFCHECK_DIR)/without-kvm/scripted.test \
	     $(SELFCHECK_DIR)/without-kvm/vmm-common.sh

tests: $(SELFCHECK)

$(SELFCHECK_DIR)/%.test: tests/selfcheck/%.c $(TEST_LIB_OBJS) $(TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(TEST_LDFLAGS)

$(SELFCHECK_DIR)/without-kvm/nokvm.test: tests/selfcheck/without-kvm/nokvm.c $(TEST_LIB_OBJS) $(TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(TEST_LDFLAGS)

$(SELFCHECK_DIR)/crash.test: tests/selfcheck/crash.test
	@mkdir -p $(@D)
	cp $< $@

$(SELFCHECK_DIR)/without-kvm/scripted.test: tests/selfcheck/without-kvm/scripted.test
	@mkdir -p $(@D)
	cp $< $@

$(SELFCHECK_DIR)/without-kvm/vmm-common.sh: tests/vmm/vmm-common.sh
	@mkdir -p $(@D)
	cp $< $@
