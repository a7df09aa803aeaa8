// SPDX-License-Identifier: GPL-2.0
/*
 * #VMEXIT dispatch: one handler per SVM exit code (APM appendix C), each
 * returning 1 to re-enter the guest, 0 to return to user space with
 * kvm_run filled in, or a negative errno for KVM_RUN.  An exit nobody
 * expects becomes KVM_EXIT_INTERNAL_ERROR with the exit code, never a guess.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/kvm_para.h>
#include <linux/nospec.h>
#include <asm/debugreg.h>
#include <asm/fpu/xcr.h>
#include <asm/msr.h>

#include "yakvm.h"

int yakvm_user_exit(struct yakvm_vcpu *vcpu, u32 reason)
{
	vcpu->run->exit_reason = reason;
	if (reason < ARRAY_SIZE(vcpu->stats.user_exits))
		vcpu->stats.user_exits[reason]++;
	return 0;
}

int yakvm_internal_error(struct yakvm_vcpu *vcpu, u32 suberror)
{
	struct kvm_run *run = vcpu->run;

	run->internal.suberror = suberror;
	run->internal.ndata = 3;
	run->internal.data[0] = vcpu->vmcb->control.exit_code;
	run->internal.data[1] = vcpu->vmcb->control.exit_info_1;
	run->internal.data[2] = vcpu->vmcb->control.exit_info_2;
	return yakvm_user_exit(vcpu, KVM_EXIT_INTERNAL_ERROR);
}

/* An instruction the emulator cannot handle: report its bytes (api.rst). */
int yakvm_emulation_error(struct yakvm_vcpu *vcpu, const u8 *insn,
			  unsigned int len)
{
	struct kvm_run *run = vcpu->run;

	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.ndata = 3;
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	len = min_t(unsigned int, len, sizeof(run->emulation_failure.insn_bytes));
	run->emulation_failure.insn_size = len;
	memset(run->emulation_failure.insn_bytes, 0,
	       sizeof(run->emulation_failure.insn_bytes));
	if (len)
		memcpy(run->emulation_failure.insn_bytes, insn, len);
	return yakvm_user_exit(vcpu, KVM_EXIT_INTERNAL_ERROR);
}

void yakvm_set_rip(struct yakvm_vcpu *vcpu, u64 rip)
{
	if (!yakvm_64bit_code(vcpu))
		rip = (u32)rip;
	vcpu->vmcb->save.rip = rip;
	/* The instruction completed: an STI/MOV SS shadow no longer applies. */
	vcpu->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	/*
	 * Hardware raises no single-step #DB for what the module completed.
	 * yakvm's own TF over an NMI window is not the guest's: the step it
	 * waited for is this one, and only the guest's TF (or a debugger's)
	 * makes a step to report.
	 */
	if (vcpu->nmi_singlestep) {
		bool guest_tf = yakvm_singlestepping(vcpu) ||
				(vcpu->nmi_singlestep_rflags & X86_EFLAGS_TF);

		yakvm_nmi_singlestep_db(vcpu);
		if (guest_tf)
			vcpu->step_completed = true;
	} else if (vcpu->vmcb->save.rflags & X86_EFLAGS_TF) {
		vcpu->step_completed = true;
	}
}

/*
 * Write @size bytes of @val to a general register as the CPU would: 8- and
 * 16-bit writes keep the rest of the register, 32-bit writes zero-extend.
 */
void yakvm_write_reg(struct yakvm_vcpu *vcpu, u8 reg, u64 val, u8 size,
		     bool high_byte)
{
	unsigned long *r = &vcpu->regs[reg];

	switch (size) {
	case 1:
		if (high_byte)
			*r = (*r & ~0xff00UL) | (val & 0xff) << 8;
		else
			*r = (*r & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		*r = (u32)val;
		break;
	default:
		*r = val;
		break;
	}
}

u64 yakvm_addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/*
 * Update a register as an address-size-wide counter (rSI, rDI, rCX of a
 * string instruction): a 16-bit update keeps the upper bits, a 32-bit one
 * zero-extends like every 32-bit register write.
 */
void yakvm_add_masked(unsigned long *reg, s64 delta, u8 addr_size)
{
	u64 mask = yakvm_addr_mask(addr_size);

	if (addr_size == 4)
		*reg = (u32)(*reg + delta);
	else
		*reg = (*reg & ~mask) | ((*reg + delta) & mask);
}

/* Fixed lengths of the intercepted instructions, used if decoding fails. */
static unsigned int fixed_insn_len(u32 exit_code)
{
	switch (exit_code) {
	case SVM_EXIT_HLT:
		return 1;
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_RDTSCP:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		return 3;
	default:
		return 2;
	}
}

/*
 * Advance RIP past the intercepted instruction.  With nRIP save the CPU
 * tells us where the next instruction is; without it (QEMU's SVM), the
 * length is decoded from guest memory: legacy and REX prefixes, then a
 * one-byte opcode (F4), a 0F xx opcode, or a 0F 01 xx opcode.
 */
int yakvm_skip_instruction(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct yakvm_insn insn = {};
	unsigned int len;

	if (yakvm_svm.nrips && vmcb->control.next_rip) {
		yakvm_set_rip(vcpu, vmcb->control.next_rip);
		return 1;
	}
	len = fixed_insn_len(vmcb->control.exit_code);
	if (!yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) &&
	    !yakvm_decode_prefixes(vcpu, &insn) && insn.prefix_len < insn.len) {
		u8 op = insn.bytes[insn.prefix_len];

		if (op == 0x0f && insn.prefix_len + 1 < insn.len)
			len = insn.bytes[insn.prefix_len + 1] == 0x01 ? 3 : 2;
		else
			len = 1;
		len += insn.prefix_len;
	}
	yakvm_set_rip(vcpu, vmcb->save.rip + len);
	return 1;
}

