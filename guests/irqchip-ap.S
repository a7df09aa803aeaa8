/*
 * The APs' first instructions for irqchip.c: copied to 0x8000 and started
 * there by SIPI vector 0x08, in real mode with CS = 0x0800, IP = 0.  Each AP
 * counts itself, marks its CPUID APIC ID as seen, and halts with interrupts
 * off for good.  Data is addressed relative to CS, so the copy works anywhere.
 */
	.section .rodata
	.code16
	.globl ap_trampoline, ap_trampoline_end, ap_count, ap_seen
ap_trampoline:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	movl	$1, %eax
	cpuid
	shrl	$24, %ebx
	andw	$15, %bx
	movb	$1, ap_seen - ap_trampoline(%bx)
	lock incb ap_count - ap_trampoline
1:	hlt
	jmp	1b
ap_count:
	.byte	0
ap_seen:
	.fill	16, 1, 0
ap_trampoline_end:
	.code64
