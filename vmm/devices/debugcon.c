/*
 * Debug console on port 0xe9 (Bochs, QEMU's isa-debugcon): each write prints
 * its low byte.  Reads return 0xe9, which is how guests detect the port.
 */
#include <string.h>

#include "devices.h"
#include "platform.h"
#include "../util.h"
#include "../vm.h"

struct debugcon {
	int out_fd;
};

static void debugcon_access(void *opaque, uint64_t offset, uint8_t *data,
			    unsigned int size, bool is_write)
{
	struct debugcon *con = opaque;

	(void)offset;
	if (is_write)
		write_all(con->out_fd, data, 1);
	else
		memset(data, DEBUGCON_PORT, size);
}

void debugcon_create(struct vm *vm, uint16_t port, int out_fd)
{
	static struct debugcon con;

	con.out_fd = out_fd;
	io_register(&vm->pio, port, 1, debugcon_access, &con, "debug console");
}
