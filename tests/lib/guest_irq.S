/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of the external-interrupt vectors 32-255 (apic.h).  Each
 * pushes a dummy error code and its vector, like guest_idt.S does for the
 * exceptions, so the handler gets the same struct ex_regs; the common part
 * calls guest_irq_dispatch().  guest_irq_entries[] holds their addresses for
 * irq_install() to put in the IDT.
 */
	.text
	.code64

	.macro irq_entry vector
	.align 16
guest_irq_entry_\vector:
	pushq	$0
	pushq	$\vector
	jmp	guest_irq_common
	.endm

	.altmacro
	.set	vec, 32
	.rept	224
	irq_entry %vec
	.set	vec, vec + 1
	.endr

guest_irq_common:
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%r11
	push	%r10
	push	%r9
	push	%r8
	push	%rdi
	push	%rsi
	push	%rbp
	push	%rbx
	push	%rdx
	push	%rcx
	push	%rax
	mov	%rsp, %rdi
	call	guest_irq_dispatch
	pop	%rax
	pop	%rcx
	pop	%rdx
	pop	%rbx
	pop	%rbp
	pop	%rsi
	pop	%rdi
	pop	%r8
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	add	$16, %rsp		/* vector and dummy error code */
	iretq

	.section .rodata
	.align 8
	.globl	guest_irq_entries
guest_irq_entries:
	.macro irq_entry_address vector
	.quad	guest_irq_entry_\vector
	.endm
	.set	vec, 32
	.rept	224
	irq_entry_address %vec
	.set	vec, vec + 1
	.endr

	.section .note.GNU-stack, "", @progbits
