/* The machine's device set: every device at its platform.h address. */
#include <unistd.h>

#include "devices.h"
#include "platform.h"

struct serial *devices_create(struct vm *vm)
{
	struct serial *com1 = serial_create(vm, COM1_PORT, STDOUT_FILENO);

	debugexit_create(vm, DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS);
	debugcon_create(vm, DEBUGCON_PORT, STDOUT_FILENO);
	mmiotest_create(vm, MMIOTEST_BASE);
	return com1;
}
