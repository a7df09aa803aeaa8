/*
 * 8250/16550A UART (register set of the National PC16550D data sheet):
 * THR/RBR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, and DLL/DLM while LCR.DLAB
 * is set.  Transmission is instantaneous, so LSR always shows THRE and TEMT
 * and output never blocks the guest.
 *
 * The interrupt (COM1: IRQ4) is the data sheet's INTRPT output gated by
 * MCR.OUT2, as on every PC serial port: high while IIR shows a cause (data
 * received, or THR empty since IIR last reported it or THR was written).
 * The interrupt controller sees the rising edges; Linux's 8250 driver reads IIR until it says
 * "no interrupt", so the line drops and the next cause makes a new edge.
 */
#include <pthread.h>
#include <stdlib.h>

#include "devices.h"
#include "../interrupts.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

enum uart_reg {
	UART_RBR_THR = 0,	/* DLL when DLAB */
	UART_IER = 1,		/* DLM when DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NR_REGS = 8,
};

#define IER_RX_DATA	0x01
#define IER_THR_EMPTY	0x02
#define IER_MASK	0x0f
#define IIR_NONE	0x01
#define IIR_THR_EMPTY	0x02
#define IIR_RX_DATA	0x04
#define IIR_FIFO_ON	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_OUT2	0x08	/* gates the interrupt line on a PC */
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f
#define LSR_DATA_READY	0x01
#define LSR_THR_EMPTY	0x20
#define LSR_TX_EMPTY	0x40
/* Not in loopback: carrier, data set ready and clear to send are up. */
#define MSR_LINES_UP	0xb0

#define RX_FIFO_SIZE	16	/* a 16550A's receive FIFO */

struct serial {
	pthread_mutex_t lock;
	int out_fd;
	struct vm *vm;
	unsigned int irq;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thr_empty_pending;	/* THRE interrupt cause, cleared by reading IIR */
	uint8_t rx[RX_FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

static void rx_push(struct serial *uart, uint8_t byte)
{
	if (uart->rx_count == RX_FIFO_SIZE)
		return;
	uart->rx[(uart->rx_head + uart->rx_count++) % RX_FIFO_SIZE] = byte;
}

static uint8_t rx_pop(struct serial *uart)
{
	uint8_t byte;

	if (uart->rx_count == 0)
		return 0;
	byte = uart->rx[uart->rx_head];
	uart->rx_head = (uart->rx_head + 1) % RX_FIFO_SIZE;
	uart->rx_count--;
	return byte;
}

static void transmit(struct serial *uart, uint8_t byte)
{
	if (uart->mcr & MCR_LOOP)
		rx_push(uart, byte);
	else
		write_all(uart->out_fd, &byte, 1);
	uart->thr_empty_pending = true;
}

/* Highest-priority pending cause (PC16550D table "Interrupt Control Functions"). */
static uint8_t pending_cause(const struct serial *uart)
{
	if ((uart->ier & IER_RX_DATA) && uart->rx_count)
		return IIR_RX_DATA;
	if ((uart->ier & IER_THR_EMPTY) && uart->thr_empty_pending)
		return IIR_THR_EMPTY;
	return IIR_NONE;
}

/* Reading IIR while it reports THR empty clears that cause. */
static uint8_t read_iir(struct serial *uart)
{
	uint8_t fifo = (uart->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;
	uint8_t cause = pending_cause(uart);

	if (cause == IIR_THR_EMPTY)
		uart->thr_empty_pending = false;
	return fifo | cause;
}

/* In loopback the interrupt stays inside the chip (OUT2 is looped back too). */
static void update_irq(struct serial *uart)
{
	bool level = (uart->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 &&
		     pending_cause(uart) != IIR_NONE;

	interrupts_set_line(uart->vm, uart->irq, level);
}

/* In loopback the modem outputs (MCR bits 0-3) feed the modem inputs. */
static uint8_t read_msr(const struct serial *uart)
{
	uint8_t m = uart->mcr;

	if (!(m & MCR_LOOP))
		return MSR_LINES_UP;
	return (m & 0x01) << 5 | (m & 0x02) << 3 | (m & 0x04) << 4 | (m & 0x08) << 4;
}

static uint8_t serial_read(struct serial *uart, unsigned int reg)
{
	bool dlab = uart->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? uart->dll : rx_pop(uart);
	case UART_IER:
		return dlab ? uart->dlm : uart->ier;
	case UART_IIR_FCR:
		return read_iir(uart);
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return LSR_THR_EMPTY | LSR_TX_EMPTY | (uart->rx_count ? LSR_DATA_READY : 0);
	case UART_MSR:
		return read_msr(uart);
	default:
		return uart->scr;
	}
}

static void write_fcr(struct serial *uart, uint8_t value)
{
	if (value & FCR_CLEAR_RX)
		uart->rx_count = 0;
	uart->fcr = value & ~0x06;	/* the clear bits are self-clearing */
}

static void write_ier(struct serial *uart, uint8_t value)
{
	/* Enabling the THRE interrupt with THR empty raises it at once. */
	if ((value & IER_THR_EMPTY) && !(uart->ier & IER_THR_EMPTY))
		uart->thr_empty_pending = true;
	uart->ier = value & IER_MASK;
}

static void serial_write(struct serial *uart, unsigned int reg, uint8_t value)
{
	bool dlab = uart->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			uart->dll = value;
		else
			transmit(uart, value);
		break;
	case UART_IER:
		if (dlab)
			uart->dlm = value;
		else
			write_ier(uart, value);
		break;
	case UART_IIR_FCR:
		write_fcr(uart, value);
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		uart->mcr = value & MCR_MASK;
		break;
	case UART_SCR:
		uart->scr = value;
		break;
	default:
		break;		/* LSR and MSR are read-only */
	}
}

/* Wider accesses touch consecutive registers, as on an 8-bit ISA bus. */
static void serial_access(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned int size, bool is_write)
{
	struct serial *uart = opaque;
	unsigned int i;

	pthread_mutex_lock(&uart->lock);
	for (i = 0; i < size; i++) {
		unsigned int reg = offset + i;

		if (reg >= UART_NR_REGS) {
			if (!is_write)
				data[i] = 0xff;
		} else if (is_write) {
			serial_write(uart, reg, data[i]);
		} else {
			data[i] = serial_read(uart, reg);
		}
	}
	update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
}

size_t serial_rx_space(struct serial *uart)
{
	size_t space;

	pthread_mutex_lock(&uart->lock);
	space = RX_FIFO_SIZE - uart->rx_count;
	pthread_mutex_unlock(&uart->lock);
	return space;
}

void serial_receive(struct serial *uart, const uint8_t *bytes, size_t len)
{
	size_t i;

	pthread_mutex_lock(&uart->lock);
	for (i = 0; i < len; i++)
		rx_push(uart, bytes[i]);
	update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
}

struct serial *serial_create(struct vm *vm, uint16_t base, int out_fd, unsigned int irq)
{
	struct serial *uart = calloc(1, sizeof(*uart));

	if (!uart)
		fail(STATUS_SETUP, "out of memory for the UART");
	pthread_mutex_init(&uart->lock, NULL);
	uart->out_fd = out_fd;
	uart->vm = vm;
	uart->irq = irq;
	/* 115200 baud 8N1, what firmware leaves behind. */
	uart->dll = 1;
	uart->lcr = 0x03;
	io_register(&vm->pio, base, UART_NR_REGS, serial_access, uart, "COM1 16550 UART");
	return uart;
}