static int handle_nop(struct yakvm_vcpu *vcpu)
{
	/*
	 * INTR, NMI, SMI: the host handles the event once GIF and IF are set.
	 * #MC: the host's handler already ran, right after the exit (run.c).
	 */
	return 1;
}

static int handle_skip(struct yakvm_vcpu *vcpu)
{
	/* INVD, WBINVD: caches are the host's business; do nothing. */
	return yakvm_skip_instruction(vcpu);
}

static int handle_ud(struct yakvm_vcpu *vcpu)
{
	/*
	 * SVM instructions (the guest sees no SVM in CPUID), MONITOR/MWAIT
	 * and RDPRU (not offered either): #UD, as on a CPU without them; and
	 * the guest's own #UD, intercepted (kvm/vcpu.c) and given back.
	 */
	yakvm_inject_ud(vcpu);
	return 1;
}

static int handle_gp(struct yakvm_vcpu *vcpu)
{
	/* RDPMC: no performance counters are offered to the guest. */
	yakvm_inject_gp(vcpu);
	return 1;
}

static int handle_hlt(struct yakvm_vcpu *vcpu)
{
	yakvm_skip_instruction(vcpu);
	/* Without an in-kernel interrupt controller, HLT is user space's. */
	if (!vcpu->apic)
		return yakvm_user_exit(vcpu, KVM_EXIT_HLT);
	/* Else the vCPU sleeps in KVM_RUN until something wakes it (run.c). */
	vcpu->mp_state = KVM_MP_STATE_HALTED;
	return 1;
}

/*
 * MOV to CR8, intercepted only while the TPR holds an APIC interrupt back
 * (svm/events.c): the new TPR, then the interrupt may be deliverable.
 */
static int handle_cr8_write(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct yakvm_insn insn = {};
	unsigned int gpr;
	u64 cr8;

	if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) ||
	    yakvm_decode_mov_cr(vcpu, &insn))
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);
	gpr = insn.modrm_rm;
	if (yakvm_svm.decode_assists && (vmcb->control.exit_info_1 & BIT_ULL(63)))
		gpr = vmcb->control.exit_info_1 & 0xf;
	cr8 = vcpu->regs[gpr];
	if (vmcb->save.cpl || (yakvm_64bit_code(vcpu) ? cr8 : (u32)cr8) > 15) {
		yakvm_inject_gp(vcpu);
		return 1;
	}
	yakvm_set_cr8(vcpu, cr8);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	yakvm_set_rip(vcpu, vmcb->save.rip + insn.len);
	return 1;
}

static int handle_shutdown(struct yakvm_vcpu *vcpu)
{
	/* The VMCB is undefined after a shutdown (APM 15.12): reset the vCPU. */
	yakvm_vcpu_reset(vcpu);
	return yakvm_user_exit(vcpu, KVM_EXIT_SHUTDOWN);
}

/*
 * VMMCALL: KVM's hypercall ABI (Documentation/virt/kvm/x86/hypercalls.rst):
 * number in RAX, arguments in RBX, RCX, RDX, RSI, result in RAX; a caller
 * outside 64-bit mode passes and gets 32 bits.  yakvm implements the no-op
 * KVM_HC_VAPIC_POLL_IRQ and KVM_HC_SEND_IPI (with the in-kernel APIC; KVM
 * answers it whatever CPUID says, unless a VMM enforces the PV CPUID, and
 * guests such as kvm-unit-tests call it); every other call returns
 * -KVM_ENOSYS, and calls from CPL > 0 return -KVM_EPERM, as KVM does.
 */
