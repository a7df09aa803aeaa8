// SPDX-License-Identifier: GPL-2.0
/*
 * A guest hammering the whole I/O port space: an OUT and an IN on every
 * port from 0 to 0xffff (sizes 1, 2 and 4 in turn; the DX form, since the
 * immediate form reaches only 0-0xff).  yakvm intercepts every port (the
 * IOPM is all ones, APM vol. 2 §15.10.1), so each access must reach the
 * VMM as exactly one KVM_EXIT_IO with the right port, size, direction and
 * data, and each IN must return what the VMM answered -- nothing is
 * handled behind the VMM's back, nothing touches the host's ports, and a
 * 4-byte access at 0xfffd..0xffff (which wraps past the top of the port
 * space) is just another exit.
 */
#include "guest.h"
#include "modes.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define NR_PORTS	0x10000

/* The access size used at @port: 1, 2, 4, 1, 2, 4, ... */
static unsigned int size_at(uint32_t port)
{
	return 1U << (port % 3);
}

/* What the guest writes to @port, and what the VMM answers when it reads it. */
static uint32_t out_value(uint32_t port)
{
	return (port * 0x9e3779b1U) ^ 0x5a5a5a5aU;
}

static uint32_t in_value(uint32_t port)
{
	return ~port * 0x85ebca6bU;
}

static uint32_t size_mask(unsigned int size)
{
	return size == 4 ? 0xffffffffU : (1U << (8 * size)) - 1;
}

static void guest_out(uint16_t port, unsigned int size, uint32_t v)
{
	if (size == 1)
		__asm__ volatile("outb %b0, %w1" : : "a"(v), "d"(port));
	else if (size == 2)
		__asm__ volatile("outw %w0, %w1" : : "a"(v), "d"(port));
	else
		__asm__ volatile("outl %0, %w1" : : "a"(v), "d"(port));
}

/* IN leaves the bits above its size alone: start from all ones to see it. */
static uint32_t guest_in(uint16_t port, unsigned int size)
{
	uint32_t v = 0xffffffffU;

	if (size == 1)
		__asm__ volatile("inb %w1, %b0" : "+a"(v) : "d"(port));
	else if (size == 2)
		__asm__ volatile("inw %w1, %w0" : "+a"(v) : "d"(port));
	else
		__asm__ volatile("inl %w1, %0" : "+a"(v) : "d"(port));
	return v;
}

static void guest_sweep(void)
{
	uint64_t wrong = 0, first_wrong = ~0ULL;
	uint32_t port;

	for (port = 0; port < NR_PORTS; port++) {
		unsigned int size = size_at(port);
		uint32_t mask = size_mask(size);
		uint32_t got;

		guest_out(port, size, out_value(port));
		got = guest_in(port, size);
		if (got != ((in_value(port) & mask) | ~mask)) {
			if (!wrong)
				first_wrong = port;
			wrong++;
		}
	}
	GUEST_SYNC(wrong, first_wrong);
}

/* ---------------------------------------------------------------- */
/* The VMM                                                          */

static void expect_io(struct vcpu *v, uint32_t port, bool out)
{
	struct kvm_run *run = v->run;
	unsigned int size = size_at(port);
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t value = 0;

	vcpu_run(v);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO && run->io.port == port &&
		    run->io.size == size && run->io.count == 1 &&
		    run->io.direction == (out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN),
		    "expected %s of %u bytes at port 0x%x, got %s", out ? "OUT" : "IN",
		    size, port, vcpu_exit_str(v));
	data = (uint8_t *)run + run->io.data_offset;
	if (out) {
		memcpy(&value, data, size);
		TEST_ASSERT(value == (out_value(port) & size_mask(size)),
			    "OUT at port 0x%x carried 0x%x, the guest wrote 0x%x", port,
			    value, out_value(port) & size_mask(size));
	} else {
		value = in_value(port);
		memcpy(data, &value, size);
	}
}

TEST_CASE_OPTS(every_port_out_and_in, .timeout_s = 300)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_sweep, 0);
	struct ucall uc;
	uint32_t port;

	for (port = 0; port < NR_PORTS; port++) {
		expect_io(v, port, true);
		expect_io(v, port, false);
	}
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 0, "%llu INs returned the wrong value, the first at port 0x%llx",
		    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	test_log("%u ports: %u OUT and %u IN exits, all as written and answered",
		 NR_PORTS, NR_PORTS, NR_PORTS);
	vm_free(v->vm);
}
