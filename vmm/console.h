/* Keyboard input for the guest: stdin to the UART, with an escape key on a terminal. */
#ifndef YAKVM_CONSOLE_H
#define YAKVM_CONSOLE_H

#include <stdbool.h>

struct serial;

struct console {
	int fd;
	bool is_terminal;
	bool escape_pending;	/* Ctrl-A seen, waiting for the command key */
	bool at_eof;
	struct serial *uart;
};

enum console_event {
	CONSOLE_INPUT,		/* zero or more bytes went to the UART */
	CONSOLE_EOF,		/* no more input will come */
	CONSOLE_QUIT,		/* the user typed the escape sequence */
};

#define CONSOLE_ESCAPE_KEY	0x01	/* Ctrl-A */
#define CONSOLE_QUIT_KEY	'x'

void console_init(struct console *con, int fd, struct serial *uart);
/* Reads what the UART can take now and forwards it. */
enum console_event console_read(struct console *con);
/* Whether to poll the fd: input is still open and the UART has room. */
bool console_wants_input(struct console *con);

#endif
