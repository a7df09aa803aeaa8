/* Messages to stderr and the number/size parsers shared by the CLI and loaders. */
#ifndef YAKVM_UTIL_H
#define YAKVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB UINT64_C(1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* "yakvm: <message>" on stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg() with the time since the first trace() (--trace-exits lines). */
void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg() and exit(status): only before the vCPU threads start. */
_Noreturn void fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* write() all of @buf, retrying on EINTR; output errors are ignored (the
 * guest must not stop because nobody reads its console). */
void write_all(int fd, const void *buf, size_t len);

/* "64M", "2G", "4096", "512k": bytes; false on garbage, zero or overflow. */
bool parse_size(const char *s, uint64_t *bytes);
/* Decimal or 0x-hex, the whole string. */
bool parse_u64(const char *s, uint64_t *value);

#endif
