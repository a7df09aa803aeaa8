/*
 * 8042 keyboard controller (IBM PC AT Technical Reference, "Keyboard
 * Controller"; IBM PS/2 Hardware Interface Technical Reference for the
 * auxiliary port) at 0x60 (data) and 0x64 (status/command), with nothing
 * plugged into either port: the console is the UART.
 *
 * The controller itself answers what Linux's i8042 driver asks at boot:
 * read/write of the command byte (0x20/0x60), self-test (0xaa -> 0x55),
 * port tests (0xab, 0xa9 -> 0x00), port enable/disable, output port
 * read/write (0xd0/0xd1), and the loop-back writes 0xd2/0xd3 that the
 * driver uses to find the aux port and its IRQ12.  A byte sent to a device
 * (port 0x60, or 0xd4 for the aux port) comes back as 0xfe with the status
 * register's time-out bit, what a PS/2 controller reports when no device
 * answers; the keyboard and mouse drivers then give up at once instead of
 * waiting for their time-outs.
 *
 * Reset: command 0xfe (pulse output port bit 0 low, what Linux's reboot=k
 * writes), any pulse command 0xf0-0xff with bit 0 clear, or a write of the
 * output port with bit 0 clear, ends the VM cleanly.
 */
#include <pthread.h>
#include <stdlib.h>

#include "devices.h"
#include "platform.h"
#include "../interrupts.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define STATUS_OBF	0x01	/* output buffer full */
#define STATUS_SYS	0x04	/* system flag: self-test passed */
#define STATUS_CMD	0x08	/* last write went to 0x64 */
#define STATUS_UNLOCKED	0x10	/* keyboard not inhibited by the key lock */
#define STATUS_AUXB	0x20	/* the output byte is from the aux port */
#define STATUS_TIMEOUT	0x40
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40
#define OUTPORT_RESET	0x01	/* active low: 0 resets the CPU */
#define OUTPORT_A20	0x02
#define NO_DEVICE	0xfe	/* the answer when no device responds */
#define QUEUE_SIZE	16

enum {
	CMD_READ_CTR = 0x20, CMD_WRITE_CTR = 0x60, CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8, CMD_AUX_TEST = 0xa9, CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab, CMD_KBD_DISABLE = 0xad, CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPUT = 0xc0, CMD_READ_OUTPORT = 0xd0, CMD_WRITE_OUTPORT = 0xd1,
	CMD_WRITE_KBD_OBUF = 0xd2, CMD_WRITE_AUX_OBUF = 0xd3, CMD_WRITE_AUX = 0xd4,
	CMD_PULSE = 0xf0,
};

struct out_byte {
	uint8_t data;
	uint8_t flags;		/* STATUS_AUXB, STATUS_TIMEOUT */
};

struct i8042 {
	pthread_mutex_t lock;
	struct vm *vm;
	uint8_t ctr, outport, status_cmd;
	uint8_t pending;	/* a command waiting for its data byte, or 0 */
	bool obf;
	struct out_byte out;	/* the output buffer */
	struct out_byte queue[QUEUE_SIZE];
	unsigned int head, count;
	bool reset;
};

static void push(struct i8042 *k, uint8_t data, uint8_t flags)
{
	if (k->count == QUEUE_SIZE)
		return;
	k->queue[(k->head + k->count++) % QUEUE_SIZE] = (struct out_byte){ data, flags };
}

/* Moves the next queued byte into an empty output buffer. */
static void refill(struct i8042 *k)
{
	if (k->obf || k->count == 0)
		return;
	k->out = k->queue[k->head];
	k->head = (k->head + 1) % QUEUE_SIZE;
	k->count--;
	k->obf = true;
}

/* IRQ1 and IRQ12 follow a full output buffer when the command byte enables them. */
static void update_irqs(struct i8042 *k)
{
	bool aux = k->out.flags & STATUS_AUXB;

	interrupts_set_line(k->vm, KBD_IRQ, k->obf && !aux && (k->ctr & CTR_KBDINT));
	interrupts_set_line(k->vm, AUX_IRQ, k->obf && aux && (k->ctr & CTR_AUXINT));
}

