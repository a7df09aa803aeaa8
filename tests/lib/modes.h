/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entering guest code in each processor mode.
 *
 * 64-bit guests are C functions of the test binary: the library copies the
 * binary's PT_LOAD segments into guest memory at their link addresses (the
 * tests are linked static and non-PIE), builds a GDT, an IDT and an identity
 * map of the low 4 GiB, and starts the vCPU at the function with RDI = arg
 * and a return address that reports UCALL_DONE.
 *
 * 16- and 32-bit guests are small asm blocks (GUEST_CODE16/32) copied to
 * GPA_LOW_CODE; they address their own data with LOW(block, label).  So can
 * 64-bit asm blocks (GUEST_CODE64) be, when a test wants exact encodings in
 * every mode from one source.
 */
#ifndef TESTS_LIB_MODES_H
#define TESTS_LIB_MODES_H

#include <stdint.h>

#include "vm.h"

enum guest_mode {
	MODE_REAL,		/* real mode, CS = DS = ES = SS = 0 */
	MODE_PROT32,		/* flat 32-bit protected mode, no paging */
	MODE_PROT32_PAGED,	/* flat 32-bit with 2-level paging (4 MiB pages) */
	MODE_PAE,		/* flat 32-bit with PAE paging (2 MiB pages) */
	MODE_LONG,		/* 64-bit long mode, 4-level paging */
	MODE_LONG_LA57,		/* 64-bit long mode, 5-level paging (if the CPU has it) */
	NR_GUEST_MODES,
};

extern const char *const guest_mode_names[NR_GUEST_MODES];

/* Default RAM of a long-mode VM: room for the test binary and its .bss. */
#define LONG_MODE_MEM_SIZE	(32ULL << 20)

struct guest_code {
	const uint8_t *start;
	const uint8_t *end;
};

/*
 * GUEST_CODE16(name, "asm") / GUEST_CODE32(name, "asm") define a block of
 * guest code named @name (a struct guest_code).  Jumps are relative; data
 * in the block is addressed as "LOW(name, label)", its address once copied.
 */
#define GUEST_CODE(name, bits, body)					\
	extern const uint8_t name##_start[], name##_end[];		\
	__asm__(".pushsection .text.guest_low, \"ax\"\n"		\
		".code" #bits "\n"					\
		#name "_start:\n" body "\n" #name "_end:\n"		\
		".code64\n"						\
		".popsection\n");					\
	static const struct guest_code name = { name##_start, name##_end }

#define GUEST_CODE16(name, body)	GUEST_CODE(name, 16, body)
#define GUEST_CODE32(name, body)	GUEST_CODE(name, 32, body)
#define GUEST_CODE64(name, body)	GUEST_CODE(name, 64, body)

/* GPA_LOW_CODE, as text for asm. */
#define LOW_CODE_TEXT	"0x8000"
#define LOW(block, label)	"(" #label "-" #block "_start+" LOW_CODE_TEXT ")"

/* Reports UCALL_DONE from 16/32-bit code (a prebuilt ucall at GPA_UCALL_DONE). */
#define ASM_UCALL_DONE	"mov $0x3000, %edi\n\tout %al, $0xe0\n\t1: hlt\n\tjmp 1b\n"

/* Builds GDT, IDT, page tables and the prebuilt ucalls (once per VM). */
void vm_build_tables(struct vm *vm);
/* Copies the test binary's PT_LOAD segments into guest memory (once per VM). */
void vm_load_image(struct vm *vm);

/* Copies @code to GPA_LOW_CODE and sets up @v to run it in @mode. */
void vcpu_enter_low_code(struct vcpu *v, enum guest_mode mode,
			 const struct guest_code *code);
/* Sets up @v to run the 64-bit guest function at @fn_addr with RDI = @arg. */
void vcpu_enter_long_at(struct vcpu *v, uint64_t fn_addr, uint64_t arg);
#define vcpu_enter_long(v, fn, arg)					\
	vcpu_enter_long_at((v), (uint64_t)(uintptr_t)(fn), (uint64_t)(arg))

/* Whether this CPU (and so the devices on it) can run MODE_LONG_LA57 guests. */
bool cpu_has_la57(void);

/* The segment registers, CRs and EFER that @mode runs with. */
void mode_sregs(enum guest_mode mode, struct kvm_sregs *sregs);

/* A new VM with one vCPU ready to run @code in @mode (RAM sized for it). */
struct vcpu *vm_with_low_code(const struct test_dev *dev, enum guest_mode mode,
			      const struct guest_code *code);
/* A new VM with one vCPU ready to run fn(arg) in long mode. */
struct vcpu *vm_with_long_code_at(const struct test_dev *dev, uint64_t fn_addr,
				  uint64_t arg);
#define vm_with_long_code(dev, fn, arg)					\
	vm_with_long_code_at((dev), (uint64_t)(uintptr_t)(fn), (uint64_t)(arg))

#endif
