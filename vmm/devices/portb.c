/*
 * System Control Port B at 0x61 (IBM PC AT Technical Reference, "System
 * Board I/O Address Map"; Intel PIIX3 data sheet, "NMI Status and Control
 * Register"): bit 0 gates PIT channel 2, bit 1 enables the speaker (which
 * stays silent here), bits 2-3 mask the parity and I/O-check NMIs (stored;
 * no NMI is ever raised), bit 4 toggles with every DRAM refresh cycle, bit 5
 * is channel 2's OUT.  Linux polls bit 5 to calibrate the TSC against the PIT.
 */
#include <stdlib.h>
#include <time.h>

#include "devices.h"
#include "platform.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define PORTB_GATE2	0x01
#define PORTB_WRITABLE	0x0f	/* gate, speaker, the two NMI masks */
#define PORTB_REFRESH	0x10
#define PORTB_OUT2	0x20
#define REFRESH_NS	15085	/* the refresh request period: 15.085 us */

struct portb {
	struct pit *pit;
	uint8_t value;		/* the writable bits; only the vCPU thread touches it */
};

static uint8_t refresh_toggle(void)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return (ns / REFRESH_NS) & 1 ? PORTB_REFRESH : 0;
}

static void portb_access(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned int size, bool is_write)
{
	struct portb *p = opaque;

	(void)offset;
	(void)size;
	if (is_write) {
		p->value = data[0] & PORTB_WRITABLE;
		pit_set_gate2(p->pit, p->value & PORTB_GATE2);
		return;
	}
	data[0] = p->value | refresh_toggle() | (pit_out2(p->pit) ? PORTB_OUT2 : 0);
}

void portb_create(struct vm *vm, struct pit *pit)
{
	struct portb *p = calloc(1, sizeof(*p));

	if (!p)
		fail(STATUS_SETUP, "out of memory for port 0x61");
	p->pit = pit;
	io_register(&vm->pio, PORTB_PORT, 1, portb_access, p, "system control port B");
}
