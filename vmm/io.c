/* Port I/O and MMIO dispatch by address range. */
#include "io.h"

#include <string.h>

#include "status.h"
#include "util.h"

void io_bus_init(struct io_bus *bus, const char *kind, unsigned int addr_digits)
{
	memset(bus, 0, sizeof(*bus));
	bus->kind = kind;
	bus->addr_digits = addr_digits;
	pthread_mutex_init(&bus->log_lock, NULL);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

void io_register(struct io_bus *bus, uint64_t base, uint64_t len,
		 io_handler_fn *handler, void *opaque, const char *name)
{
	struct io_region *r;
	unsigned int i;

	for (i = 0; i < bus->nr_regions; i++) {
		r = &bus->regions[i];
		if (ranges_overlap(base, len, r->base, r->len))
			fail(STATUS_SETUP, "%s %s at %#llx overlaps %s", name, bus->kind,
			     (unsigned long long)base, r->name);
	}
	if (bus->nr_regions == IO_MAX_REGIONS)
		fail(STATUS_SETUP, "too many devices on the %s bus", bus->kind);
	bus->regions[bus->nr_regions++] = (struct io_region){
		.base = base, .len = len, .handler = handler,
		.opaque = opaque, .name = name,
	};
}

static const struct io_region *find_region(const struct io_bus *bus, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < bus->nr_regions; i++) {
		const struct io_region *r = &bus->regions[i];

		if (addr - r->base < r->len)
			return r;
	}
	return NULL;
}

/* True the first time this (address, direction) is seen. */
static bool first_unclaimed(struct io_bus *bus, uint64_t addr, bool is_write)
{
	uint64_t key = (addr << 1 | is_write) + 1;
	bool first = true;
	unsigned int i;

	pthread_mutex_lock(&bus->log_lock);
	for (i = 0; i < bus->nr_logged; i++) {
		if (bus->logged[i] == key) {
			first = false;
			break;
		}
	}
	if (first) {
		if (bus->nr_logged < IO_LOGGED_SLOTS)
			bus->logged[bus->nr_logged++] = key;
		else if (bus->nr_logged++ == IO_LOGGED_SLOTS)
			msg("more unclaimed %ss than can be remembered; not logging any more",
			    bus->kind);
		else
			first = false;
	}
	pthread_mutex_unlock(&bus->log_lock);
	return first;
}

void io_unclaimed(struct io_bus *bus, uint64_t addr, uint8_t *data,
		  unsigned int size, bool is_write)
{
	if (!is_write)
		memset(data, 0xff, size);
	if (!first_unclaimed(bus, addr, is_write))
		return;
	if (is_write)
		msg("unclaimed %s %#0*llx: %u-byte write dropped (logged once)",
		    bus->kind, bus->addr_digits + 2, (unsigned long long)addr, size);
	else
		msg("unclaimed %s %#0*llx: %u-byte read returns all ones (logged once)",
		    bus->kind, bus->addr_digits + 2, (unsigned long long)addr, size);
}

bool io_dispatch(struct io_bus *bus, uint64_t addr, uint8_t *data,
		 unsigned int size, bool is_write)
{
	const struct io_region *r = find_region(bus, addr);

	if (r) {
		r->handler(r->opaque, addr - r->base, data, size, is_write);
		return true;
	}
	return false;
}
