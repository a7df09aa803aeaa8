/* SPDX-License-Identifier: GPL-2.0 */
/* Host-side unit tests: see ../kshim.h. */
#include "../kshim.h"
