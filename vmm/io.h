/*
 * Port I/O and MMIO dispatch: devices claim an address range on a bus; each
 * exit is routed to the device whose range holds the first byte accessed.
 * Ranges are registered before the vCPUs start and never change afterwards,
 * so lookups need no lock; each device locks its own state.
 */
#ifndef YAKVM_IO_H
#define YAKVM_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IO_MAX_REGIONS		32
#define IO_LOGGED_SLOTS		256	/* distinct unclaimed accesses remembered */

/* @offset is relative to the start of the claimed range. */
typedef void io_handler_fn(void *opaque, uint64_t offset, uint8_t *data,
			   unsigned int size, bool is_write);

struct io_region {
	uint64_t base;
	uint64_t len;
	io_handler_fn *handler;
	void *opaque;
	const char *name;
};

struct io_bus {
	const char *kind;		/* "port" or "MMIO address" */
	unsigned int addr_digits;	/* for messages: 4 (ports) or 8 (MMIO) */
	struct io_region regions[IO_MAX_REGIONS];
	unsigned int nr_regions;

	pthread_mutex_t log_lock;
	uint64_t logged[IO_LOGGED_SLOTS];	/* (addr << 1 | is_write) + 1; 0 = free */
	unsigned int nr_logged;
};

void io_bus_init(struct io_bus *bus, const char *kind, unsigned int addr_digits);
/* Claims [base, base + len) for a device; fail()s on overlap (a yakvm bug). */
void io_register(struct io_bus *bus, uint64_t base, uint64_t len,
		 io_handler_fn *handler, void *opaque, const char *name);
/* Routes one access; false when no device claims @addr. */
bool io_dispatch(struct io_bus *bus, uint64_t addr, uint8_t *data,
		 unsigned int size, bool is_write);
/*
 * What an unclaimed access does without --strict: a read returns all ones and
 * a write is dropped (an empty ISA bus floats high), and the first read and
 * the first write of each address are logged.
 */
void io_unclaimed(struct io_bus *bus, uint64_t addr, uint8_t *data,
		  unsigned int size, bool is_write);

#endif