static void pulse(struct i8042 *k, uint8_t cmd)
{
	if (!(cmd & OUTPORT_RESET))
		k->reset = true;
}

static void command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR: push(k, k->ctr, 0); break;
	case CMD_AUX_DISABLE: k->ctr |= CTR_AUXDIS; break;
	case CMD_AUX_ENABLE: k->ctr &= ~CTR_AUXDIS; break;
	case CMD_AUX_TEST: push(k, 0x00, 0); break;
	case CMD_SELF_TEST:
		k->ctr |= CTR_SYS;
		push(k, 0x55, 0);
		break;
	case CMD_KBD_TEST: push(k, 0x00, 0); break;
	case CMD_KBD_DISABLE: k->ctr |= CTR_KBDDIS; break;
	case CMD_KBD_ENABLE: k->ctr &= ~CTR_KBDDIS; break;
	case CMD_READ_INPUT: push(k, 0xff, 0); break;
	case CMD_READ_OUTPORT: push(k, k->outport, 0); break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPORT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	default:
		if (cmd >= CMD_PULSE)
			pulse(k, cmd);
		break;		/* other commands are vendor-specific: ignored */
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTPORT:
		k->outport = v;
		if (!(v & OUTPORT_RESET))
			k->reset = true;
		break;
	case CMD_WRITE_KBD_OBUF:
		push(k, v, 0);
		break;
	case CMD_WRITE_AUX_OBUF:
		push(k, v, STATUS_AUXB);
		break;
	case CMD_WRITE_AUX:
		push(k, NO_DEVICE, STATUS_AUXB | STATUS_TIMEOUT);
		break;
	default:		/* a byte for the keyboard, which is not there */
		push(k, NO_DEVICE, STATUS_TIMEOUT);
		break;
	}
}

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = k->status_cmd | STATUS_UNLOCKED;

	if (k->ctr & CTR_SYS)
		s |= STATUS_SYS;
	if (k->obf)
		s |= STATUS_OBF | k->out.flags;
	return s;
}

static uint8_t data_read(struct i8042 *k)
{
	uint8_t v = k->out.data;	/* an empty buffer reads its last byte again */

	k->obf = false;
	return v;
}

static void i8042_access(struct i8042 *k, bool cmd_port, uint8_t *data, bool is_write)
{
	bool reset;

	pthread_mutex_lock(&k->lock);
	if (is_write) {
		k->status_cmd = cmd_port ? STATUS_CMD : 0;
		if (cmd_port)
			command(k, data[0]);
		else
			data_write(k, data[0]);
	} else {
		data[0] = cmd_port ? status(k) : data_read(k);
	}
	refill(k);
	update_irqs(k);
	reset = k->reset;
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vm_request_stop(k->vm, STATUS_GUEST_RESET);
}

/* 8-bit registers: a wider access touches only the first. */
static void data_port_access(void *opaque, uint64_t offset, uint8_t *data,
			     unsigned int size, bool is_write)
{
	(void)offset;
	(void)size;
	i8042_access(opaque, false, data, is_write);
}

static void command_port_access(void *opaque, uint64_t offset, uint8_t *data,
				unsigned int size, bool is_write)
{
	(void)offset;
	(void)size;
	i8042_access(opaque, true, data, is_write);
}

void i8042_create(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		fail(STATUS_SETUP, "out of memory for the i8042");
	pthread_mutex_init(&k->lock, NULL);
	k->vm = vm;
	/* What firmware leaves: keyboard interrupt and translation on, aux off. */
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	k->outport = OUTPORT_RESET | OUTPORT_A20;
	/* Two one-byte regions: 0x61-0x63 between them belong to other devices. */
	io_register(&vm->pio, KBD_DATA_PORT, 1, data_port_access, k, "i8042 data");
	io_register(&vm->pio, KBD_STATUS_PORT, 1, command_port_access, k,
		    "i8042 status/command");
}
