/* Freestanding helpers for the example guests: port I/O, console, exit. */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* MMIO through volatile pointers, so each access is one instruction. */
#define MMIO(type, addr) (*(volatile type *)(uintptr_t)(addr))

void putc_uart(char c);
void print(const char *s);
void print_hex(uint64_t v, int digits);
void print_dec(unsigned long v);
/* Ends the VM: yakvm exits with status (value << 1) | 1. */
_Noreturn void debug_exit(uint32_t value);

#endif
