/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit scripts: the I/O and MMIO exits a guest must make, in order, with the
 * data it must write and the data the "device" answers with.  The runner
 * matches every exit against the next step, answers reads, ignores SYNC
 * ucalls and stops at UCALL_DONE, failing the case at the first mismatch.
 *
 * A string I/O step (count > 1) may arrive in several exits -- KVM emulates
 * OUTS one element per exit -- unless the script asks for whole strings.
 */
#ifndef TESTS_LIB_EXITS_H
#define TESTS_LIB_EXITS_H

#include "vm.h"

struct exit_step {
	uint32_t reason;	/* KVM_EXIT_IO or KVM_EXIT_MMIO */
	bool write;		/* OUT/OUTS, or an MMIO store */
	uint8_t size;		/* I/O element size, or MMIO access length */
	uint32_t count;		/* I/O elements (0 means 1) */
	uint64_t addr;		/* port, or guest-physical address */
	uint64_t data;		/* the element written or returned, little-endian */
	const void *bytes;	/* string I/O: count * size bytes instead of data */
};

#define PIO_OUT(port, sz, val)	{ KVM_EXIT_IO, true, (sz), 1, (port), (val), NULL }
#define PIO_IN(port, sz, val)	{ KVM_EXIT_IO, false, (sz), 1, (port), (val), NULL }
#define PIO_OUTS(port, sz, n, buf) { KVM_EXIT_IO, true, (sz), (n), (port), 0, (buf) }
#define PIO_INS(port, sz, n, buf) { KVM_EXIT_IO, false, (sz), (n), (port), 0, (buf) }
#define MMIO_WRITE(gpa, len, val) { KVM_EXIT_MMIO, true, (len), 1, (gpa), (val), NULL }
#define MMIO_READ(gpa, len, val) { KVM_EXIT_MMIO, false, (len), 1, (gpa), (val), NULL }

struct exit_script {
	const struct exit_step *steps;
	size_t nr_steps;
	bool whole_strings;	/* every string I/O step in a single exit */
};

/* Runs @v to UCALL_DONE, matching its exits against @script. */
void run_exit_script(struct vcpu *v, const struct exit_script *script);

#endif
