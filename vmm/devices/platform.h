/*
 * The guest-visible machine: where yakvm's devices live.  Included by the VMM
 * and by the example guests (C and assembly), so it holds only #defines.
 */
#ifndef YAKVM_PLATFORM_H
#define YAKVM_PLATFORM_H

#define COM1_PORT		0x3f8	/* 16550 UART, 8 registers */
#define COM1_IRQ		4

/* The PC's legacy devices (IBM PC AT Technical Reference, I/O address map). */
#define PIC_MASTER_PORT		0x20	/* 8259A pair, slave on the master's IR2 */
#define PIC_SLAVE_PORT		0xa0
#define ELCR_PORT		0x4d0	/* edge/level control, one byte per 8259A */
#define PIT_PORT		0x40	/* 8254: counters 0-2, control word at +3 */
#define PIT_IRQ			0
#define KBD_DATA_PORT		0x60	/* i8042 */
#define KBD_STATUS_PORT		0x64
#define KBD_IRQ			1
#define AUX_IRQ			12
#define PORTB_PORT		0x61	/* system control port B: PIT gate 2, OUT2 */
#define RTC_PORT		0x70	/* MC146818: index, data */
#define POST_PORT		0x80
#define DMA_PAGE_PORT		0x81	/* 8237 DMA page registers (absent) */
#define DMA_PAGE_PORTS		15
#define SUPERIO_PORT_A		0x2e	/* Super I/O configuration (absent) */
#define SUPERIO_PORT_B		0x4e
#define PORTA_PORT		0x92	/* system control port A: A20, fast reset */
#define DELAY_PORT		0xed
#define PCI_CONFIG_PORT		0xcf8	/* address at 0xcf8, data at 0xcfc */
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
