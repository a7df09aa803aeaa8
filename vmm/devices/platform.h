/*
 * The guest-visible machine: where yakvm's devices live.  Included by the VMM
 * and by the example guests (C and assembly), so it holds only #defines.
 */
#ifndef YAKVM_PLATFORM_H
#define YAKVM_PLATFORM_H

#define COM1_PORT		0x3f8	/* 16550 UART, 8 registers */
#define DEBUG_EXIT_PORT		0xf4	/* write v: yakvm exits with (v << 1) | 1 */
#define DEBUG_EXIT_PORTS	4	/* outb/outw/outl all land here */
#define DEBUGCON_PORT		0xe9	/* Bochs/QEMU debug console: bytes to stdout */

/* MMIO test device: an ID register and a scratch window that reads back. */
#define MMIOTEST_BASE		0xfeb00000
#define MMIOTEST_SIZE		0x100
#define MMIOTEST_ID		0x00	/* read-only, 32 bits */
#define MMIOTEST_ID_VALUE	0x4f494d59	/* "YMIO" in memory order */
#define MMIOTEST_SCRATCH	0x08	/* scratch bytes up to MMIOTEST_SIZE */

/* Guest RAM above this address continues at 4 GiB (room for MMIO below 4 GiB). */
#define LOW_RAM_LIMIT		0xc0000000ULL
#define HIGH_RAM_BASE		0x100000000ULL

#endif
