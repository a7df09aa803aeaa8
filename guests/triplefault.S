/*
 * Triple fault in real mode: with an IDT limit of 0, INT3 cannot be
 * delivered (#GP), neither can the #GP, nor the #DF, so the CPU shuts down
 * (AMD APM vol. 2, 8.2.9 "Double-Fault Exception"); under SVM that is a
 * shutdown intercept, KVM_EXIT_SHUTDOWN for yakvm.
 */
	.code16
	.text
	.globl _start
_start:
	lidt	empty_idt
	int3
	jmp	.
empty_idt:
	.word	0
	.long	0
