/*
 * dirty-writer: a program for the Linux guest (its initramfs's
 * /bin/dirty-writer) that keeps writing guest memory while the VM migrates
 * (tests/qemu/qemu-migrate.test), and notices a page whose last write did
 * not arrive.
 *
 *   dirty-writer MIB THREADS STATUS-FILE
 *
 * Every thread owns the pages p of the MIB MiB buffer with p % THREADS equal
 * to its number, and runs on CPU (number % online CPUs).  Pass k writes, in
 * each of its pages, k and p in the first two words and k ^ p in the last
 * one, after checking that the page still holds what pass k - 1 wrote.  A
 * page that migration lost (dirty logging missed a write, or a page went
 * over stale) holds an older pass and is reported on stderr as "LOST".
 * Passes are paced (PASS_PAUSE_US) so that a precopy migration converges
 * under the test VM's slow nested TCG.
 *
 * Twice a second the main thread rewrites STATUS-FILE with one line,
 * "passes N0 N1 ... lost L" -- the counters the test compares before and
 * after migration: they must go on from where they were.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_THREADS	64
#define PAGE_WORDS	(4096 / sizeof(uint64_t))
#define PASS_PAUSE_US	20000

struct writer {
	pthread_t thread;
	unsigned int nr;
	atomic_ulong passes;
};

static struct writer writers[MAX_THREADS];
static unsigned int nr_threads;
static size_t nr_pages;
static uint64_t *buf;
static atomic_ulong lost;

static void die(const char *what)
{
	fprintf(stderr, "dirty-writer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check_and_write(uint64_t *page, uint64_t p, uint64_t k)
{
	uint64_t want = k - 1;
	uint64_t w0 = page[0], w1 = page[1], wl = page[PAGE_WORDS - 1];

	/* Pass 1 finds the zeroes of a fresh mapping. */
	if (w0 != want || w1 != (want ? p : 0) || wl != (want ? want ^ p : 0)) {
		atomic_fetch_add(&lost, 1);
		fprintf(stderr,
			"dirty-writer: LOST page %llu before pass %llu: holds %llu/%llu/%llu, wanted pass %llu\n",
			(unsigned long long)p, (unsigned long long)k,
			(unsigned long long)w0, (unsigned long long)w1,
			(unsigned long long)wl, (unsigned long long)want);
	}
	page[0] = k;
	page[1] = p;
	page[PAGE_WORDS - 1] = k ^ p;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	uint64_t k, p;

	CPU_ZERO(&set);
	CPU_SET(w->nr % (cpus > 0 ? cpus : 1), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	for (k = 1;; k++) {
		for (p = w->nr; p < nr_pages; p += nr_threads)
			check_and_write(buf + p * PAGE_WORDS, p, k);
		atomic_store(&w->passes, k);
		usleep(PASS_PAUSE_US);
	}
	return NULL;
}

static void write_status(const char *path)
{
	char tmp[4096];
	FILE *f;
	unsigned int i;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fputs("passes", f);
	for (i = 0; i < nr_threads; i++)
		fprintf(f, " %lu", atomic_load(&writers[i].passes));
	fprintf(f, " lost %lu\n", atomic_load(&lost));
	if (fclose(f))
		die(tmp);
	if (rename(tmp, path))
		die("rename");
}

int main(int argc, char **argv)
{
	unsigned long mib;
	unsigned int i;

	if (argc != 4) {
		fprintf(stderr, "usage: dirty-writer MIB THREADS STATUS-FILE\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 0);
	nr_threads = strtoul(argv[2], NULL, 0);
	if (!mib || !nr_threads || nr_threads > MAX_THREADS) {
		fprintf(stderr, "dirty-writer: MIB > 0 and 1 <= THREADS <= %d\n", MAX_THREADS);
		return 2;
	}
	nr_pages = (mib << 20) / 4096;
	buf = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	for (i = 0; i < nr_threads; i++) {
		writers[i].nr = i;
		errno = pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]);
		if (errno)
			die("pthread_create");
	}
	for (;;) {
		write_status(argv[3]);
		usleep(500000);
	}
}
