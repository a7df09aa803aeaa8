/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of the 64-bit guest IDT (vectors 0-255).  Each one makes the
 * frame uniform -- a dummy error code where the CPU pushes none, then the
 * vector -- and joins guest_exception_common, which saves the general
 * registers as a struct ex_regs (guest.h) and calls guest_exception_dispatch.
 * guest_idt_entries[] holds their addresses for the host to put in the IDT.
 */
	.text
	.code64

/* The CPU pushes an error code itself for vectors 8, 10-14, 17, 21, 29, 30. */
	.macro entry vector
	.align 16
guest_idt_entry_\vector:
	.if !((\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || \
	      (\vector == 21) || (\vector == 29) || (\vector == 30))
	pushq	$0
	.endif
	pushq	$\vector
	jmp	guest_exception_common
	.endm

	.altmacro
	.set	vec, 0
	.rept	256
	entry	%vec
	.set	vec, vec + 1
	.endr

guest_exception_common:
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
	call	guest_exception_dispatch
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
	add	$16, %rsp		/* vector and error code */
	iretq

	.section .rodata
	.align 8
	.globl	guest_idt_entries
guest_idt_entries:
	.macro entry_address vector
	.quad	guest_idt_entry_\vector
	.endm
	.set	vec, 0
	.rept	256
	entry_address %vec
	.set	vec, vec + 1
	.endr

	.section .note.GNU-stack, "", @progbits
