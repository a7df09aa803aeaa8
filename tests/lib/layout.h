/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-physical memory layout every test VM shares.  Guest and host
 * code both include this file: the guest runs identity-mapped (guest virtual
 * == guest physical) so an address means the same thing on both sides.
 *
 *   0x000000  real-mode IVT; in long mode the first page is left unmapped so
 *             that a NULL pointer in guest code faults instead of reading it
 *   0x001000  GDT                       0x002000  64-bit IDT
 *   0x003000  prebuilt ucall structs for asm guests
 *   0x004000  data area of 16/32-bit guests (8 KiB)
 *   0x006000  16/32-bit stack (grows down from 0x8000)
 *   0x008000  16/32-bit guest code, copied here (32 KiB)
 *   0x010000  page tables (identity map of the low 4 GiB)
 *   0x100000  64-bit stacks, one STACK_SIZE slice per vCPU
 *   0x200000  scratch: free for the tests' own data (2 MiB)
 *   0x400000  the test binary's PT_LOAD segments (static, non-PIE link)
 */
#ifndef TESTS_LIB_LAYOUT_H
#define TESTS_LIB_LAYOUT_H

#define PAGE_SIZE		0x1000ULL

#define GPA_GDT			0x1000ULL
#define GPA_IDT			0x2000ULL
#define GPA_UCALL_DONE		0x3000ULL	/* struct ucall { UCALL_DONE } */
#define GPA_LOW_DATA		0x4000ULL
#define LOW_DATA_SIZE		0x2000ULL
#define GPA_LOW_STACK_TOP	0x8000ULL
#define GPA_LOW_CODE		0x8000ULL
#define LOW_CODE_MAX		0x8000ULL

#define GPA_PML4		0x10000ULL
#define GPA_PDPT		0x11000ULL
#define GPA_PD			0x12000ULL	/* four page directories */
#define GPA_PT0			0x16000ULL	/* 4 KiB pages of the first 2 MiB */
#define GPA_PAE_PDPT		0x17000ULL
#define GPA_PD32		0x18000ULL	/* 32-bit paging, 4 MiB pages */
#define GPA_PML5		0x19000ULL	/* 5-level paging (LA57) */
#define GPA_PAGE_TABLES_END	0x1a000ULL

#define GPA_STACKS		0x100000ULL
#define STACK_SIZE		0x10000ULL
#define MAX_GUEST_STACKS	16
#define GPA_SCRATCH		0x200000ULL
#define SCRATCH_SIZE		0x200000ULL
#define GPA_IMAGE		0x400000ULL

/* Unbacked guest-physical ranges the tests use as MMIO. */
#define MMIO_GPA		0x40000000ULL	/* within rel32 reach of the image */
#define MMIO_GPA_REAL		0xa0000ULL	/* real mode: below 1 MiB */
#define REAL_MODE_MEM_SIZE	0xa0000ULL	/* RAM of real-mode VMs: 640 KiB */

/* GDT selectors (the library's GDT at GPA_GDT). */
#define SEL_CODE32		0x08
#define SEL_DATA		0x10
#define SEL_CODE64		0x18
#define SEL_CODE16		0x20
#define GDT_ENTRIES		5

/* The port of the ucall channel. */
#define UCALL_PORT		0xe0

#endif
