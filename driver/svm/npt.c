// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page tables (APM 15.25): guest-physical to host-physical, in the
 * host's own long-mode format, 4 or 5 levels like the host's paging (the CPU
 * takes the NPT format from the host's CR4.LA57 at VMRUN).  Only 4 KiB leaves
 * are used; every leaf points at a page pinned by memslot.c.  All changes are
 * made under vm->mmu_lock; the CPU may walk the tables concurrently, so a
 * table is filled before it is linked and entries are written whole.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/mem_encrypt.h>
#include <asm/pgtable.h>

#include "yakvm.h"

/*
 * Every guest-physical access is a user access at the nested level
 * (APM 15.25.5), so U/S is set at every level or nothing resolves.
 */
#define NPT_TABLE_BITS	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)
#define NPT_LEAF_BITS	(_PAGE_PRESENT | _PAGE_USER)

static u64 *npt_alloc_table(struct yakvm_vm *vm)
{
	u64 *table = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (table) {
		vm->npt.table_pages++;
		atomic_long_inc(&yakvm_counters.npt_pages);
	}
	return table;
}

static u64 *npt_next_table(u64 entry)
{
	return __va(__sme_clr(entry & PTE_PFN_MASK));
}

/* The leaf entry for @gfn, creating missing tables when @alloc. */
static u64 *npt_leaf(struct yakvm_vm *vm, u64 gfn, bool alloc)
{
	u64 *table = vm->npt.root;
	int level;

	for (level = vm->npt.levels; level > 1; level--) {
		unsigned int idx = (gfn >> ((level - 1) * 9)) & 511;
		u64 entry = READ_ONCE(table[idx]);

		if (!(entry & _PAGE_PRESENT)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = npt_alloc_table(vm);
			if (!next)
				return ERR_PTR(-ENOMEM);
			entry = __sme_set(__pa(next)) | NPT_TABLE_BITS;
			WRITE_ONCE(table[idx], entry);
		}
		table = npt_next_table(entry);
	}
	return &table[gfn & 511];
}

int yakvm_npt_map(struct yakvm_vm *vm, u64 gfn, struct page *page,
		  bool writable)
{
	u64 *leaf = npt_leaf(vm, gfn, true);
	u64 entry;

	if (IS_ERR(leaf))
		return PTR_ERR(leaf);
	entry = __sme_set(page_to_phys(page)) | NPT_LEAF_BITS;
	if (writable)
		entry |= _PAGE_RW;
	if (!(READ_ONCE(*leaf) & _PAGE_PRESENT)) {
		vm->npt.mapped_pages++;
		vm->stats.npt_pages_mapped++;
	}
	/*
	 * Adding or upgrading a translation needs no TLB flush: the CPU does
	 * not cache a not-present or read-only entry as a stronger one.
	 */
	WRITE_ONCE(*leaf, entry);
	return 0;
}

/* Whether @gfn has a translation, read-only or writable. */
bool yakvm_npt_present(struct yakvm_vm *vm, u64 gfn)
{
	u64 *leaf = npt_leaf(vm, gfn, false);

	return leaf && (READ_ONCE(*leaf) & _PAGE_PRESENT);
}

/* Makes @gfn's translation read-only; true if it was writable (flush then). */
bool yakvm_npt_wrprotect(struct yakvm_vm *vm, u64 gfn)
{
	u64 *leaf = npt_leaf(vm, gfn, false);
	u64 entry;

	if (!leaf)
		return false;
	entry = READ_ONCE(*leaf);
	if (!(entry & _PAGE_PRESENT) || !(entry & _PAGE_RW))
		return false;
	WRITE_ONCE(*leaf, entry & ~_PAGE_RW);
	return true;
}

/* The caller flushes the vCPUs' TLBs before the pages are released. */
void yakvm_npt_unmap(struct yakvm_vm *vm, u64 gfn, u64 npages)
{
	for (; npages; npages--, gfn++) {
		u64 *leaf = npt_leaf(vm, gfn, false);

		if (leaf && (READ_ONCE(*leaf) & _PAGE_PRESENT)) {
			WRITE_ONCE(*leaf, 0);
			vm->npt.mapped_pages--;
		}
	}
}

/*
 * Unlinks the tables under @table (at @level) that map nothing in
 * [@first, @last] any more and puts them on @freed; returns whether @table
 * itself is now empty.  The CPU may still hold translations through an
 * unlinked table: the caller frees them (yakvm_npt_free_tables) only after
 * every vCPU left the guest and will take a fresh ASID.
 */
static bool npt_prune(struct yakvm_vm *vm, u64 *table, int level, u64 base,
		      u64 first, u64 last, struct list_head *freed)
{
	unsigned int shift = (level - 1) * 9;
	bool empty = true;
	int i;

	for (i = 0; i < 512; i++) {
		u64 entry = READ_ONCE(table[i]);
		u64 start = base + ((u64)i << shift);
		u64 end = start + (1ULL << shift) - 1;
		u64 *next;

		if (!(entry & _PAGE_PRESENT))
			continue;
		if (level == 1 || end < first || start > last) {
			empty = false;
			continue;
		}
		next = npt_next_table(entry);
		if (!npt_prune(vm, next, level - 1, start, first, last, freed)) {
			empty = false;
			continue;
		}
		WRITE_ONCE(table[i], 0);
		list_add(&virt_to_page(next)->lru, freed);
	}
	return empty;
}

void yakvm_npt_prune(struct yakvm_vm *vm, u64 gfn, u64 npages,
		     struct list_head *freed)
{
	if (npages)
		npt_prune(vm, vm->npt.root, vm->npt.levels, 0, gfn,
			  gfn + npages - 1, freed);
}

void yakvm_npt_free_tables(struct yakvm_vm *vm, struct list_head *freed)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, freed, lru) {
		list_del(&page->lru);
		__free_page(page);
		vm->npt.table_pages--;
		atomic_long_dec(&yakvm_counters.npt_pages);
	}
}

static void npt_free_table(struct yakvm_vm *vm, u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < 512; i++)
			if (table[i] & _PAGE_PRESENT)
				npt_free_table(vm, npt_next_table(table[i]),
					       level - 1);
	}
	free_page((unsigned long)table);
	vm->npt.table_pages--;
	atomic_long_dec(&yakvm_counters.npt_pages);
}

int yakvm_npt_init(struct yakvm_vm *vm)
{
	vm->npt.levels = pgtable_l5_enabled() ? 5 : 4;
	vm->npt.root = npt_alloc_table(vm);
	return vm->npt.root ? 0 : -ENOMEM;
}

void yakvm_npt_destroy(struct yakvm_vm *vm)
{
	if (vm->npt.root)
		npt_free_table(vm, vm->npt.root, vm->npt.levels);
	vm->npt.root = NULL;
}

phys_addr_t yakvm_npt_root_pa(struct yakvm_vm *vm)
{
	return __sme_set(__pa(vm->npt.root));
}
