/*
 * Entry of the C guests, built for both widths: switch to the guest's own
 * stack and call guest_main(info, magic).
 *  64-bit (ELF64, flat long mode): yakvm passes RDI = info and RSI = magic,
 *    already the SysV arguments; flat images get zeros.
 *  32-bit (multiboot, spec 3.2): EAX = magic, EBX = info, pushed for cdecl.
 */
	.section .text.start, "ax"
	.globl _start
_start:
#ifdef __x86_64__
	movq	$stack_top, %rsp
#else
	movl	$stack_top, %esp
	pushl	%eax
	pushl	%ebx
#endif
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.bss
	.p2align 4
	.space	16384
stack_top:
