/* The devices of the yakvm machine (addresses in platform.h). */
#ifndef YAKVM_DEVICES_H
#define YAKVM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct serial;

/* 16550A UART: guest output to @out_fd; input through serial_receive(). */
struct serial *serial_create(struct vm *vm, uint16_t base, int out_fd);
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

/* All of the above at their platform addresses. */
struct serial *devices_create(struct vm *vm);

#endif