static int handle_vmmcall(struct yakvm_vcpu *vcpu)
{
	bool op64 = yakvm_64bit_code(vcpu);
	unsigned long nr = vcpu->regs[YAKVM_RAX];
	unsigned long a[4] = {
		vcpu->regs[YAKVM_RBX], vcpu->regs[YAKVM_RCX],
		vcpu->regs[YAKVM_RDX], vcpu->regs[YAKVM_RSI],
	};
	long ret = -KVM_ENOSYS;
	int i;

	/* A Hyper-V guest's calls follow its ABI (cpu/hyperv.c), as in KVM. */
	if (yakvm_hv_hypercall_enabled(vcpu))
		return yakvm_hv_hypercall(vcpu);
	if (!op64) {
		nr = (u32)nr;
		for (i = 0; i < ARRAY_SIZE(a); i++)
			a[i] = (u32)a[i];
	}
	if (vcpu->vmcb->save.cpl)
		ret = -KVM_EPERM;
	else if (nr == KVM_HC_VAPIC_POLL_IRQ)
		ret = 0;
	else if (nr == KVM_HC_SEND_IPI)
		/* Without the in-kernel APIC there is no APIC map: KVM's -EOPNOTSUPP. */
		ret = vcpu->apic ? yakvm_lapic_pv_send_ipi(vcpu, a[0], a[1], a[2], a[3], op64) :
				   -EOPNOTSUPP;
	if (!op64)
		ret = (u32)ret;
	vcpu->regs[YAKVM_RAX] = ret;
	return yakvm_skip_instruction(vcpu);
}

static int handle_rdtscp(struct yakvm_vcpu *vcpu)
{
	u64 tsc = yakvm_guest_tsc(vcpu);

	vcpu->regs[YAKVM_RAX] = (u32)tsc;
	vcpu->regs[YAKVM_RDX] = tsc >> 32;
	vcpu->regs[YAKVM_RCX] = (u32)vcpu->tsc_aux;
	return yakvm_skip_instruction(vcpu);
}

/* XSETBV (APM vol. 3): XCR0 is switched around VMRUN in run.c. */
static int handle_xsetbv(struct yakvm_vcpu *vcpu)
{
	u64 val = (u32)vcpu->regs[YAKVM_RAX] |
		  (u64)vcpu->regs[YAKVM_RDX] << 32;

	if ((u32)vcpu->regs[YAKVM_RCX] != 0 || vcpu->vmcb->save.cpl ||
	    !yakvm_xcr0_valid(vcpu, val)) {
		yakvm_inject_gp(vcpu);
		return 1;
	}
	vcpu->xcr0 = val;
	return yakvm_skip_instruction(vcpu);
}

/* Reflect an intercepted #AC into the guest (its error code is 0). */
static int handle_ac(struct yakvm_vcpu *vcpu)
{
	yakvm_queue_exception(vcpu, X86_TRAP_AC, true, 0);
	return 1;
}

/*
 * MOV to/from DRn (APM 13.1).  DR0-3 are not switched by VMRUN, so the guest
 * never reaches the real ones: they are kept in the vCPU and guest hardware
 * breakpoints are not supported (DR7's enables are stored, not loaded).
 */
static int handle_dr(struct yakvm_vcpu *vcpu)
{
	u32 code = vcpu->vmcb->control.exit_code;
	bool write = code >= SVM_EXIT_WRITE_DR0;
	int dr = code - (write ? SVM_EXIT_WRITE_DR0 : SVM_EXIT_READ_DR0);
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	struct yakvm_insn insn = {};
	unsigned long *reg;
	u64 val;

	if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) ||
	    yakvm_decode_mov_dr(vcpu, &insn))
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);
	if (s->cpl) {
		yakvm_inject_gp(vcpu);
		return 1;
	}
	if (dr == 4 || dr == 5) {
		if (s->cr4 & X86_CR4_DE) {
			yakvm_inject_ud(vcpu);
			return 1;
		}
		dr += 2;
	}
	reg = &vcpu->regs[insn.modrm_rm];
	if (dr < 4)
		dr = array_index_nospec(dr, ARRAY_SIZE(vcpu->dr));
	if (!write) {
		if (dr < 4)
			val = vcpu->dr[dr];
		else if (dr == 6)
			val = s->dr6;
		else
			val = vcpu->dr7;
		*reg = yakvm_64bit_code(vcpu) ? val : (u32)val;
	} else {
		val = yakvm_64bit_code(vcpu) ? *reg : (u32)*reg;
		if (dr < 4) {
			vcpu->dr[dr] = val;
		} else if (val >> 32) {
			yakvm_inject_gp(vcpu);
			return 1;
		} else if (dr == 6) {
			s->dr6 = (val & YAKVM_DR6_VOLATILE) | YAKVM_DR6_FIXED_1;
			yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_DR);
		} else {
			vcpu->dr7 = val | YAKVM_DR7_INIT;
		}
	}
	yakvm_set_rip(vcpu, s->rip + insn.len);
	return 1;
}

