/*
 * Real-mode program for the single-step judges (tests/step/step.c steps it
 * on /dev/yakvm and /dev/kvm, scripts/unicorn-compare.py replays it in
 * unicorn).  Linked at offset 0 and loaded at CS:0; the initial registers
 * and segments are set by step.c.  Nothing exits to user space but the
 * final HLT: no I/O, no interrupts, no exceptions.
 *
 * Rules that keep the trace comparable with an emulator:
 * - The debugger's TF is set while stepping and shows in the flags images
 *   PUSHF writes (the judge models that).  POPF only pops images made by
 *   PUSHF: popping TF = 0 would end the single-stepping.
 * - No instruction whose flags the architecture leaves undefined unless
 *   the judge's rule table (undefined_flags in unicorn-compare.py) knows
 *   it: AND/OR/XOR/TEST and shifts by 1 (AF), MUL/IMUL (SF, ZF, AF, PF).
 * - MOV SS and POP SS are each followed by the SP load that the interrupt
 *   shadow exists for; the shadow also swallows that instruction's step.
 */
	.code16
	.text

FLAGS_MASK = 0x0cd5		/* OF DF SF ZF AF PF CF */
DATA_SEG   = 0x2000		/* step.c's initial DS; scratch data */
ALT_STACK  = 0x4800		/* a second stack segment */
STEP_CS    = STEP_LOAD >> 4	/* where step.c loads this image */

	.globl	start
start:
	/* ---- arithmetic and logic with flags, 8/16/32-bit ---- */
	mov	$0x7fff, %ax
	add	$1, %ax			/* OF SF AF */
	adc	$0x10, %ax
	mov	%ax, %bx
	sub	$0x8011, %bx		/* ZF */
	sbb	%cx, %cx
	inc	%cx
	dec	%dx
	neg	%dx
	not	%si
	cmp	%ax, %bx
	mov	$0xff, %al
	add	$1, %al			/* CF ZF AF, 8-bit */
	adc	%ah, %al
	sub	%bl, %bh
	sbb	$0x7f, %bl
	neg	%bl
	cmp	$0x80, %bl
	test	$0x8000, %bx
	and	$0x0ff0, %ax
	or	%cx, %ax
	xor	%dx, %dx
	xor	$0x5a5a, %di
	inc	%bh
	dec	%ch
	addl	$0x7fffffff, %eax	/* operand-size prefix */
	adcl	%ebx, %eax
	subl	$0x10000, %ebp
	sbbl	%esi, %edx
	andl	$0xffff00ff, %edi
	orl	$0x80000000, %ecx
	xorl	%ecx, %ecx
	negl	%edx
	incl	%esi
	decl	%ebp
	cmpl	%edx, %esi
	testl	%ebp, %ebp

	/* ---- rotates and shifts by 1 ---- */
	mov	$0x8421, %ax
	rol	%ax
	ror	%al
	rcl	%ah
	stc
	rcr	%ax
	clc
	rcl	%bl
	rorl	%eax
	shl	%ax			/* AF undefined: judge rule */
	shr	%bx
	sar	%dx
	sarb	%ah
	cmc

	/* ---- memory operands in the data segment ---- */
	mov	$DATA_SEG, %ax
	mov	%ax, %ds		/* segment load */
	movw	$0x1234, 0x10
	addw	$0x0fff, 0x10
	incw	0x10
	decb	0x11
	negw	0x10
	notw	0x10
	mov	0x10, %cx
	xchg	%cx, 0x12
	xchg	%ax, %bp
	adcw	%cx, 0x12
	sbbb	$3, 0x13
	cmpw	$0, 0x12
	movl	$0xdeadbeef, 0x14
	movzbw	0x14, %ax
	movsbw	0x15, %bx
	movzwl	0x16, %ecx
	movswl	0x14, %edx
	lea	0x10(%bx,%si), %di
	lea	-4(%bp,%di), %si
	lea	0x1234, %bp

	/* ---- sign extension, byte tricks, flags to AH ---- */
	mov	$0x80, %al
	cbw
	cwd
	cwtl
	cltd
	mov	$0x7f, %al
	cbw
	cwd
	bswap	%ecx
	lahf
	mov	$0xd5, %ah
	sahf
	setc	%bl
	setnz	%bh
	cmovc	%cx, %dx
	cmovnz	%si, %di
	mov	$0x100, %bx
	movw	$0x0302, 0x100
	movw	$0x0504, 0x102
	mov	$3, %al
	xlat
	xadd	%ax, %cx
	mov	%di, %ax
	inc	%ax
	cmpxchg	%dx, %di		/* AX != DI: AX <- DI */
	cmpxchg	%dx, %di		/* now equal: DI <- DX */
	mov	$0x0123, %ax
	mov	$0x0f0f, %bx
	imul	%bx, %ax		/* SF ZF AF PF undefined: judge rule */
	mov	$7, %cl
	mov	$0x42, %al
	mul	%cl			/* same rule */

	/* ---- string ops: copy the message, DF=0 ---- */
	push	%cs
	pop	%ds			/* DS = CS: the message below */
	mov	$DATA_SEG, %ax
	mov	%ax, %es
	cld
	mov	$message, %si
	mov	$0x200, %di
	mov	$message_len, %cx
	rep movsb
	movsw
	movsb
	/* fill, then read back with LODS */
	mov	$0x300, %di
	mov	$0xa55a, %ax
	mov	$5, %cx
	rep stosw
	stosb
	push	%es
	pop	%ds
	mov	$0x300, %si
	xor	%dx, %dx
	mov	$4, %cx
