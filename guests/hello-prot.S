/*
 * 32-bit protected-mode hello: a flat image run with --mode prot.  yakvm
 * loads it at 1 MiB and starts it with flat 4 GiB segments from its own GDT
 * and paging off.  Prints over the UART and the 0xe9 debug console, then halts.
 */
#include "platform.h"

#define UART_LSR	(COM1_PORT + 5)
#define LSR_THR_EMPTY	0x20

	.code32
	.text
	.globl _start
_start:
	movl	$uart_msg, %esi
	call	uart_puts
	movl	$debugcon_msg, %esi
	call	debugcon_puts
	/* Report CR0.PE/PG as the hardware sees them. */
	movl	%cr0, %eax
	movl	$mode_bad, %esi
	andl	$0x80000001, %eax
	cmpl	$1, %eax
	jne	1f
	movl	$mode_ok, %esi
1:	call	uart_puts
	hlt
	jmp	.

uart_puts:
	lodsb
	testb	%al, %al
	jz	2f
	movb	%al, %ah
	movw	$UART_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THR_EMPTY, %al
	jz	1b
	movb	%ah, %al
	movw	$COM1_PORT, %dx
	outb	%al, %dx
	jmp	uart_puts
2:	ret

debugcon_puts:
	lodsb
	testb	%al, %al
	jz	1f
	outb	%al, $DEBUGCON_PORT
	jmp	debugcon_puts
1:	ret

uart_msg:	.asciz "Hello from 32-bit protected mode!\n"
debugcon_msg:	.asciz "This line went through the 0xe9 debug console.\n"
mode_ok:	.asciz "CR0: PE=1 PG=0, as the VMM set it up.\n"
mode_bad:	.asciz "CR0: unexpected PE/PG bits!\n"
