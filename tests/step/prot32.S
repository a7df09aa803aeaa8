/*
 * 32-bit protected-mode program for the single-step judges (see real16.S
 * for the rules that keep its trace comparable with an emulator).  The
 * host sets flat 4 GiB segments through KVM_SET_SREGS, paging off; the
 * image is linked and loaded at STEP_LOAD.  The program never loads a
 * segment register: it has no GDT of its own.
 */
	.code32
	.text

FLAGS_MASK = 0x0cd5		/* OF DF SF ZF AF PF CF */
DATA       = 0x60000		/* scratch data, below the stack */
CRC_POLY   = 0x07		/* CRC-8, x^8 + x^2 + x + 1 */

	.globl	start
start:
	/* ---- arithmetic and logic with flags ---- */
	mov	$0x7fffffff, %eax
	add	$1, %eax		/* OF SF AF */
	adc	%eax, %ebx
	sub	$0x12345678, %ecx
	sbb	%edx, %edx
	inc	%edx			/* ZF */
	dec	%esi
	neg	%edi
	not	%ebp
	cmp	%ebx, %eax
	test	%ecx, %ecx
	and	$0x0f0f0f0f, %ebx
	or	$0x80, %bl
	xor	%eax, %ebx
	add	%bl, %ah		/* 8-bit forms */
	adc	$0x80, %al
	sub	%ch, %cl
	sbb	$1, %dh
	neg	%al
	cmp	$0x7f, %cl
	incb	%bh
	decb	%dl
	addw	$0x8000, %si		/* operand-size prefix */
	adcw	%di, %si
	subw	$1, %bp
	xorw	%dx, %dx
	negw	%cx
	cmpw	$0x1234, %cx
	testb	$0x81, %al

	/* ---- rotates and shifts by 1 ---- */
	mov	$0x80000001, %eax
	rol	%eax
	ror	%eax
	ror	%eax
	rcl	%eax
	rcr	%ax
	stc
	rcl	%al
	clc
	rcr	%bl
	shl	%ebx			/* AF undefined: judge rule */
	shr	%ecx
	sar	%edx
	salb	%al
	cmc

	/* ---- memory, addressing modes, moves ---- */
	mov	$DATA, %ebx
	movl	$0x89abcdef, (%ebx)
	movl	$0x01234567, 4(%ebx)
	mov	$1, %esi
	mov	(%ebx,%esi,4), %eax
	addl	$0x100, (%ebx)
	incl	4(%ebx)
	decw	6(%ebx)
	negl	(%ebx)
	notb	1(%ebx)
	xchg	%eax, 8(%ebx)
	xchg	%ecx, %edx
	adcl	%eax, (%ebx,%esi,4)
	sbbb	$5, 3(%ebx)
	cmpl	$0, 8(%ebx)
	movzbl	(%ebx), %ecx
	movsbl	3(%ebx), %edx
	movzwl	2(%ebx), %edi
	movswl	6(%ebx), %ebp
	lea	0x10(%ebx,%esi,8), %edi
	lea	-4(%ebp,%ecx), %esi
	lea	(,%edx,2), %eax
	lea	0x1234, %ebp
	mov	$0x80, %al
	cbtw
	cwtl
	cltd
	cwtd
	bswap	%eax
	lahf
	mov	$0xd4, %ah
	sahf
	setae	%cl
	setg	%ch
	cmovs	%edx, %ecx
	cmovz	%esi, %edi
	xadd	%ecx, %edx
	movl	%edi, DATA+0x30
	lea	1(%edi), %eax
	lock cmpxchg %ebx, DATA+0x30	/* EAX != memory: EAX <- memory */
	lock cmpxchg %ebx, DATA+0x30	/* now equal: memory <- EBX */
	mov	DATA+0x30, %edi
	mov	$0x10, %ecx
	movb	$0x5a, DATA+0x13
	mov	$DATA, %ebx
	mov	$0x13, %al
	xlat
	mov	$0x12345, %eax
	mov	$0x777, %ecx
	imul	%ecx, %eax		/* SF ZF AF PF undefined: judge rule */
	mov	$3, %edx
	imul	$-5, %edx, %esi
	mov	$0x9, %eax
	mov	$0x11111111, %ecx
	mul	%ecx

	/* ---- string ops, DF=0 ---- */
	cld
	mov	$message, %esi
	mov	$DATA+0x100, %edi
	mov	$message_len / 4, %ecx
	rep movsl
	movsw
	movsb
	mov	$DATA+0x200, %edi
	mov	$0x01020304, %eax
	mov	$6, %ecx
	rep stosl
	stosw
	stosb
	mov	$DATA+0x200, %esi
	xor	%edx, %edx
	mov	$5, %ecx
