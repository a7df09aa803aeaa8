/* The state every vCPU starts in: mode, entry point and a few registers. */
#ifndef YAKVM_CPUMODE_H
#define YAKVM_CPUMODE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct vm;

/*
 * Which GDT the vCPUs start with: yakvm's (code32 0x08, data 0x10, code64
 * 0x18), or the one Linux's boot protocol asks for (boot.rst, "32-bit Boot
 * Protocol": __BOOT_CS 0x10 with the mode's code segment, __BOOT_DS 0x18).
 */
enum gdt_layout {
	GDT_YAKVM,
	GDT_LINUX,
};

struct boot_cpu {
	enum cpu_mode mode;
	enum gdt_layout gdt;
	uint16_t real_cs;	/* real mode: CS selector; RIP is the offset */
	uint64_t rip;
	uint64_t rsp;
	uint64_t rax, rbx, rsi, rdi;
};

/* Writes the GDT (and for long mode the page tables) and sets the starting
 * vCPUs' registers (all, or with the in-kernel irqchip vCPU 0); fail()s on
 * an ioctl error. */
void cpumode_setup(struct vm *vm, const struct boot_cpu *boot);
/* "real mode at 0000:1000", "long mode at 0x100000". */
void cpumode_describe(const struct boot_cpu *boot, char *buf, size_t len);

#endif
