/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ucall channel: the guest fills a struct ucall in its memory, points RDI
 * at it (a guest-physical address; guests run identity-mapped) and writes any
 * byte to UCALL_PORT.  The host sees KVM_EXIT_IO on that port and reads the
 * struct from guest memory.
 */
#ifndef TESTS_LIB_UCALL_H
#define TESTS_LIB_UCALL_H

#include <stdint.h>

enum ucall_type {
	UCALL_NONE = 0,
	UCALL_SYNC,		/* a checkpoint: args[] carry values for the host */
	UCALL_DONE,		/* the guest finished */
	UCALL_ASSERT,		/* GUEST_ASSERT failed: message says where and what */
	UCALL_PRINT,		/* message is printed by the host, the guest goes on */
};

#define UCALL_MAX_ARGS	6
#define UCALL_MSG_LEN	256

struct ucall {
	uint64_t type;
	uint64_t args[UCALL_MAX_ARGS];
	char message[UCALL_MSG_LEN];
};

#endif
