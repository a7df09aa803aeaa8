/*
 * ptyrun: runs a command with a pseudo-terminal as its stdin and stdout, so
 * tests can check what yakvm does to a terminal.
 *
 *   ptyrun [-w MS] [-i BYTES] [-k SIGNAL] -- COMMAND [ARGS...]
 *
 * After MS milliseconds (default 1000) it reports whether the terminal is
 * in raw mode, then types BYTES (C escapes \NNN octal allowed) and/or sends
 * SIGNAL to the command.  It relays the command's terminal output to stdout
 * and, once the command has ended, prints on stderr:
 *   ptyrun: raw while running: yes|no
 *   ptyrun: exit N | ptyrun: killed by signal N
 *   ptyrun: terminal restored: yes|no
 * and exits with the command's status (128 + N when killed by a signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_WAIT_MS 5000

struct options {
	int wait_ms;
	const char *input;
	int signal;
	char **command;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "\001x" -> bytes 0x01 'x'. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7') {
			out[n++] = (char)strtol(s + 1, (char **)&s, 8);
			continue;
		}
		out[n++] = *s++;
	}
	return n;
}

static void parse(int argc, char **argv, struct options *o)
{
	int c;

	o->wait_ms = 1000;
	while ((c = getopt(argc, argv, "w:i:k:")) != -1) {
		switch (c) {
		case 'w': o->wait_ms = atoi(optarg); break;
		case 'i': o->input = optarg; break;
		case 'k': o->signal = atoi(optarg); break;
		default: exit(2);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: ptyrun [-w MS] [-i BYTES] [-k SIGNAL] -- COMMAND...\n");
		exit(2);
	}
	o->command = argv + optind;
}

static pid_t spawn_on(const char *slave_name, char **command)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	setsid();
	fd = open(slave_name, O_RDWR);	/* becomes the controlling terminal */
	if (fd < 0)
		_exit(127);
	dup2(fd, 0);
	dup2(fd, 1);
	execvp(command[0], command);
	_exit(127);
}

static void relay(int master)
{
	char buf[256];
	ssize_t n = read(master, buf, sizeof(buf));

	if (n > 0 && write(1, buf, n) < 0)
		exit(3);
}

/* Relays output until @deadline; returns true once the child has exited. */
static bool pump_until(int master, pid_t pid, long deadline, int *status)
{
	struct pollfd p = { .fd = master, .events = POLLIN };

	while (now_ms() < deadline) {
		if (poll(&p, 1, 10) > 0 && (p.revents & POLLIN))
			relay(master);
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
	}
	return false;
}

static bool same_modes(const struct termios *a, const struct termios *b)
{
	return a->c_lflag == b->c_lflag && a->c_iflag == b->c_iflag &&
	       a->c_oflag == b->c_oflag;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct termios before, during, after;
	char bytes[256];
	int master, slave, status = 0;
	pid_t pid;

	parse(argc, argv, &o);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return perror("ptyrun: pty"), 2;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &before))
		return perror("ptyrun: slave"), 2;
	pid = spawn_on(ptsname(master), o.command);

	if (!pump_until(master, pid, now_ms() + o.wait_ms, &status)) {
		tcgetattr(slave, &during);
		fprintf(stderr, "ptyrun: raw while running: %s\n",
			during.c_lflag & (ICANON | ECHO) ? "no" : "yes");
		if (o.input && write(master, bytes, unescape(o.input, bytes)) < 0)
			perror("ptyrun: write");
		if (o.signal)
			kill(pid, o.signal);
		if (!pump_until(master, pid, now_ms() + EXIT_WAIT_MS, &status)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "ptyrun: command still running after %d ms; killed\n",
				EXIT_WAIT_MS);
		}
	}
	while (poll(&(struct pollfd){ .fd = master, .events = POLLIN }, 1, 0) > 0)
		relay(master);
	tcgetattr(slave, &after);
	if (WIFSIGNALED(status))
		fprintf(stderr, "ptyrun: killed by signal %d\n", WTERMSIG(status));
	else
		fprintf(stderr, "ptyrun: exit %d\n", WEXITSTATUS(status));
	fprintf(stderr, "ptyrun: terminal restored: %s\n", same_modes(&before, &after) ? "yes" : "no");
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