sum_words:
	lodsw
	add	%ax, %dx
	loop	sum_words
	/* compare the copy with the original: equal up to the end */
	push	%cs
	pop	%ds
	mov	$message, %si
	mov	$0x200, %di
	mov	$message_len, %cx
	repe cmpsb
	/* find the blank in the copy */
	mov	$0x200, %di
	mov	$0x20, %al		/* the first blank */
	mov	$message_len, %cx
	repne scasb
	/* a REP with a zero count runs no iteration */
	xor	%cx, %cx
	rep stosb

	/* ---- string ops backwards, DF=1 ---- */
	std
	mov	$message + message_len - 2, %si
	mov	$0x27e, %di
	mov	$8, %cx
	rep movsw
	mov	$0x27e, %di
	mov	$0x2070, %ax		/* "p ", the third word back */
	mov	$8, %cx
	repne scasw
	push	%es
	pop	%ds
	mov	$0x304, %si
	lodsb
	lodsw
	mov	$0x20a, %si
	mov	$0x27a, %di
	mov	$3, %cx
	repe cmpsb
	stosw
	cld

	/* ---- calls, returns, jumps ---- */
	mov	$3, %cx
	call	add_cx_to_bx
	call	add_cx_to_bx
	mov	$add_cx_to_bx, %ax
	call	*%ax
	mov	%ax, 0x40
	call	*0x40
	push	$0x55
	call	pop_arg_ret
	mov	$5, %bx
	call	fibonacci_bx		/* recursion through the stack */
	mov	$2, %si
	add	%si, %si
	jmp	*%cs:jump_table(%si)
jt_zero:
	inc	%dx
jt_one:
	inc	%dx
jt_two:
	inc	%dx
	mov	$6, %cx
	xor	%ax, %ax
count_odd:
	test	$1, %cl
	jz	1f
	inc	%ax
1:	loop	count_odd
	mov	$9, %cx
	mov	$0x210, %di
scan_nonzero:
	cmpb	$0, (%di)
	inc	%di
	loopnz	scan_nonzero
	jcxz	1f
	add	%cx, %bp
1:	mov	$-3, %ax
	cmp	$2, %ax
	jl	1f			/* signed: taken */
	inc	%bp
1:	jb	1f			/* unsigned: not taken */
	ja	2f
1:	dec	%bp
2:	js	1f
	nop
1:	jo	1f
	jno	2f
