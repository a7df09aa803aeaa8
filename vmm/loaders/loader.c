/* Format detection and dispatch to the loader of each format. */
#include "loader.h"
#include "../status.h"
#include "../util.h"

enum image_format image_detect(const struct image *img)
{
	size_t offset;

	/* A multiboot header wins over ELF: the kernel asked for that protocol. */
	if (multiboot_find_header(img, &offset))
		return FORMAT_MULTIBOOT;
	if (elf_detect(img))
		return FORMAT_ELF;
	if (bzimage_detect(img))
		return FORMAT_BZIMAGE;
	return FORMAT_FLAT;
}

void loader_check_options(const struct vm_config *cfg, enum image_format format)
{
	const char *name = format_name(format);

	if (format != FORMAT_FLAT) {
		if (cfg->load_set)
			fail(STATUS_USAGE, "--load applies to flat images only (%s is %s)",
			     cfg->image, name);
		if (cfg->entry.set)
			fail(STATUS_USAGE, "--entry applies to flat images only (%s is %s)",
			     cfg->image, name);
		if (cfg->mode_set && format != FORMAT_BZIMAGE)
			fail(STATUS_USAGE, "--mode applies to flat and bzimage images only (%s is "
			     "%s; the format decides the mode)", cfg->image, name);
	}
	if (format == FORMAT_FLAT && cfg->cmdline)
		fail(STATUS_USAGE, "--cmdline is passed to elf, multiboot and bzimage images, "
		     "not to flat ones");
	if (format != FORMAT_BZIMAGE && cfg->initrd)
		fail(STATUS_USAGE, "--initrd is used by the bzimage (Linux) loader only");
}

void load_image(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		enum image_format format, struct boot_cpu *boot)
{
	switch (format) {
	case FORMAT_FLAT:
		load_flat(vm, cfg, img, boot);
		break;
	case FORMAT_ELF:
		load_elf(vm, cfg, img, boot);
		break;
	case FORMAT_MULTIBOOT:
		load_multiboot(vm, cfg, img, boot);
		break;
	case FORMAT_BZIMAGE:
		load_bzimage(vm, cfg, img, boot);
		break;
	case FORMAT_AUTO:
		fail(STATUS_INTERNAL, "load_image: format not resolved");
	}
}
