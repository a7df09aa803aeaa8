/*
 * The guest owns the keyboard while it runs: no line editing, no echo, and
 * Ctrl-C goes to the guest (console.c has the escape key).  Output
 * post-processing stays on, so a guest's bare "\n" still starts a new line.
 * Every way out of yakvm restores the saved settings: normal return, exit()
 * from an error (atexit), and signals that kill the process.
 */
#include "terminal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static volatile sig_atomic_t raw_fd = -1;

void terminal_restore(void)
{
	int fd = raw_fd;

	if (fd < 0)
		return;
	raw_fd = -1;
	tcsetattr(fd, TCSANOW, &saved);
}

/* A crash must not leave the user's shell in raw mode: restore, then die as before. */
static void restore_and_reraise(int sig)
{
	terminal_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_fatal_handlers(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = { .sa_handler = restore_and_reraise };
	unsigned int i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

bool terminal_enter_raw(int fd)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &saved) < 0)
		return false;
	raw = saved;
	raw.c_lflag &= ~(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	raw.c_iflag &= ~(IXON | ICRNL | INLCR | IGNCR | BRKINT | ISTRIP | PARMRK);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	install_fatal_handlers();
	atexit(terminal_restore);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return false;
	raw_fd = fd;
	return true;
}
