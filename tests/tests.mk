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

# Programs with their own main() are built alone, without the library; they
# are suite tests (NAME.test) except the tools the suite does not run
# (build/tests/bench, run by `make bench`).
TEST_STANDALONE := $(shell grep -l '^int main' tests/*.c 2>/dev/null)
TEST_TOOLS      := $(filter tests/bench.c,$(TEST_STANDALONE))

TEST_HEADERS  := $(wildcard tests/lib/*.h)
TEST_LIB_OBJS := $(patsubst tests/lib/%,$(TEST_OBJDIR)/%.o,\
		 $(wildcard tests/lib/*.c tests/lib/*.S))
LIB_TESTS     := $(patsubst tests/%.c,$(TEST_DIR)/%.test,\
		 $(filter-out $(TEST_STANDALONE),$(wildcard tests/*.c)))
ALONE_TESTS   := $(patsubst tests/%.c,$(TEST_DIR)/%.test,\
		 $(filter-out $(TEST_TOOLS),$(TEST_STANDALONE)))
TOOLS         := $(patsubst tests/%.c,$(TEST_DIR)/%,$(TEST_TOOLS))

tests: $(LIB_TESTS) $(ALONE_TESTS) $(TOOLS)

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

$(LIB_TESTS): $(TEST_DIR)/%.test: tests/%.c $(TEST_LIB_OBJS) $(TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(TEST_LDFLAGS)

define build_standalone
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
endef

$(ALONE_TESTS): $(TEST_DIR)/%.test: tests/%.c
	$(build_standalone)

$(TOOLS): $(TEST_DIR)/%: tests/%.c
	$(build_standalone)
