/* Reading an image file and placing bytes of it in guest memory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

static void read_all(struct image *img, int fd)
{
	size_t done = 0;
	ssize_t n;

	while (done < img->size) {
		n = read(fd, img->data + done, img->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail(STATUS_USAGE, "cannot read image %s: %s", img->path,
			     n < 0 ? strerror(errno) : "file shrank while reading");
		done += n;
	}
}

void image_read(struct image *img, const char *path)
{
	struct stat st;
	int fd;

	img->path = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(STATUS_USAGE, "cannot open image %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		fail(STATUS_USAGE, "cannot stat image %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		fail(STATUS_USAGE, "image %s is not a regular file", path);
	if (st.st_size == 0)
		fail(STATUS_USAGE, "image %s is empty", path);
	img->size = st.st_size;
	img->data = malloc(img->size);
	if (!img->data)
		fail(STATUS_SETUP, "out of memory reading image %s", path);
	read_all(img, fd);
	close(fd);
}

static bool overlaps_boot_area(uint64_t gpa, uint64_t len)
{
	return gpa < BOOT_AREA_END && BOOT_AREA_START < gpa + len;
}

void load_to_guest(struct vm *vm, uint64_t gpa, const void *src, uint64_t len,
		   uint64_t memsz, bool reserve_boot_area, const char *what)
{
	uint8_t *dst;

	if (memsz > vm->mem_size)
		fail(STATUS_USAGE, "%s (%" PRIu64 " bytes) is larger than guest memory (%" PRIu64
		     " MiB); raise --mem", what, memsz, vm->mem_size / MiB);
	dst = vm_guest_ram(vm, gpa, memsz);
	if (!dst)
		fail(STATUS_USAGE, "%s at %#" PRIx64 "-%#" PRIx64 " is outside guest memory "
		     "(%" PRIu64 " MiB from address 0)", what, gpa, gpa + memsz - 1,
		     vm->mem_size / MiB);
	if (reserve_boot_area && overlaps_boot_area(gpa, memsz))
		fail(STATUS_USAGE, "%s at %#" PRIx64 "-%#" PRIx64 " overlaps yakvm's boot tables "
		     "at %#llx-%#llx", what, gpa, gpa + memsz - 1, BOOT_AREA_START,
		     BOOT_AREA_END - 1);
	memcpy(dst, src, len);
	memset(dst + len, 0, memsz - len);
}
