/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world switch (APM 15.5 "VMRUN", 15.5.2 "VMSAVE and VMLOAD").
 *
 * Called with GIF=0 (CLGI in run.c) and RFLAGS.IF=1: run.c sets IF before
 * the call, so no STI shadow is live at VMRUN (see run.c).  Everything between
 * the guest's VMLOAD and the host's VMLOAD runs here, in assembly, because in
 * that window the CPU holds the guest's GS base: no C code, no tracing and
 * no per-CPU access may run until the host's state is back.
 */
#include <linux/linkage.h>
#include <asm/alternative.h>
#include <asm/asm.h>
#include <asm/cpufeatures.h>
#include <asm/kvm_vcpu_regs.h>
#include <asm/nospec-branch.h>

#define REG(n)		((n) * 8)

#define SAVED_REGS	0	/* (%rsp): unsigned long regs[16] */
#define SAVED_VMCB	8	/* guest VMCB physical address */
#define SAVED_HOST	16	/* host VMSAVE area physical address */

	.section .text, "ax"

/*
 * void __yakvm_vmrun(unsigned long *regs, phys_addr_t vmcb_pa,
 *		      phys_addr_t host_vmsave_pa)
 *
 * VMRUN switches RAX, RSP, RIP, RFLAGS, control registers and CS/DS/ES/SS;
 * the other general registers are switched here through regs[], and
 * FS/GS/TR/LDTR/KernelGSBase/STAR/LSTAR/CSTAR/SFMASK/SYSENTER_* by VMSAVE
 * and VMLOAD.
 */
SYM_FUNC_START(__yakvm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdx
	push	%rsi
	push	%rdi

	mov	%rdx, %rax
	vmsave	%rax
	mov	%rsi, %rax
	vmload	%rax

	mov	%rdi, %rax
	mov	REG(__VCPU_REGS_RCX)(%rax), %rcx
	mov	REG(__VCPU_REGS_RDX)(%rax), %rdx
	mov	REG(__VCPU_REGS_RBX)(%rax), %rbx
	mov	REG(__VCPU_REGS_RBP)(%rax), %rbp
	mov	REG(__VCPU_REGS_RSI)(%rax), %rsi
	mov	REG(__VCPU_REGS_R8)(%rax), %r8
	mov	REG(__VCPU_REGS_R9)(%rax), %r9
	mov	REG(__VCPU_REGS_R10)(%rax), %r10
	mov	REG(__VCPU_REGS_R11)(%rax), %r11
	mov	REG(__VCPU_REGS_R12)(%rax), %r12
	mov	REG(__VCPU_REGS_R13)(%rax), %r13
	mov	REG(__VCPU_REGS_R14)(%rax), %r14
	mov	REG(__VCPU_REGS_R15)(%rax), %r15
	mov	REG(__VCPU_REGS_RDI)(%rax), %rdi

	/* Flush CPU buffers where the host asks for it (MDS/TSA). */
	VM_CLEAR_CPU_BUFFERS

	mov	SAVED_VMCB(%rsp), %rax
	vmrun	%rax

	mov	SAVED_REGS(%rsp), %rax
	mov	%rcx, REG(__VCPU_REGS_RCX)(%rax)
	mov	%rdx, REG(__VCPU_REGS_RDX)(%rax)
	mov	%rbx, REG(__VCPU_REGS_RBX)(%rax)
	mov	%rbp, REG(__VCPU_REGS_RBP)(%rax)
	mov	%rsi, REG(__VCPU_REGS_RSI)(%rax)
	mov	%rdi, REG(__VCPU_REGS_RDI)(%rax)
	mov	%r8,  REG(__VCPU_REGS_R8)(%rax)
	mov	%r9,  REG(__VCPU_REGS_R9)(%rax)
	mov	%r10, REG(__VCPU_REGS_R10)(%rax)
	mov	%r11, REG(__VCPU_REGS_R11)(%rax)
	mov	%r12, REG(__VCPU_REGS_R12)(%rax)
	mov	%r13, REG(__VCPU_REGS_R13)(%rax)
	mov	%r14, REG(__VCPU_REGS_R14)(%rax)
	mov	%r15, REG(__VCPU_REGS_R15)(%rax)

	/*
	 * Leave no guest value in any register, the callee-saved ones
	 * included: they are reloaded from the stack below, but a load that
	 * misses could let speculation run on the guest's values first.
	 * RSP and RAX were restored by #VMEXIT.
	 */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	mov	SAVED_VMCB(%rsp), %rax
	vmsave	%rax
	mov	SAVED_HOST(%rsp), %rax
	vmload	%rax

	/*
	 * The guest may have trained the return stack and branch predictors:
	 * before the first RET, refill the RSB, untrain returns (Retbleed,
	 * SRSO) and, in SRSO's ibpb-vmexit mode, flush the predictors with an
	 * IBPB -- that mode turns the RSB fill off because the IBPB covers
	 * it, so it must happen here and not later in C (as KVM does).
	 * entry_ibpb clobbers RAX, RCX and RDX, which hold nothing now.
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx

	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__yakvm_vmrun)

/*
 * bool __yakvm_clgi(void): CLGI, or false when it faults because SVM was
 * turned off under us (reboot notifier): then no guest may run here.
 */
SYM_FUNC_START(__yakvm_clgi)
1:	clgi
	mov	$1, %eax
	RET
2:	xor	%eax, %eax
	RET
	_ASM_EXTABLE(1b, 2b)
SYM_FUNC_END(__yakvm_clgi)
