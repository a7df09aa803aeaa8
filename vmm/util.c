/* Messages and parsers used everywhere in the VMM. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void vmsg_prefixed(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	/* One write per message, so lines from vCPU threads never interleave. */
	n = snprintf(line, sizeof(line), "yakvm: %s", prefix);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
}

static void vmsg(const char *fmt, va_list ap)
{
	vmsg_prefixed("", fmt, ap);
}

void trace(const char *fmt, ...)
{
	static struct timespec start;
	struct timespec now;
	char stamp[32];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!start.tv_sec)
		start = now;
	snprintf(stamp, sizeof(stamp), "[%4ld.%06ld] ",
		 (long)(now.tv_sec - start.tv_sec - (now.tv_nsec < start.tv_nsec)),
		 (now.tv_nsec - start.tv_nsec + 1000000000L) % 1000000000L / 1000);
	va_start(ap, fmt);
	vmsg_prefixed(stamp, fmt, ap);
	va_end(ap);
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(status);
}

bool parse_u64(const char *s, uint64_t *value)
{
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*value = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0';
}

static int size_shift(char suffix)
{
	switch (toupper((unsigned char)suffix)) {
	case 'K': return 10;
	case 'M': return 20;
	case 'G': return 30;
	case 'T': return 40;
	default: return -1;
	}
}

bool parse_size(const char *s, uint64_t *bytes)
{
	uint64_t n;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return false;
	if (*end) {
		shift = size_shift(*end);
		if (shift < 0 || end[1] != '\0')
			return false;
	}
	if (n == 0 || n > (UINT64_MAX >> shift))
		return false;
	*bytes = n << shift;
	return true;
}

void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}