static int handle_task_switch(struct yakvm_vcpu *vcpu)
{
	/* Hardware task switches are not emulated; 64-bit guests never use them. */
	return yakvm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
}

static int handle_invalid(struct yakvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	/* VMRUN refused the guest state (APM 15.5.1 consistency checks). */
	run->fail_entry.hardware_entry_failure_reason =
		vcpu->vmcb->control.exit_code;
	run->fail_entry.cpu = vcpu->last_cpu;
	return yakvm_user_exit(vcpu, KVM_EXIT_FAIL_ENTRY);
}

typedef int (*exit_handler_t)(struct yakvm_vcpu *vcpu);

static const exit_handler_t exit_handlers[] = {
	[SVM_EXIT_WRITE_CR4]				= yakvm_handle_cr4_write,
	[SVM_EXIT_WRITE_CR8]				= handle_cr8_write,
	[SVM_EXIT_IRET]					= yakvm_handle_iret,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7]	= handle_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7]	= handle_dr,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_DB]		= yakvm_handle_db,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_BP]		= yakvm_handle_bp,
	[SVM_EXIT_SWINT]				= yakvm_handle_swint,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_UD]		= handle_ud,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_AC]		= handle_ac,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_MC]		= handle_nop,
	[SVM_EXIT_INTR]					= handle_nop,
	[SVM_EXIT_NMI]					= handle_nop,
	[SVM_EXIT_SMI]					= handle_nop,
	[SVM_EXIT_VINTR]				= yakvm_handle_vintr,
	[SVM_EXIT_CPUID]				= yakvm_handle_cpuid,
	[SVM_EXIT_RDPMC]				= handle_gp,
	[SVM_EXIT_INVD]					= handle_skip,
	[SVM_EXIT_HLT]					= handle_hlt,
	[SVM_EXIT_INVLPGA]				= handle_ud,
	[SVM_EXIT_IOIO]					= yakvm_handle_ioio,
	[SVM_EXIT_MSR]					= yakvm_handle_msr,
	[SVM_EXIT_TASK_SWITCH]				= handle_task_switch,
	[SVM_EXIT_SHUTDOWN]				= handle_shutdown,
	[SVM_EXIT_VMRUN]				= handle_ud,
	[SVM_EXIT_VMMCALL]				= handle_vmmcall,
	[SVM_EXIT_VMLOAD]				= handle_ud,
	[SVM_EXIT_VMSAVE]				= handle_ud,
	[SVM_EXIT_STGI]					= handle_ud,
	[SVM_EXIT_CLGI]					= handle_ud,
	[SVM_EXIT_SKINIT]				= handle_ud,
	[SVM_EXIT_RDTSCP]				= handle_rdtscp,
	[SVM_EXIT_WBINVD]				= handle_skip,
	[SVM_EXIT_MONITOR]				= handle_ud,
	[SVM_EXIT_MWAIT]				= handle_ud,
	[SVM_EXIT_XSETBV]				= handle_xsetbv,
	[SVM_EXIT_RDPRU]				= handle_ud,
};

static void count_exit(struct yakvm_vcpu *vcpu, u32 code)
{
	unsigned int bucket = code;

	if (code == SVM_EXIT_NPF)
		bucket = YAKVM_BUCKET_NPF;
	else if (code >= YAKVM_BUCKET_NPF)
		bucket = YAKVM_BUCKET_INVALID;
	bucket = array_index_nospec(bucket, YAKVM_EXIT_BUCKETS);
	vcpu->stats.exit_codes[bucket]++;
}

int yakvm_handle_exit(struct yakvm_vcpu *vcpu)
{
	u32 code = vcpu->vmcb->control.exit_code;
	struct kvm_run *run = vcpu->run;

	count_exit(vcpu, code);
	if (code == (u32)SVM_EXIT_ERR)
		return handle_invalid(vcpu);
	if (code == SVM_EXIT_NPF)
		return yakvm_handle_npf(vcpu);
	if (code < ARRAY_SIZE(exit_handlers)) {
		/* The exit code is the guest's doing: no speculation past the bound. */
		code = array_index_nospec(code, ARRAY_SIZE(exit_handlers));
		if (exit_handlers[code])
			return exit_handlers[code](vcpu);
	}

	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 2;
	run->internal.data[0] = code;
	run->internal.data[1] = vcpu->last_cpu;
	return yakvm_user_exit(vcpu, KVM_EXIT_INTERNAL_ERROR);
}
