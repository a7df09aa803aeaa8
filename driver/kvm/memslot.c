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
	kvfree(slot->dirty_bitmap);
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

/* ------------------------------------------------------------------ */
/* Dirty logging (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG)         */

/*
 * A slot that logs writes maps its pages read-only in the nested page
 * tables; the first write to a page faults (mmio.c), sets its bit and
 * maps it writable.  Reading the log write-protects the pages it reports
 * again, so each later write is seen.  Writes yakvm makes itself (the
 * emulator, A/D bits) set the bit directly.  All under mmu_lock.
 */
static size_t bitmap_bytes(struct yakvm_slot *slot)
{
	return BITS_TO_LONGS(slot->npages) * sizeof(long);
}

void yakvm_mark_dirty(struct yakvm_slot *slot, u64 gfn)
{
	if (slot->dirty_bitmap)
		__set_bit(gfn - slot->base_gfn, slot->dirty_bitmap);
}

/* Every page of @slot mapped writable now is write-protected; true if any was. */
static bool slot_wrprotect(struct yakvm_vm *vm, struct yakvm_slot *slot)
{
	struct page *page;
	unsigned long idx;
	bool any = false;

	xa_for_each(&slot->pages, idx, page)
		any |= yakvm_npt_wrprotect(vm, slot->base_gfn + idx);
	return any;
}

static int slot_set_logging(struct yakvm_vm *vm, struct yakvm_slot *slot, bool on)
{
	if (on == !!slot->dirty_bitmap)
		return 0;
	if (!on) {
		/* Pages stay read-only until their next write: harmless. */
		kvfree(slot->dirty_bitmap);
		slot->dirty_bitmap = NULL;
		return 0;
	}
	slot->dirty_bitmap = kvzalloc(bitmap_bytes(slot), GFP_KERNEL_ACCOUNT);
	if (!slot->dirty_bitmap)
		return -ENOMEM;
	/*
	 * KVM_DIRTY_LOG_INITIALLY_SET: every page starts dirty and stays
	 * writable until user space clears it (KVM_CLEAR_DIRTY_LOG), which
	 * is when it is write-protected.
	 */
	if (READ_ONCE(vm->dirty_log_manual) & KVM_DIRTY_LOG_INITIALLY_SET) {
		bitmap_set(slot->dirty_bitmap, 0, slot->npages);
		return 0;
	}
	/* No vCPU may go on writing through a TLB entry from before. */
	if (slot_wrprotect(vm, slot))
		yakvm_vm_kick_all(vm, YAKVM_REQ_TLB_FLUSH);
	return 0;
}

long yakvm_get_dirty_log(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_dirty_log log;
	struct yakvm_slot *slot;
	unsigned long *snap = NULL, bit;
	bool flush = false;
	size_t n = 0;
	long r;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	if ((log.slot >> 16) || (u16)log.slot >= YAKVM_MAX_SLOTS)
		return -EINVAL;
	mutex_lock(&vm->mmu_lock);
	slot = vm->slots[(u16)log.slot];
	r = -ENOENT;
	if (!slot || !slot->dirty_bitmap)
		goto out;
	n = bitmap_bytes(slot);
	snap = kvmalloc(n, GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!snap)
		goto out;
	memcpy(snap, slot->dirty_bitmap, n);
	/* With manual protection the log is only read; KVM_CLEAR_DIRTY_LOG clears. */
	if (!(READ_ONCE(vm->dirty_log_manual) & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)) {
		memset(slot->dirty_bitmap, 0, n);
		for_each_set_bit(bit, snap, slot->npages)
			flush |= yakvm_npt_wrprotect(vm, slot->base_gfn + bit);
	}
	/* Reported pages are read-only for every vCPU before anyone sees the log. */
	if (flush)
		yakvm_vm_kick_all(vm, YAKVM_REQ_TLB_FLUSH);
	r = 0;
out:
	mutex_unlock(&vm->mmu_lock);
	if (!r && copy_to_user(log.dirty_bitmap, snap, n))
		r = -EFAULT;
	kvfree(snap);
	return r;
}

/*
 * KVM_CLEAR_DIRTY_LOG (api.rst 4.118): the pages set in the given bitmap,
 * from first_page (a multiple of 64) on, are clean again and write-protected
 * so their next write is logged.  num_pages is a multiple of 64 or reaches
 * the end of the slot, as KVM checks it.
 */
long yakvm_clear_dirty_log(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_clear_dirty_log log;
	struct yakvm_slot *slot;
	unsigned long *mask = NULL, bit;
	bool flush = false;
	long r;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	if ((log.slot >> 16) || (u16)log.slot >= YAKVM_MAX_SLOTS || (log.first_page & 63))
		return -EINVAL;
	mutex_lock(&vm->mmu_lock);
	slot = vm->slots[(u16)log.slot];
	r = -ENOENT;
	if (!slot || !slot->dirty_bitmap)
		goto out;
	r = -EINVAL;
	if (log.first_page > slot->npages ||
	    log.num_pages > slot->npages - log.first_page ||
	    (log.num_pages < slot->npages - log.first_page && (log.num_pages & 63)))
		goto out;
	r = 0;
	if (!log.num_pages)
		goto out;
	mask = vmemdup_user(log.dirty_bitmap,
			    BITS_TO_LONGS(log.num_pages) * sizeof(long));
	if (IS_ERR(mask)) {
		r = PTR_ERR(mask);
		mask = NULL;
		goto out;
	}
	for_each_set_bit(bit, mask, log.num_pages) {
		u64 idx = log.first_page + bit;

		if (!__test_and_clear_bit(idx, slot->dirty_bitmap))
			continue;
		flush |= yakvm_npt_wrprotect(vm, slot->base_gfn + idx);
	}
	if (flush)
		yakvm_vm_kick_all(vm, YAKVM_REQ_TLB_FLUSH);
out:
	mutex_unlock(&vm->mmu_lock);
	kvfree(mask);
	return r;
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
	if (slot_set_logging(vm, slot, mem->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
		kfree(slot);
		return -ENOMEM;
	}
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

	if (mem->flags & ~(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES))
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
		   ((old->flags ^ mem->flags) & KVM_MEM_READONLY)) {
		/*
		 * Like KVM: size, backing and READONLY of a slot cannot
		 * change; it may move, and start or stop logging writes.
		 */
		r = -EINVAL;
	} else {
		if (old->base_gfn != gfn)
			r = slot_move(vm, old, gfn);
		if (!r)
			r = slot_set_logging(vm, old, mem->flags & KVM_MEM_LOG_DIRTY_PAGES);
		if (!r)
			old->flags = mem->flags;
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
		if (write) {
			memcpy(va + off, buf, n);
			yakvm_mark_dirty(slot, gpa >> PAGE_SHIFT);
		} else {
			memcpy(buf, va + off, n);
		}
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
	if (!r)
		yakvm_mark_dirty(slot, gpa >> PAGE_SHIFT);
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
