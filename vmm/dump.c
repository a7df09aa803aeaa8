/* Register dumps: what a user needs to see when a guest dies. */
#include "dump.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util.h"
#include "vcpu.h"

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
};

const char *exit_reason_name(uint32_t reason)
{
	static __thread char unknown[32];

	if (reason < ARRAY_SIZE(exit_names) && exit_names[reason])
		return exit_names[reason];
	snprintf(unknown, sizeof(unknown), "exit reason %u", reason);
	return unknown;
}

uint64_t vcpu_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return ~0ULL;
	return regs.rip;
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	msg("  %-4s sel %04x base %016llx limit %08x type %x s%u dpl%u p%u db%u l%u g%u%s",
	    name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->s,
	    s->dpl, s->present, s->db, s->l, s->g, s->unusable ? " unusable" : "");
}

static void dump_regs(const struct kvm_regs *r)
{
	msg("  rax %016llx rbx %016llx rcx %016llx rdx %016llx",
	    r->rax, r->rbx, r->rcx, r->rdx);
	msg("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx",
	    r->rsi, r->rdi, r->rbp, r->rsp);
	msg("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", r->r8, r->r9, r->r10, r->r11);
	msg("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx",
	    r->r12, r->r13, r->r14, r->r15);
	msg("  rip %016llx rflags %08llx", r->rip, r->rflags);
}

static void dump_sregs(const struct kvm_sregs *s)
{
	dump_segment("cs", &s->cs);
	dump_segment("ds", &s->ds);
	dump_segment("es", &s->es);
	dump_segment("ss", &s->ss);
	dump_segment("fs", &s->fs);
	dump_segment("gs", &s->gs);
	dump_segment("tr", &s->tr);
	dump_segment("ldt", &s->ldt);
	msg("  gdt base %016llx limit %04x  idt base %016llx limit %04x",
	    (unsigned long long)s->gdt.base, s->gdt.limit,
	    (unsigned long long)s->idt.base, s->idt.limit);
	msg("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx",
	    s->cr0, s->cr2, s->cr3, s->cr4, s->efer);
}

void dump_vcpu_state(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	msg("vCPU %u state at the failing exit (%s):", vcpu->id,
	    exit_reason_name(vcpu->run->exit_reason));
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		msg("  KVM_GET_REGS: %s", strerror(errno));
	else
		dump_regs(&regs);
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		msg("  KVM_GET_SREGS: %s", strerror(errno));
	else
		dump_sregs(&sregs);
}
