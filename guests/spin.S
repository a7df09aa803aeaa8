/* A guest that never stops by itself: interrupts off, jump to self.  The
 * SIGTERM test uses it to check that yakvm can always take its vCPUs back. */
	.code16
	.text
	.globl _start
_start:
	cli
	jmp	.
