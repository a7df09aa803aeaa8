/* Names of image formats and CPU modes, as the command line spells them. */
#include "config.h"

#include <string.h>

#include "util.h"

static const char *const format_names[] = {
	[FORMAT_AUTO] = "auto", [FORMAT_FLAT] = "flat", [FORMAT_ELF] = "elf",
	[FORMAT_MULTIBOOT] = "multiboot", [FORMAT_BZIMAGE] = "bzimage",
};

static const char *const mode_names[] = {
	[MODE_REAL] = "real", [MODE_PROT] = "prot", [MODE_LONG] = "long",
};

static const char *const irqchip_names[] = {
	[IRQCHIP_AUTO] = "auto", [IRQCHIP_USER] = "user", [IRQCHIP_KERNEL] = "kernel",
};

/* Index of @name in @names, or -1. */
static int name_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *format_name(enum image_format format)
{
	return format_names[format];
}

bool format_from_name(const char *name, enum image_format *format)
{
	int i = name_index(format_names, ARRAY_SIZE(format_names), name);

	if (i >= 0)
		*format = i;
	return i >= 0;
}

const char *mode_name(enum cpu_mode mode)
{
	return mode_names[mode];
}

bool mode_from_name(const char *name, enum cpu_mode *mode)
{
	int i = name_index(mode_names, ARRAY_SIZE(mode_names), name);

	if (i >= 0)
		*mode = i;
	return i >= 0;
}

const char *irqchip_name(enum irqchip_mode irqchip)
{
	return irqchip_names[irqchip];
}

bool irqchip_from_name(const char *name, enum irqchip_mode *irqchip)
{
	int i = name_index(irqchip_names, ARRAY_SIZE(irqchip_names), name);

	if (i >= 0)
		*irqchip = i;
	return i >= 0;
}
