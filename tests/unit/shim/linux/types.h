/* SPDX-License-Identifier: GPL-2.0 */
/* Host-side unit tests: the uapi types, then the kernel's (../kshim.h). */
#include_next <linux/types.h>
