/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A two-sector disk image that SeaBIOS boots (tests/qemu/seabios.test).
 * The first sector is the boot sector the BIOS loads at 0000:7c00; it uses
 * BIOS services the way an old boot loader does -- INT 12h and INT 15h/E801h
 * for the memory size, INT 13h to read the second sector from the disk,
 * CPUID -- prints what it found on COM1 (polled 16550, port 0x3f8) and on
 * QEMU's debug console (port 0xe9), and leaves through isa-debug-exit (port
 * 0xf4) with 0x31, so QEMU exits with status (0x31 << 1) | 1 = 99.
 *
 * Expected console text with -m 64 (the test compares it line by line):
 *   yakvm-boot: hello from the boot sector
 *   int12 base KiB 027f
 *   e801 ax 3c00 bx 02fe      (pc; 02fd on q35, whose ACPI tables are larger)
 *   cpuid vendor <12 characters>
 *   sector2 yakvm-sector-2-ok
 *   yakvm-boot: done
 */
	.code16
	.text
	.globl	_start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	ljmp	$0, $1f			/* CS:IP = 0000:7cxx whatever the BIOS used */
1:	sti
	movb	%dl, boot_drive

	movw	$msg_hello, %si
	call	puts

	/* INT 12h: conventional memory in KiB (AX). */
	movw	$msg_int12, %si
	call	puts
	int	$0x12
	call	puthex16
	call	newline

	/* INT 15h AX=E801h: KiB between 1 and 16 MiB (AX), 64 KiB blocks above (BX). */
	movw	$msg_e801, %si
	call	puts
	movw	$0xe801, %ax
	xorw	%bx, %bx
	int	$0x15
	jc	fail
	pushw	%bx
	call	puthex16
	movw	$msg_bx, %si
	call	puts
	popw	%ax
	call	puthex16
	call	newline

	/* CPUID leaf 0: the vendor string in EBX, EDX, ECX. */
	movw	$msg_vendor, %si
	call	puts
	xorl	%eax, %eax
	cpuid
	movl	%ebx, vendor
	movl	%edx, vendor + 4
	movl	%ecx, vendor + 8
	movw	$vendor, %si
	call	puts
	call	newline

	/* INT 13h AH=02h: read CHS 0/0/2 (the second sector) to 0000:8000. */
	movw	$0x0201, %ax
	movw	$0x0002, %cx
	xorb	%dh, %dh
	movb	boot_drive, %dl
	movw	$0x8000, %bx
	int	$0x13
	jc	fail
	movw	$msg_sector2, %si
	call	puts
	movw	$0x8000, %si
	call	puts
	call	newline

	movw	$msg_done, %si
	call	puts
	movb	$0x31, %al
	outb	%al, $0xf4
	/* Without isa-debug-exit: halt for good. */
2:	cli
	hlt
	jmp	2b

fail:
	movw	$msg_fail, %si
	call	puts
	movb	$0x7f, %al
	outb	%al, $0xf4
	jmp	2b

/* putc: AL to COM1 (waiting for the transmitter) and to port 0xe9. */
putc:
	pushw	%dx
	pushw	%ax
	movw	$0x3fd, %dx
3:	inb	%dx, %al
	testb	$0x20, %al
	jz	3b
	popw	%ax
	movw	$0x3f8, %dx
	outb	%al, %dx
	outb	%al, $0xe9
	popw	%dx
	ret

/* puts: the NUL-terminated string at DS:SI. */
puts:
	pushw	%ax
4:	lodsb
	testb	%al, %al
	jz	5f
	call	putc
	jmp	4b
5:	popw	%ax
	ret

newline:
	pushw	%ax
	movb	$'\n', %al
	call	putc
	popw	%ax
	ret

/* puthex16: AX as four lower-case hex digits. */
puthex16:
	pushw	%cx
	pushw	%bx
	movw	%ax, %bx
	movw	$4, %cx
6:	rolw	$4, %bx
	movb	%bl, %al
	andb	$0x0f, %al
	addb	$'0', %al
	cmpb	$'9', %al
	jbe	7f
	addb	$('a' - '9' - 1), %al
7:	call	putc
	loop	6b
	popw	%bx
	popw	%cx
	ret

msg_hello:	.asciz	"yakvm-boot: hello from the boot sector\n"
msg_int12:	.asciz	"int12 base KiB "
msg_e801:	.asciz	"e801 ax "
msg_bx:		.asciz	" bx "
msg_vendor:	.asciz	"cpuid vendor "
msg_sector2:	.asciz	"sector2 "
msg_done:	.asciz	"yakvm-boot: done\n"
msg_fail:	.asciz	"yakvm-boot: a BIOS call failed\n"
boot_drive:	.byte	0
vendor:		.fill	13, 1, 0

	.org	510
	.byte	0x55, 0xaa

/* The second sector: read back through INT 13h. */
	.asciz	"yakvm-sector-2-ok"
	.org	1024
