// SPDX-License-Identifier: GPL-2.0
/*
 * yakvm's debugfs views (see yakvm_debugfs.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "yakvm_debugfs.h"

uint64_t debugfs_value(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char name[64], value[64];

	TEST_ASSERT(f, "cannot open %s", path);
	while (fscanf(f, "%63s %63s", name, value) == 2) {
		if (!strcmp(name, key)) {
			fclose(f);
			return strtoull(value, NULL, 0);
		}
	}
	fclose(f);
	test_fail("%s has no \"%s\"", path, key);
}

uint64_t vcpu_vmcb_field(struct vcpu *v, const char *key)
{
	char path[sizeof(v->vm->debugfs) + 32];

	TEST_ASSERT(v->vm->is_yakvm, "VMCB fields exist only on yakvm");
	TEST_ASSERT(v->vm->debugfs[0], "the VM's debugfs directory was not found");
	snprintf(path, sizeof(path), "%s/vcpu%u-vmcb", v->vm->debugfs, v->id);
	return debugfs_value(path, key);
}

bool yakvm_cpu_state(int cpu, struct yakvm_cpu_state *st)
{
	FILE *f = fopen(YAKVM_DEBUGFS "/cpus", "r");
	char line[256];
	bool found = false;
	int n;

	TEST_ASSERT(f, "cannot open " YAKVM_DEBUGFS "/cpus");
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long hsave, vmsave, writes = 0;

		if (sscanf(line, "cpu %d enabled %d generation %u next_asid %u hsave_pa %llx host_vmsave_pa %llx tsc_aux_writes %llu",
			   &n, &st->enabled, &st->generation, &st->next_asid,
			   &hsave, &vmsave, &writes) >= 6 && n == cpu) {
			st->hsave_pa = hsave;
			st->host_vmsave_pa = vmsave;
			st->tsc_aux_writes = writes;
			found = true;
		}
	}
	fclose(f);
	return found;
}

uint64_t yakvm_sme_mask(void)
{
	return debugfs_value(YAKVM_DEBUGFS "/cpus", "sme_mask");
}