1:	hlt				/* not reached */
2:	jp	1f
	jnp	1f
1:	jge	1f
	jle	2f
1:	hlt
2:	jmp	far_tests

add_cx_to_bx:
	add	%cx, %bx
	ret

pop_arg_ret:
	push	%bp
	mov	%sp, %bp
	mov	4(%bp), %ax
	pop	%bp
	ret	$2

/* BX <- fib(BX), recursively; clobbers AX */
fibonacci_bx:
	cmp	$2, %bx
	jb	1f
	push	%bx
	dec	%bx
	call	fibonacci_bx
	mov	%bx, %ax
	pop	%bx
	push	%ax
	sub	$2, %bx
	call	fibonacci_bx
	pop	%ax
	add	%ax, %bx
1:	ret

	/* ---- segment loads, far transfers, the stack ---- */
far_tests:
	lcall	$STEP_CS, $far_proc
	ljmp	$STEP_CS, $after_ljmp
	hlt
after_ljmp:
	mov	%ss, %dx
	mov	%sp, %di
	mov	$ALT_STACK, %ax
	mov	%ax, %ss		/* shadow: the next step covers both */
	mov	$0x800, %sp
	push	%dx
	push	%di
	pushw	$0x1357
	pushl	$0x2468ace0
	popl	%eax
	pop	%cx
	pusha
	xor	%ax, %ax
	mov	%ax, %bx
	popa
	push	%ds
	pop	%es
	mov	%es, %bx
	/* far pointer in memory for LDS/LES */
	movw	$0x0040, 0x60
	movw	$DATA_SEG, 0x62
	lds	0x60, %si
	les	0x60, %di
	push	%cs
	pop	%ds
	mov	$DATA_SEG, %ax
	mov	%ax, %fs
	mov	%ax, %gs
	movw	$0x4321, %fs:0x80
	mov	%gs:0x80, %bx
	enter	$4, $0
	movw	$0x99, -2(%bp)
	incw	-2(%bp)
	mov	-2(%bp), %cx
	leave
	/* flags: set, read through the stack, restore */
	stc
	std
	pushf
	pop	%ax
	and	$FLAGS_MASK, %ax
	pushf
	clc
	cld
	popf				/* CF and DF back on */
	pushf
	mov	%sp, %bp
	orw	$0x0040, (%bp)		/* ZF on in the image */
	popf
	cld
	pushf
	pop	%dx
	and	$FLAGS_MASK, %dx
	/* back to the first stack */
	pop	%bx			/* the saved SP */
	pop	%ss			/* shadow again */
	mov	%bx, %sp

	/* ---- sort eight words in the data segment ---- */
	mov	$DATA_SEG, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	$unsorted, %si
	mov	$0x400, %di
	mov	$8, %cx
copy_unsorted:
	mov	%cs:(%si), %ax
	stosw
	add	$2, %si
	loop	copy_unsorted
	mov	$7, %dx			/* passes */
sort_pass:
	mov	$0x400, %si
	mov	%dx, %cx
sort_pair:
	mov	(%si), %ax
	cmp	2(%si), %ax
	jle	1f
	xchg	2(%si), %ax
	mov	%ax, (%si)
1:	add	$2, %si
	loop	sort_pair
	dec	%dx
	jnz	sort_pass
	/* fold the sorted words into BX so the result shows in registers */
	mov	$0x400, %si
	mov	$8, %cx
	xor	%bx, %bx
1:	lodsw
	rol	%bx
	xor	%ax, %bx
	loop	1b
	hlt
	hlt				/* where step.c's debugger detaches to */

far_proc:
	mov	%cs, %ax
	mov	%ds, %dx
	lret

jump_table:
	.word	jt_zero, jt_one, jt_two
unsorted:
	.word	0x0300, 0xfff0, 0x7fff, 0x0001, 0x8000, 0x0042, 0x0300, 0xfffe
message:
	.ascii	"yakvm, single step ok!!"
message_end:
message_len = message_end - message
