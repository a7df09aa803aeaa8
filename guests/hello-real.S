/*
 * Real-mode hello: the classic first guest.  Loaded by `yakvm run` at
 * 0x1000 and started at 0000:1000 (flat image, --mode real is the default).
 * Prints over the UART, checks a UART register read-back (PIO), reads the
 * MMIO test device at 0xfeb00000 (MMIO), waits for a key, echoes it, halts.
 *
 * The MMIO device lies above what 16-bit segments reach, so the guest first
 * enters "unreal mode": it loads DS with a 4 GiB-limit descriptor in
 * protected mode and returns to real mode, where a segment load changes the
 * base but keeps the limit in the segment register's hidden part (AMD APM
 * vol. 2, chapter 4 "Segmented Virtual Memory"), so 32-bit offsets work.
 */
#include "platform.h"

#define UART_LSR	(COM1_PORT + 5)
#define UART_SCR	(COM1_PORT + 7)
#define LSR_DATA_READY	0x01
#define LSR_THR_EMPTY	0x20

	.code16
	.text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	$hello, %si
	call	puts

	/* PIO: the UART's scratch register reads back what was written. */
	movw	$UART_SCR, %dx
	movb	$0x5a, %al
	outb	%al, %dx
	xorb	%al, %al
	inb	%dx, %al
	movw	$scr_bad, %si
	cmpb	$0x5a, %al
	jne	1f
	movw	$scr_ok, %si
1:	call	puts

	/* MMIO: the test device's ID, then a scratch register round trip. */
	call	enter_unreal_mode
	movl	$MMIOTEST_BASE, %ebx
	movw	$mmio_bad, %si
	movl	MMIOTEST_ID(%ebx), %eax
	cmpl	$MMIOTEST_ID_VALUE, %eax
	jne	2f
	movl	$0x12345678, MMIOTEST_SCRATCH(%ebx)
	movl	MMIOTEST_SCRATCH(%ebx), %eax
	cmpl	$0x12345678, %eax
	jne	2f
	movw	$mmio_ok, %si
2:	call	puts

	/* Keyboard: poll LSR.DR, then read RBR. */
	movw	$prompt, %si
	call	puts
	movw	$UART_LSR, %dx
3:	inb	%dx, %al
	testb	$LSR_DATA_READY, %al
	jz	3b
	movw	$COM1_PORT, %dx
	inb	%dx, %al
	movb	%al, key
	movw	$pressed, %si
	call	puts
	movb	key, %al
	call	putc
	movw	$bye, %si
	call	puts
	hlt
	jmp	.

/* putc: AL to the UART once the transmitter holds nothing. */
putc:
	pushw	%dx
	pushw	%ax
	movw	$UART_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THR_EMPTY, %al
	jz	1b
	popw	%ax
	movw	$COM1_PORT, %dx
	outb	%al, %dx
	popw	%dx
	ret

/* puts: the NUL-terminated string at DS:SI. */
puts:
	lodsb
	testb	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

enter_unreal_mode:
	pushw	%ds
	lgdtl	gdt_descriptor
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	movw	$8, %bx
	movw	%bx, %ds
	andb	$0xfe, %al
	movl	%eax, %cr0
	popw	%ds
	ret

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf92000000ffff	/* data, base 0, limit 4 GiB */
gdt_descriptor:
	.word	gdt_descriptor - gdt - 1
	.long	gdt

hello:		.asciz "Hello from real mode!\n"
scr_ok:		.asciz "PIO: UART scratch register read-back ok\n"
scr_bad:	.asciz "PIO: UART scratch register read-back FAILED\n"
mmio_ok:	.asciz "MMIO: test device id YMIO, scratch read-back ok\n"
mmio_bad:	.asciz "MMIO: test device FAILED\n"
prompt:		.asciz "Press a key: "
pressed:	.asciz "\nYou pressed '"
bye:		.asciz "'. Bye.\n"
key:		.byte 0
