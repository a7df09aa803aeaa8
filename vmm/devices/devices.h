/* The devices of the yakvm machine (addresses in platform.h). */
#ifndef YAKVM_DEVICES_H
#define YAKVM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

struct vm;
struct serial;
struct pic;
struct pit;

/*
 * Devices raise their ISA interrupt lines with interrupts_set_line()
 * (../interrupts.h), which drives the VMM's PIC or the device's in-kernel
 * irqchip.  The PIC, PIT and port 0x61 below exist only with the VMM's.
 */

/* 8259A pair.  @notify runs (without the PIC's lock) whenever INT may have risen. */
typedef void pic_notify_fn(void *opaque);
struct pic *pic_create(struct vm *vm, pic_notify_fn *notify, void *opaque);
/* Drives ISA IRQ line @irq (0-15). */
void pic_set_irq(struct pic *pic, unsigned int irq, bool level);
/* The INT output: a request the CPU should take. */
bool pic_output(struct pic *pic);
/* The INTA cycle: the vector to inject (IR7's for a request that vanished). */
int pic_acknowledge(struct pic *pic);

/* 8254 PIT; channel 0 raises IRQ0 on @pic from its own thread. */
struct pit *pit_create(struct vm *vm, struct pic *pic);
/* Channel 2's gate and OUT, wired to port 0x61. */
void pit_set_gate2(struct pit *pit, bool gate);
bool pit_out2(struct pit *pit);
/* System control port B (0x61). */
void portb_create(struct vm *vm, struct pit *pit);
/* MC146818 RTC and CMOS RAM. */
void rtc_create(struct vm *vm);
/* 8042 keyboard controller with empty ports; its reset ends the VM. */
void i8042_create(struct vm *vm);
/* PCI configuration mechanism #1 with no devices behind it. */
void pciconf_create(struct vm *vm);
/* Ports 0x80, 0xed (I/O delay) and 0x92 (A20, fast reset). */
void legacy_ports_create(struct vm *vm);

/* 16550A UART: guest output to @out_fd; input through serial_receive();
 * its interrupt on ISA line @irq. */
struct serial *serial_create(struct vm *vm, uint16_t base, int out_fd, unsigned int irq);
/* How many bytes the receive FIFO can take now. */
size_t serial_rx_space(struct serial *uart);
/* Queues up to serial_rx_space() bytes for the guest to read. */
void serial_receive(struct serial *uart, const uint8_t *bytes, size_t len);

/* isa-debug-exit: a write of v stops the VM with status (v << 1) | 1. */
void debugexit_create(struct vm *vm, uint16_t port, unsigned int nr_ports);
/* Bochs/QEMU port 0xe9 console: written bytes go to @out_fd. */
void debugcon_create(struct vm *vm, uint16_t port, int out_fd);
/* Test device: an ID register and scratch bytes that read back. */
void mmiotest_create(struct vm *vm, uint64_t base);

/* All of the above at their platform addresses (the interrupt controllers
 * and the PIT only with the VMM's irqchip); returns COM1. */
struct serial *devices_create(struct vm *vm);

#endif
