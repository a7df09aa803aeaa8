/*
 * Debug-exit port, QEMU's isa-debug-exit (hw/misc/debugexit.c): a write of
 * value v ends the VM with exit status (v << 1) | 1, so a test guest can
 * report pass/fail and the status is never 0, which stays "halted".
 */
#include <string.h>

#include "devices.h"
#include "../util.h"
#include "../vm.h"

static uint32_t little_endian_value(const uint8_t *data, unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < size && i < sizeof(v); i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

static void debugexit_access(void *opaque, uint64_t offset, uint8_t *data,
			     unsigned int size, bool is_write)
{
	struct vm *vm = opaque;
	uint32_t value;
	int status;

	(void)offset;
	if (!is_write) {
		memset(data, 0, size);
		return;
	}
	value = little_endian_value(data, size);
	/* A process exit status has 8 bits: the same truncation QEMU's exit() gets. */
	status = ((value << 1) | 1) & 0xff;
	msg("guest wrote %#x to the debug-exit port: exit status %d", value, status);
	vm_request_stop(vm, status);
}

void debugexit_create(struct vm *vm, uint16_t port, unsigned int nr_ports)
{
	io_register(&vm->pio, port, nr_ports, debugexit_access, vm, "debug-exit");
}
