// SPDX-License-Identifier: GPL-2.0
/*
 * A slot moved around the guest-physical space, touched by the guest at
 * each place: the guest always sees the slot's memory where it is now, and
 * nothing where it was.  On yakvm the nested page tables must not grow with
 * every place the slot has been: tables that map nothing any more are
 * freed when the slot moves (the VM's npt_table_pages in debugfs).
 */
#include <stdio.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"

#define SLOT		1
#define SLOT_SIZE	0x1000ULL
#define FIRST_GPA	0x80000000ULL	/* 2 GiB: inside the guest's identity map */
#define STEP		0x200000ULL	/* a new page table each time */
#define MOVES		200
#define MAGIC		0x736c6f74ULL

/* Reads the first word of the slot, wherever the host says it is now. */
static void guest_touch(void)
{
	for (;;) {
		uint64_t gpa = *(volatile uint64_t *)GPA_SCRATCH;

		GUEST_SYNC(*(volatile uint64_t *)gpa, gpa);
	}
}

static uint64_t table_pages(struct vm *vm)
{
	char path[sizeof(vm->debugfs) + 16];

	if (!vm->is_yakvm)
		return 0;
	snprintf(path, sizeof(path), "%s/stats", vm->debugfs);
	return debugfs_value(path, "npt_table_pages");
}

TEST_CASE_OPTS(moved_slot_leaves_no_tables, .timeout_s = 120)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_touch, 0);
	uint64_t *slot = vm_add_memory(v->vm, SLOT, FIRST_GPA, SLOT_SIZE, 0);
	uint64_t *next = gpa_to_hva(v->vm, GPA_SCRATCH), first = 0, pages;
	struct ucall uc;
	int i;

	slot[0] = MAGIC;
	*next = FIRST_GPA;
	for (i = 0; i < MOVES; i++) {
		uint64_t gpa = FIRST_GPA + (uint64_t)i * STEP;

		if (i)
			vm_move_memory(v->vm, SLOT, gpa);
		*next = gpa;
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT(uc.args[0] == MAGIC, "move %d: the guest read 0x%llx at 0x%llx",
			    i, (unsigned long long)uc.args[0], (unsigned long long)gpa);
		if (i == 1)
			first = table_pages(v->vm);
	}
	pages = table_pages(v->vm);
	if (v->vm->is_yakvm) {
		test_log("%d moves: %llu NPT table pages after the second, %llu after the last",
			 MOVES, (unsigned long long)first, (unsigned long long)pages);
		TEST_ASSERT(pages <= first + 1,
			    "the NPT grew from %llu to %llu table pages as the slot moved",
			    (unsigned long long)first, (unsigned long long)pages);
	}
	vm_free(v->vm);
}
