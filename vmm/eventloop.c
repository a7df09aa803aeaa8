/*
 * The main thread's loop.  vCPU threads never touch stdin or handle process
 * signals: SIGINT/SIGTERM/SIGHUP/SIGQUIT arrive here through a signalfd,
 * keyboard input is polled here, and a vCPU that wants the VM stopped (debug
 * exit, triple fault, last HLT, error) writes the VM's stop eventfd.
 */
#include "eventloop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "console.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

/* While the UART's FIFO is full, look again this often for room. */
#define RX_FULL_RETRY_MS	10

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static int signal_fd = -1;

static void stop_signal_set(sigset_t *set)
{
	unsigned int i;

	sigemptyset(set);
	for (i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(set, stop_signals[i]);
}

static int open_signalfd(void)
{
	sigset_t set;
	int fd;

	stop_signal_set(&set);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		fail(STATUS_SETUP, "signalfd: %s", strerror(errno));
	return fd;
}

void eventloop_block_signals(void)
{
	sigset_t set;

	stop_signal_set(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/*
	 * An ignored signal is discarded before signalfd can see it, and a shell
	 * starts background jobs with SIGINT ignored.  yakvm promises to stop
	 * cleanly on SIGINT and SIGTERM, so it takes them back (they stay
	 * blocked: only the signalfd receives them).  SIGHUP and SIGQUIT keep
	 * an inherited "ignore", so nohup still works.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal_fd = open_signalfd();
	/* A closed stdout must not kill the VMM; writes just fail. */
	signal(SIGPIPE, SIG_IGN);
}

static void handle_signal(struct vm *vm, int sfd)
{
	struct signalfd_siginfo si;
	const char *name;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	name = sigabbrev_np(si.ssi_signo);
	msg("received SIG%s; stopping the VM", name ? name : "?");
	vm_request_stop(vm, STATUS_SIGNAL_BASE + si.ssi_signo);
}

static void handle_console(struct vm *vm, struct console *con)
{
	if (console_read(con) == CONSOLE_QUIT) {
		msg("quit by the escape key (Ctrl-A x)");
		vm_request_stop(vm, STATUS_QUIT);
	}
}

int eventloop_run(struct vm *vm, struct console *con)
{
	int sfd = signal_fd;

	while (!vm_is_stopping(vm)) {
		bool input_open = !con->at_eof;
		bool take_input = console_wants_input(con);
		struct pollfd fds[3] = {
			{ .fd = vm->stop_event_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = take_input ? con->fd : -1, .events = POLLIN },
		};
		int timeout = input_open && !take_input ? RX_FULL_RETRY_MS : -1;

		if (poll(fds, ARRAY_SIZE(fds), timeout) < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			vm_request_stop(vm, STATUS_INTERNAL);
		} else if (fds[1].revents) {
			handle_signal(vm, sfd);
		} else if (fds[2].revents) {
			handle_console(vm, con);
		}
	}
	close(sfd);
	return vm_stop_status(vm);
}
