// SPDX-License-Identifier: GPL-2.0
/*
 * Differential runs (see diff.h): field-by-field comparison of two vCPU
 * snapshots, naming the first field that differs.
 */
#include <stdio.h>
#include <string.h>

#include "diff.h"

void vcpu_snapshot(struct vcpu *v, struct vcpu_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->exit_reason = v->run->exit_reason;
	vcpu_get_regs(v, &out->regs);
	vcpu_get_sregs(v, &out->sregs);
}

struct field {
	const char *name;
	size_t offset;
	size_t size;
};

#define REG(f)	{ "regs." #f, offsetof(struct vcpu_snapshot, regs.f), 8 }
#define SREG(f)	{ "sregs." #f, offsetof(struct vcpu_snapshot, sregs.f), \
		  sizeof(((struct kvm_sregs *)0)->f) }
#define SEG(r)	SREG(r.base), SREG(r.limit), SREG(r.selector), SREG(r.type), \
		SREG(r.present), SREG(r.dpl), SREG(r.db), SREG(r.s), SREG(r.l), \
		SREG(r.g), SREG(r.avl), SREG(r.unusable)

static const struct field fields[] = {
	{ "exit_reason", offsetof(struct vcpu_snapshot, exit_reason), 4 },
	REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rsp),
	REG(rbp), REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13),
	REG(r14), REG(r15), REG(rip), REG(rflags),
	SEG(cs), SEG(ds), SEG(es), SEG(fs), SEG(gs), SEG(ss), SEG(tr), SEG(ldt),
	SREG(gdt.base), SREG(gdt.limit), SREG(idt.base), SREG(idt.limit),
	SREG(cr0), SREG(cr2), SREG(cr3), SREG(cr4), SREG(cr8), SREG(efer),
	SREG(apic_base), SREG(interrupt_bitmap[0]), SREG(interrupt_bitmap[1]),
	SREG(interrupt_bitmap[2]), SREG(interrupt_bitmap[3]),
};

static uint64_t field_value(const struct vcpu_snapshot *s, const struct field *f)
{
	uint64_t v = 0;

	memcpy(&v, (const uint8_t *)s + f->offset, f->size < 8 ? f->size : 8);
	return v;
}

void snapshot_for_each_field(const struct vcpu_snapshot *s, snapshot_field_fn fn,
			     void *arg)
{
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		fn(fields[i].name, field_value(s, &fields[i]), arg);
}

void diff_devices(const struct test_ctx *ctx, diff_scenario_fn fn,
		  diff_mask_fn mask)
{
	struct vcpu_snapshot a, b;
	size_t i, len = 0;
	char why[700];

	fn(ctx->devs[0], &a);
	fn(ctx->devs[1], &b);
	if (mask) {
		mask(&a);
		mask(&b);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];

		if (memcmp((const uint8_t *)&a + f->offset,
			   (const uint8_t *)&b + f->offset, f->size))
			len += snprintf(why + len, sizeof(why) - len,
					"%s%s %s 0x%llx %s 0x%llx", len ? "; " : "",
					f->name, ctx->devs[0]->name,
					(unsigned long long)field_value(&a, f),
					ctx->devs[1]->name,
					(unsigned long long)field_value(&b, f));
		if (len >= sizeof(why))
			break;
	}
	if (len)
		test_fail("state differs: %s", why);
}
