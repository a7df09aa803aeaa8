/*
 * Small ISA ports a PC has and Linux touches: the POST code port 0x80 and
 * port 0xed, which Linux writes as an I/O delay (io_delay=0x80/0xed;
 * accepted and ignored, reads float high), and System Control Port A at
 * 0x92 (IBM PS/2 "fast A20 and reset"; Intel PIIX3 "Port 92"): bit 1 is the
 * A20 gate, stored and read back (A20 is always on), and setting bit 0
 * resets the machine, which ends the VM like the i8042's reset.
 *
 * Two kinds of absent hardware are claimed too, so that Linux's probes read
 * "nothing here" (all ones) without being logged as unclaimed: the 8237 DMA
 * page registers 0x81-0x8f (Linux's i8237 driver reads 0x87 to find the
 * controller) and the Super I/O configuration ports 0x2e/0x2f and 0x4e/0x4f
 * (the 8250 driver looks for Fintek UARTs there).
 */
#include "devices.h"
#include "platform.h"
#include "../status.h"
#include "../vm.h"

#define PORTA_RESET	0x01
#define PORTA_A20	0x02

static void ignored_access(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned int size, bool is_write)
{
	unsigned int i;

	(void)opaque;
	(void)offset;
	for (i = 0; !is_write && i < size; i++)
		data[i] = 0xff;
}

static uint8_t porta_value = PORTA_A20;

static void porta_access(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned int size, bool is_write)
{
	struct vm *vm = opaque;

	(void)offset;
	(void)size;
	if (!is_write) {
		data[0] = porta_value;
		return;
	}
	porta_value = data[0] & PORTA_A20;
	if (data[0] & PORTA_RESET)
		vm_request_stop(vm, STATUS_GUEST_RESET);
}

void legacy_ports_create(struct vm *vm)
{
	io_register(&vm->pio, POST_PORT, 1, ignored_access, NULL, "POST code port");
	io_register(&vm->pio, DMA_PAGE_PORT, DMA_PAGE_PORTS, ignored_access, NULL,
		    "DMA page registers (absent)");
	io_register(&vm->pio, SUPERIO_PORT_A, 2, ignored_access, NULL, "Super I/O (absent)");
	io_register(&vm->pio, SUPERIO_PORT_B, 2, ignored_access, NULL, "Super I/O (absent)");
	io_register(&vm->pio, DELAY_PORT, 1, ignored_access, NULL, "I/O delay port");
	io_register(&vm->pio, PORTA_PORT, 1, porta_access, vm, "system control port A");
}
