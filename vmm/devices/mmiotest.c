/*
 * MMIO test device: a read-only ID register followed by scratch bytes that
 * read back what was written, at any access size.  Guests use it to check
 * that MMIO reads and writes of each width reach user space intact.
 */
#include <pthread.h>
#include <string.h>

#include "devices.h"
#include "platform.h"
#include "../vm.h"

struct mmiotest {
	pthread_mutex_t lock;
	uint8_t bytes[MMIOTEST_SIZE];
};

static void mmiotest_access(void *opaque, uint64_t offset, uint8_t *data,
			    unsigned int size, bool is_write)
{
	struct mmiotest *dev = opaque;
	unsigned int i;

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < size; i++) {
		uint64_t at = offset + i;

		if (is_write) {
			if (at >= MMIOTEST_SCRATCH && at < MMIOTEST_SIZE)
				dev->bytes[at] = data[i];
		} else {
			data[i] = at < MMIOTEST_SIZE ? dev->bytes[at] : 0xff;
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

void mmiotest_create(struct vm *vm, uint64_t base)
{
	static struct mmiotest dev = { .lock = PTHREAD_MUTEX_INITIALIZER };
	uint32_t id = MMIOTEST_ID_VALUE;

	memcpy(&dev.bytes[MMIOTEST_ID], &id, sizeof(id));
	io_register(&vm->mmio, base, MMIOTEST_SIZE, mmiotest_access, &dev, "MMIO test device");
}
