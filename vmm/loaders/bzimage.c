/*
 * Linux bzImage: recognised here so that `--format auto` names it; the
 * loader itself (boot_params, 64-bit boot protocol, initrd) is a later issue.
 * Documentation/arch/x86/boot.rst: the setup header's "HdrS" magic sits at
 * file offset 0x202, the boot sector signature 0xAA55 at 0x1FE.
 */
#include <string.h>

#include "loader.h"
#include "../status.h"
#include "../util.h"

#define BOOT_FLAG_OFFSET	0x1fe
#define HEADER_MAGIC_OFFSET	0x202

bool bzimage_detect(const struct image *img)
{
	if (img->size < HEADER_MAGIC_OFFSET + 4)
		return false;
	return img->data[BOOT_FLAG_OFFSET] == 0x55 &&
	       img->data[BOOT_FLAG_OFFSET + 1] == 0xaa &&
	       memcmp(img->data + HEADER_MAGIC_OFFSET, "HdrS", 4) == 0;
}

void load_bzimage(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		  struct boot_cpu *boot)
{
	(void)vm;
	(void)cfg;
	(void)boot;
	fail(STATUS_USAGE, "%s is a Linux bzImage; the bzimage loader is not implemented yet",
	     img->path);
}
