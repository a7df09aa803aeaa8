/*
 * The machine's device set, every device at its platform.h address: the
 * PC's legacy devices Linux needs (8259A pair, 8254 PIT with port 0x61 --
 * these three in the VMM or in the device, interrupts.c --, 16550A on IRQ4,
 * MC146818 RTC, i8042, empty PCI configuration space, the small ports) and
 * yakvm's test devices.
 */
#include <unistd.h>

#include "devices.h"
#include "platform.h"
#include "../interrupts.h"
#include "../vm.h"

struct serial *devices_create(struct vm *vm)
{
	struct serial *com1;

	interrupts_create_devices(vm);
	com1 = serial_create(vm, COM1_PORT, STDOUT_FILENO, COM1_IRQ);
	rtc_create(vm);
	i8042_create(vm);
	pciconf_create(vm);
	legacy_ports_create(vm);
	debugexit_create(vm, DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS);
	debugcon_create(vm, DEBUGCON_PORT, STDOUT_FILENO);
	mmiotest_create(vm, MMIOTEST_BASE);
	return com1;
}