sum_dwords:
	lodsl
	add	%eax, %edx
	loop	sum_dwords
	lodsb
	mov	$message, %esi
	mov	$DATA+0x100, %edi
	mov	$message_len, %ecx
	repe cmpsb
	mov	$DATA+0x100, %edi
	mov	$0x21, %al		/* '!' */
	mov	$message_len, %ecx
	repne scasb
	xor	%ecx, %ecx
	rep movsb			/* zero count: no iteration */

	/* ---- string ops backwards, DF=1 ---- */
	std
	mov	$message + message_len - 1, %esi
	mov	$DATA+0x17f, %edi
	mov	$message_len, %ecx
	rep movsb
	mov	$DATA+0x17c, %edi
	mov	$0x6b6f2070, %eax	/* "p ok" */
	mov	$6, %ecx
	repne scasl
	mov	$DATA+0x17e, %esi
	lodsw
	lodsl
	mov	$DATA+0x120, %esi
	mov	$DATA+0x17f, %edi
	mov	$4, %ecx
	repe cmpsb
	stosl
	cld

	/* ---- calls, returns, jumps ---- */
	mov	$5, %ecx
	call	add_ecx_to_ebx
	mov	$add_ecx_to_ebx, %eax
	call	*%eax
	mov	%eax, DATA+0x40
	call	*DATA+0x40
	push	$0x55
	push	$0x66
	call	sum_args_ret
	mov	$6, %ecx
	call	factorial_ecx		/* recursion through the stack */
	mov	$2, %esi
	jmp	*jump_table(,%esi,4)
jt_zero:
	inc	%edx
jt_one:
	inc	%edx
jt_two:
	inc	%edx
	mov	$7, %ecx
	xor	%eax, %eax
count_odd:
	test	$1, %cl
	jz	1f
	inc	%eax
1:	loop	count_odd
	mov	$DATA+0x100, %edi
	mov	$30, %ecx
find_zero:
	cmpb	$0, (%edi)
	lea	1(%edi), %edi
	loopnz	find_zero
	jecxz	1f
	add	%ecx, %ebp
1:	mov	$-7, %eax
	cmp	$3, %eax
	jg	1f			/* signed: not taken */
	jb	1f			/* unsigned: not taken */
	ja	2f
1:	hlt				/* not reached */
2:	js	1f
	nop
1:	jno	1f
	hlt
1:	jpe	1f
	jpo	1f
	hlt
1:	jl	1f
	hlt
1:	jmp	stack_tests

add_ecx_to_ebx:
	add	%ecx, %ebx
	ret

/* returns the sum of its two stack arguments in EAX and pops them */
sum_args_ret:
	push	%ebp
	mov	%esp, %ebp
	mov	8(%ebp), %eax
	add	12(%ebp), %eax
	leave
	ret	$8

/* EAX <- ECX!, recursively */
factorial_ecx:
	cmp	$1, %ecx
	ja	1f
	mov	$1, %eax
	ret
1:	push	%ecx
	dec	%ecx
	call	factorial_ecx
	pop	%ecx
	imul	%ecx, %eax		/* judge rule */
	ret

	/* ---- the stack ---- */
stack_tests:
	pushl	$0x13572468
	pushw	$0x1234
	pop	%ax
	pop	%ecx
	pushl	DATA
	popl	DATA+0x20
	pusha
	xor	%eax, %eax
	mov	%eax, %ebx
	popa
	enter	$8, $0
	movl	$0x99, -4(%ebp)
	incl	-4(%ebp)
	mov	-4(%ebp), %ecx
	leave
	enter	$4, $1			/* nesting level 1 copies the frame pointer */
	mov	-4(%ebp), %edx
	leave
	stc
	std
	pushf
	pop	%eax
	and	$FLAGS_MASK, %eax
	pushf
	clc
	cld
	popf				/* CF and DF back on */
	pushf
	orl	$0x0840, (%esp)		/* ZF and OF on in the image */
	popf
	cld
	pushfw
	pop	%dx
	and	$FLAGS_MASK, %dx

	/* ---- CRC-8 of the message: a loop of shifts and conditional XOR ---- */
	mov	$message, %esi
	mov	$8, %ecx
	xor	%eax, %eax
crc_byte:
	xorb	(%esi), %al
	inc	%esi
	mov	$8, %dl
crc_bit:
	shl	%al			/* judge rule: AF */
	jnc	1f
	xor	$CRC_POLY, %al
1:	dec	%dl
	jnz	crc_bit
	loop	crc_byte
	hlt
	hlt				/* where step.c's debugger detaches to */

	.balign	4
jump_table:
	.long	jt_zero, jt_one, jt_two
message:
	.ascii	"yakvm: protected, step ok!!!"
message_end:
message_len = message_end - message
