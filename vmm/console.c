/*
 * stdin -> UART receive FIFO.  On a terminal (raw mode, terminal.c) Ctrl-A
 * starts a two-key command as in QEMU: Ctrl-A x quits, Ctrl-A Ctrl-A sends
 * one Ctrl-A; any other key after Ctrl-A is sent on its own.  Piped input
 * is passed through unchanged.  Reads never take more than the FIFO can
 * hold, so nothing is dropped: the rest waits in the pipe.
 */
#include "console.h"

#include <errno.h>
#include <unistd.h>

#include "devices/devices.h"
#include "terminal.h"

void console_init(struct console *con, int fd, struct serial *uart)
{
	con->fd = fd;
	con->uart = uart;
	con->escape_pending = false;
	con->at_eof = false;
	con->is_terminal = terminal_enter_raw(fd);
}

bool console_wants_input(struct console *con)
{
	return !con->at_eof && serial_rx_space(con->uart) > 0;
}

/* Applies the escape key to @in; returns how many bytes remain in @out. */
static size_t filter_escape(struct console *con, const uint8_t *in, size_t n,
			    uint8_t *out, bool *quit)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (con->escape_pending) {
			con->escape_pending = false;
			if (in[i] == CONSOLE_QUIT_KEY) {
				*quit = true;
				return kept;
			}
			out[kept++] = in[i];
		} else if (in[i] == CONSOLE_ESCAPE_KEY) {
			con->escape_pending = true;
		} else {
			out[kept++] = in[i];
		}
	}
	return kept;
}

enum console_event console_read(struct console *con)
{
	uint8_t in[64], out[64];
	size_t space = serial_rx_space(con->uart);
	bool quit = false;
	ssize_t n;

	if (space > sizeof(in))
		space = sizeof(in);
	if (space == 0)
		return CONSOLE_INPUT;
	n = read(con->fd, in, space);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return CONSOLE_INPUT;
	if (n <= 0) {
		con->at_eof = true;
		return CONSOLE_EOF;
	}
	if (!con->is_terminal) {
		serial_receive(con->uart, in, n);
		return CONSOLE_INPUT;
	}
	serial_receive(con->uart, out, filter_escape(con, in, n, out, &quit));
	return quit ? CONSOLE_QUIT : CONSOLE_INPUT;
}
