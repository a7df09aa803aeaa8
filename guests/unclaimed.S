/*
 * Touches a port and an MMIO address no device claims, twice each, then
 * reports through the debug-exit port: 0x2a when both reads returned all
 * ones (what yakvm promises without --strict), 0x15 otherwise.  Run with
 * --mode prot.
 */
#include "platform.h"

#define NOBODY_PORT	0x1234
#define NOBODY_MMIO	0xfe000000

	.code32
	.text
	.globl _start
_start:
	movw	$NOBODY_PORT, %dx
	inb	%dx, %al
	movb	%al, %cl
	outb	%al, %dx
	inb	%dx, %al
	outb	%al, %dx
	movl	NOBODY_MMIO, %ebx
	movl	%ebx, NOBODY_MMIO
	movl	NOBODY_MMIO, %ebx
	movl	%ebx, NOBODY_MMIO
	movl	$0x15, %eax
	cmpb	$0xff, %cl
	jne	1f
	cmpl	$0xffffffff, %ebx
	jne	1f
	movl	$0x2a, %eax
1:	outl	%eax, $DEBUG_EXIT_PORT
	hlt
