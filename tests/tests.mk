# Test binaries: build/tests/NAME.test from tests/NAME.c plus the library in
# tests/lib/ (docs/testing.md).  Each binary runs in the test VM, where
# scripts/vm/run-tests.sh starts every *.test.
#
# Tests are linked static and non-PIE because 64-bit guest code is the test
# binary's own code, loaded into guest memory at its link addresses.  Guest
# code must not depend on the host's CPU setup: no red zone (it takes
# exceptions), no SSE/AVX, no stack protector (no TLS in the guest), and no
# calls to the C library's string functions (inlined instead).

TEST_DIR    := $(BUILD)/tests
TEST_OBJDIR := $(BUILD)/tests-obj
TEST_CFLAGS := $(CSTD) $(WARN) -O2 -g -Itests/lib -fno-pie -mno-red-zone \
	       -mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
	       -fno-tree-loop-distribute-patterns -minline-all-stringops \
	       -mstringop-strategy=rep_byte
TEST_LDFLAGS := -static -no-pie -pthread

# Programs with their own main() and no use of the library are built alone:
# the benchmarks (build/tests/bench, run by `make bench`) and the fuzzer.
TEST_STANDALONE := $(wildcard tests/bench.c tests/fuzz.c)

TEST_HEADERS  := $(wildcard tests/lib/*.h)
TEST_LIB_OBJS := $(patsubst tests/lib/%,$(TEST_OBJDIR)/%.o,\
		 $(wildcard tests/lib/*.c tests/lib/*.S))
TEST_BINS     := $(patsubst tests/%.c,$(TEST_DIR)/%.test,\
		 $(filter-out $(TEST_STANDALONE),$(wildcard tests/*.c)))
TEST_BINS     += $(patsubst tests/%.c,$(TEST_DIR)/%,$(filter tests/bench.c,$(TEST_STANDALONE)))
TEST_BINS     += $(patsubst tests/%.c,$(TEST_DIR)/%.test,$(filter tests/fuzz.c,$(TEST_STANDALONE)))

tests: $(TEST_BINS)

# Keep the library objects: make would delete them as intermediates.
.SECONDARY: $(TEST_LIB_OBJS)

$(TEST_OBJDIR)/%.c.o: tests/lib/%.c $(TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(TEST_OBJDIR)/%.S.o: tests/lib/%.S
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(TEST_DIR)/%.test: tests/%.c $(TEST_LIB_OBJS) $(TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(TEST_LDFLAGS)

define build_standalone
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
endef

$(TEST_DIR)/bench: tests/bench.c
	$(build_standalone)

$(TEST_DIR)/fuzz.test: tests/fuzz.c
	$(build_standalone)
