/* 64-bit entry for the C guests: own stack, then guest_main(RDI, RSI) as the
 * ELF loader passes them (info, magic); flat long-mode images get zeros. */
	.section .text.start, "ax"
	.code64
	.globl _start
_start:
	movq	$stack_top, %rsp
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.bss
	.p2align 4
	.space	16384
stack_top:
