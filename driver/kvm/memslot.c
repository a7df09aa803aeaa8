// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots (KVM_SET_USER_MEMORY_REGION): guest-physical ranges backed by
 * the VMM's memory.  Pages are pinned when the guest (or the emulator) first
 * touches them and stay pinned until their slot or the VM goes; the nested
 * page tables only ever point at pinned pages, so a VMM that unmaps or remaps
 * its memory cannot make a guest reach a freed page.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "yakvm.h"

/* Locked-memory accounting is charged in batches of this many pages. */
#define ACCOUNT_BATCH	512

/* The highest guest-physical address NPT can map on this host (exclusive). */
u64 yakvm_max_gpa(void)
{
	unsigned int phys_bits = cpuid_eax(0x80000008) & 0xff;
	unsigned int npt_bits = pgtable_l5_enabled() ? 57 : 48;

	return 1ULL << min(phys_bits, npt_bits);
}

/* Called with mmu_lock held. */
struct yakvm_slot *yakvm_find_slot(struct yakvm_vm *vm, u64 gfn)
{
	int i;

	for (i = 0; i < YAKVM_MAX_SLOTS; i++) {
		struct yakvm_slot *s = vm->slots[i];

		if (s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

static bool slots_overlap(struct yakvm_vm *vm, int skip, u64 gfn, u64 npages)
{
	int i;

	for (i = 0; i < YAKVM_MAX_SLOTS; i++) {
		struct yakvm_slot *s = vm->slots[i];

		if (!s || i == skip)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

static int account_one_page(struct yakvm_vm *vm)
{
	int r;

	if (vm->pinned_pages < vm->accounted_pages)
		return 0;
	r = account_locked_vm(vm->mm, ACCOUNT_BATCH, true);
	if (r)
		return r;
	vm->accounted_pages += ACCOUNT_BATCH;
	return 0;
}

/*
 * The pinned page behind @gfn of @slot, pinning it on first use.
 * Called with mmu_lock held, in the VM owner's process.
 */
int yakvm_slot_page(struct yakvm_vm *vm, struct yakvm_slot *slot, u64 gfn,
		    struct page **pagep)
{
	unsigned long idx = gfn - slot->base_gfn;
	unsigned int gup = FOLL_LONGTERM;
	struct page *page;
	int r;

	page = xa_load(&slot->pages, idx);
	if (page) {
		*pagep = page;
		return 0;
	}
	if (current->mm != vm->mm)
		return -EFAULT;
	if (!(slot->flags & KVM_MEM_READONLY))
		gup |= FOLL_WRITE;
	r = account_one_page(vm);
	if (r)
		return r;
	r = pin_user_pages_fast(slot->hva + idx * PAGE_SIZE, 1, gup, &page);
	if (r != 1)
		return r < 0 ? r : -EFAULT;
	r = xa_err(xa_store(&slot->pages, idx, page, GFP_KERNEL_ACCOUNT));
	if (r) {
		unpin_user_page(page);
		return r;
	}
	slot->npinned++;
	vm->pinned_pages++;
	atomic_long_inc(&yakvm_counters.pinned_pages);
	*pagep = page;
	return 0;
}

static void slot_unpin_all(struct yakvm_vm *vm, struct yakvm_slot *slot)
{
	bool dirty = !(slot->flags & KVM_MEM_READONLY);
	struct page *page;
	unsigned long idx;

	xa_for_each(&slot->pages, idx, page)
		unpin_user_pages_dirty_lock(&page, 1, dirty);
	xa_destroy(&slot->pages);
	vm->pinned_pages -= slot->npinned;
	atomic_long_sub(slot->npinned, &yakvm_counters.pinned_pages);
	slot->npinned = 0;
}

/*
 * Removes @slot's translations from the NPT, and the tables that map
 * nothing else any more (so moving a slot around does not leave tables
 * behind); every vCPU is out of the guest, and will flush, before the
 * tables are freed and the caller unpins the pages.
 */
static void slot_unmap(struct yakvm_vm *vm, struct yakvm_slot *slot)
{
	struct page *page;
	unsigned long idx;
	LIST_HEAD(freed);

	xa_for_each(&slot->pages, idx, page)
		yakvm_npt_unmap(vm, slot->base_gfn + idx, 1);
	yakvm_npt_prune(vm, slot->base_gfn, slot->npages, &freed);
	yakvm_vm_kick_all(vm, YAKVM_REQ_TLB_FLUSH);
	yakvm_npt_free_tables(vm, &freed);
}

static void slot_free(struct yakvm_vm *vm, struct yakvm_slot *slot)
{
	slot_unpin_all(vm, slot);
	vm->slots[slot->id] = NULL;
	kfree(slot);
	atomic_long_dec(&yakvm_counters.slots);
}

/* VM teardown: no vCPU can run any more, so no flush is needed. */
void yakvm_free_slots(struct yakvm_vm *vm)
{
	int i;

	for (i = 0; i < YAKVM_MAX_SLOTS; i++)
		if (vm->slots[i])
			slot_free(vm, vm->slots[i]);
	if (vm->accounted_pages)
		account_locked_vm(vm->mm, vm->accounted_pages, false);
	vm->accounted_pages = 0;
}

static int slot_create(struct yakvm_vm *vm, u16 id, u64 gfn, u64 npages,
		       const struct kvm_userspace_memory_region *mem)
{
	struct yakvm_slot *slot;

	if (slots_overlap(vm, -1, gfn, npages))
		return -EEXIST;
	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		return -ENOMEM;
	slot->id = id;
	slot->flags = mem->flags;
	slot->base_gfn = gfn;
	slot->npages = npages;
	slot->hva = mem->userspace_addr;
	xa_init(&slot->pages);
	vm->slots[id] = slot;
	atomic_long_inc(&yakvm_counters.slots);
	return 0;
}

/* KVM_MR_MOVE: same memory, new guest-physical base. */
static int slot_move(struct yakvm_vm *vm, struct yakvm_slot *slot, u64 gfn)
{
	if (slots_overlap(vm, slot->id, gfn, slot->npages))
		return -EEXIST;
	slot_unmap(vm, slot);
	slot->base_gfn = gfn;
	return 0;
}

static int check_region(const struct kvm_userspace_memory_region *mem)
{
	u64 end = mem->guest_phys_addr + mem->memory_size;

	if (mem->flags & ~KVM_MEM_READONLY)
		return -EINVAL;
	if ((mem->memory_size | mem->guest_phys_addr | mem->userspace_addr) &
	    ~PAGE_MASK)
		return -EINVAL;
	if (!access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	if ((mem->slot >> 16) != 0 || (u16)mem->slot >= YAKVM_MAX_SLOTS)
		return -EINVAL;
	if (end < mem->guest_phys_addr)
		return -EINVAL;
	if (mem->memory_size && end > yakvm_max_gpa())
		return -EINVAL;
	return 0;
}

int yakvm_set_memory_region(struct yakvm_vm *vm,
			    const struct kvm_userspace_memory_region *mem)
{
	u64 gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	struct yakvm_slot *old;
	u16 id = (u16)mem->slot;
	int r;

	r = check_region(mem);
	if (r)
		return r;

	mutex_lock(&vm->mmu_lock);
	old = vm->slots[id];
	if (!npages) {
		r = -EINVAL;
		if (old) {
			slot_unmap(vm, old);
			slot_free(vm, old);
			r = 0;
		}
	} else if (!old) {
		r = slot_create(vm, id, gfn, npages, mem);
	} else if (old->hva != mem->userspace_addr || old->npages != npages ||
		   old->flags != mem->flags) {
		/* Like KVM: size, backing and flags of a slot cannot change. */
		r = -EINVAL;
	} else if (old->base_gfn != gfn) {
		r = slot_move(vm, old, gfn);
	}
	if (!r)
		vm->stats.slot_changes++;
	mutex_unlock(&vm->mmu_lock);
	return r;
}

/*
 * Copy between guest-physical memory and a kernel buffer.  Returns 0, or
 * -ENOENT when part of the range is not RAM (MMIO), -EPERM when writing a
 * read-only slot, or the error from pinning.
 */
static int access_gpa(struct yakvm_vm *vm, u64 gpa, void *buf,
		      unsigned int len, bool write)
{
	int r = 0;

	mutex_lock(&vm->mmu_lock);
	while (len) {
		unsigned int off = offset_in_page(gpa);
		unsigned int n = min_t(unsigned int, len, PAGE_SIZE - off);
		struct yakvm_slot *slot = yakvm_find_slot(vm, gpa >> PAGE_SHIFT);
		struct page *page;
		void *va;

		if (!slot) {
			r = -ENOENT;
			break;
		}
		if (write && (slot->flags & KVM_MEM_READONLY)) {
			r = -EPERM;
			break;
		}
		r = yakvm_slot_page(vm, slot, gpa >> PAGE_SHIFT, &page);
		if (r)
			break;
		va = kmap_local_page(page);
		if (write)
			memcpy(va + off, buf, n);
		else
			memcpy(buf, va + off, n);
		kunmap_local(va);
		gpa += n;
		buf += n;
		len -= n;
	}
	mutex_unlock(&vm->mmu_lock);
	return r;
}

/*
 * Compare-and-exchange a naturally aligned 4- or 8-byte value in guest RAM,
 * atomically with respect to the guest's other vCPUs (for page-table A/D
 * bits, paging.c).  Returns 0 when *@old was there and is now @new;
 * -EAGAIN with *@old set to what is there otherwise; -ENOENT, -EPERM or a
 * pinning error as access_gpa.
 */
int yakvm_cmpxchg_gpa(struct yakvm_vm *vm, u64 gpa, u64 *old, u64 new,
		      unsigned int size)
{
	struct yakvm_slot *slot;
	struct page *page;
	void *va;
	int r;

	if ((size != 4 && size != 8) || (gpa & (size - 1)))
		return -EINVAL;
	mutex_lock(&vm->mmu_lock);
	slot = yakvm_find_slot(vm, gpa >> PAGE_SHIFT);
	r = -ENOENT;
	if (!slot)
		goto out;
	r = -EPERM;
	if (slot->flags & KVM_MEM_READONLY)
		goto out;
	r = yakvm_slot_page(vm, slot, gpa >> PAGE_SHIFT, &page);
	if (r)
		goto out;
	va = kmap_local_page(page) + offset_in_page(gpa);
	if (size == 8) {
		r = try_cmpxchg64((u64 *)va, old, new) ? 0 : -EAGAIN;
	} else {
		u32 o = *old;

		r = try_cmpxchg((u32 *)va, &o, (u32)new) ? 0 : -EAGAIN;
		*old = o;
	}
	kunmap_local(va);
out:
	mutex_unlock(&vm->mmu_lock);
	return r;
}

int yakvm_read_gpa(struct yakvm_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	return access_gpa(vm, gpa, buf, len, false);
}

int yakvm_write_gpa(struct yakvm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len)
{
	return access_gpa(vm, gpa, (void *)buf, len, true);
}
