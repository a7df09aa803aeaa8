/* 32-bit entry for the C guests (multiboot: EAX = magic, EBX = info):
 * own stack, then guest_main(info, magic) with the cdecl convention. */
	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	movl	$stack_top, %esp
	pushl	%eax
	pushl	%ebx
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.bss
	.p2align 4
	.space	16384
stack_top:
