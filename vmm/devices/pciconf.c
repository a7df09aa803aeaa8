/*
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2
 * "Software Generation of Configuration Transactions"): a 32-bit address
 * register at 0xcf8 that reads back what was written, and a data window at
 * 0xcfc-0xcff.  yakvm has no PCI devices, so every configuration read
 * returns all ones ("no device") and writes are dropped.  Byte and word
 * accesses to 0xcf8-0xcfb are not configuration cycles and float high.
 */
#include <string.h>

#include "devices.h"
#include "platform.h"
#include "../vm.h"

#define CONFIG_DATA	4	/* 0xcfc - 0xcf8 */

static uint32_t config_address;

static void pciconf_access(void *opaque, uint64_t offset, uint8_t *data,
			   unsigned int size, bool is_write)
{
	(void)opaque;
	if (offset == 0 && size == 4) {
		if (is_write)
			memcpy(&config_address, data, 4);
		else
			memcpy(data, &config_address, 4);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}

void pciconf_create(struct vm *vm)
{
	io_register(&vm->pio, PCI_CONFIG_PORT, CONFIG_DATA + 4, pciconf_access, NULL,
		    "PCI configuration ports");
}
