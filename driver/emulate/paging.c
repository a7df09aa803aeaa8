// SPDX-License-Identifier: GPL-2.0
/*
 * Guest linear addresses: segment bases and a software walk of the guest's
 * own page tables (APM vol. 2 chapter 5), for the instructions the module
 * emulates (instruction fetch for MMIO and DR accesses, INS/OUTS data).
 * Every table entry is read through the memslots, so a guest pointing its
 * page tables anywhere can reach nothing but its own memory.
 */
#include "yakvm.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR	GENMASK_ULL(51, 12)

/* #PF error code bits (APM 8.4.2). */
#define PFERR_P		BIT(0)
#define PFERR_W		BIT(1)
#define PFERR_U		BIT(2)
#define PFERR_I		BIT(4)

u64 yakvm_seg_base(struct yakvm_vcpu *vcpu, int seg)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	/* In 64-bit mode only FS and GS have a base (APM 4.12.2). */
	if (yakvm_64bit_code(vcpu) && seg != YAKVM_SEG_FS && seg != YAKVM_SEG_GS)
		return 0;
	switch (seg) {
	case YAKVM_SEG_ES: return s->es.base;
	case YAKVM_SEG_CS: return s->cs.base;
	case YAKVM_SEG_SS: return s->ss.base;
	case YAKVM_SEG_DS: return s->ds.base;
	case YAKVM_SEG_FS: return s->fs.base;
	default: return s->gs.base;
	}
}

struct walk {
	struct yakvm_vcpu *vcpu;
	enum yakvm_access acc;
	bool user;		/* CPL 3 */
	bool wp;		/* CR0.WP: supervisor writes honour R/W */
	bool nx;		/* EFER.NXE */
	bool allow_w, allow_u, allow_x;
};

/*
 * Reads the entry at @gpa and sets its accessed bit the way a CPU does: with
 * a locked compare-and-exchange, so that a concurrent update of the entry
 * by another vCPU (or the VMM) is never undone.  An entry that changed in
 * between is simply read again.  A table in a read-only slot keeps its bits.
 */
static int read_pte(struct walk *w, u64 gpa, u64 *pte, unsigned int size)
{
	struct yakvm_vm *vm = w->vcpu->vm;
	u64 v = 0;
	int r;

	if (yakvm_read_gpa(vm, gpa, &v, size))
		return YAKVM_GVA_NOT_RAM;
	while ((v & PTE_P) && !(v & PTE_A)) {
		r = yakvm_cmpxchg_gpa(vm, gpa, &v, v | PTE_A, size);
		if (!r)
			v |= PTE_A;
		if (r != -EAGAIN)
			break;
	}
	*pte = v;
	return YAKVM_GVA_OK;
}

/*
 * The dirty bit of the leaf entry, for a write.  If the entry is no longer
 * what the walk read, the walk starts again: it may now translate to
 * something else, or not at all.
 */
static int set_dirty(struct walk *w, u64 gpa, u64 pte, unsigned int size)
{
	u64 old = pte;
	int r;

	if (w->acc != YAKVM_ACCESS_WRITE || (pte & PTE_D))
		return YAKVM_GVA_OK;
	r = yakvm_cmpxchg_gpa(w->vcpu->vm, gpa, &old, pte | PTE_D, size);
	return r == -EAGAIN ? YAKVM_GVA_RETRY : YAKVM_GVA_OK;
}

static void note_rights(struct walk *w, u64 pte)
{
	w->allow_w &= !!(pte & PTE_RW);
	w->allow_u &= !!(pte & PTE_US);
	if (w->nx)
		w->allow_x &= !(pte & PTE_NX);
}

static int check_rights(struct walk *w, u32 *pf_error)
{
	u32 err = PFERR_P;
	bool ok = true;

	if (w->user && !w->allow_u)
		ok = false;
	if (w->acc == YAKVM_ACCESS_WRITE && !w->allow_w && (w->user || w->wp))
		ok = false;
	if (w->acc == YAKVM_ACCESS_FETCH && !w->allow_x)
		ok = false;
	if (ok)
		return YAKVM_GVA_OK;
	if (w->acc == YAKVM_ACCESS_WRITE)
		err |= PFERR_W;
	if (w->acc == YAKVM_ACCESS_FETCH)
		err |= PFERR_I;
	if (w->user)
		err |= PFERR_U;
	*pf_error = err;
	return YAKVM_GVA_FAULT;
}

static int not_present(struct walk *w, u32 *pf_error)
{
	*pf_error = (w->acc == YAKVM_ACCESS_WRITE ? PFERR_W : 0) |
		    (w->acc == YAKVM_ACCESS_FETCH ? PFERR_I : 0) |
		    (w->user ? PFERR_U : 0);
	return YAKVM_GVA_FAULT;
}

/* Legacy 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE. */
static int walk32(struct walk *w, u32 va, u64 cr3, u64 *gpa, u32 *pf_error)
{
	bool pse = w->vcpu->vmcb->save.cr4 & X86_CR4_PSE;
	u64 pde, pte, pde_gpa, pte_gpa;
	int r;

	pde_gpa = (cr3 & 0xfffff000) + ((va >> 22) & 1023) * 4;
	r = read_pte(w, pde_gpa, &pde, 4);
	if (r)
		return r;
	if (!(pde & PTE_P))
		return not_present(w, pf_error);
	note_rights(w, pde);
	if (pse && (pde & PTE_PS)) {
		r = set_dirty(w, pde_gpa, pde, 4);
		if (r)
			return r;
		/* PSE-36: PDE bits 20:13 are physical address bits 39:32. */
		*gpa = (pde & 0xffc00000) | ((pde >> 13) & 0xff) << 32 |
		       (va & 0x3fffff);
		return check_rights(w, pf_error);
	}
	pte_gpa = (pde & 0xfffff000) + ((va >> 12) & 1023) * 4;
	r = read_pte(w, pte_gpa, &pte, 4);
	if (r)
		return r;
	if (!(pte & PTE_P))
		return not_present(w, pf_error);
	note_rights(w, pte);
	r = set_dirty(w, pte_gpa, pte, 4);
	if (r)
		return r;
	*gpa = (pte & 0xfffff000) | (va & 0xfff);
	return check_rights(w, pf_error);
}

/*
 * PAE and long-mode paging: 8-byte entries, 3 (PAE), 4 or 5 (LA57) levels,
 * with large pages at the 1 GiB and 2 MiB levels.
 */
static int walk64(struct walk *w, u64 va, u64 cr3, int levels, u64 *gpa,
		  u32 *pf_error)
{
	u64 table = levels == 3 ? (cr3 & 0xffffffe0) : (cr3 & PTE_ADDR);
	int level;

	for (level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		unsigned int idx = (va >> shift) & (levels == 3 && level == 3 ? 3 : 511);
		u64 pte_gpa = table + idx * 8, pte;
		int r;

		r = read_pte(w, pte_gpa, &pte, 8);
		if (r)
			return r;
		if (!(pte & PTE_P))
			return not_present(w, pf_error);
		/* PAE PDPTEs carry no access rights (APM 5.3.3). */
		if (!(levels == 3 && level == 3))
			note_rights(w, pte);
		if (level == 1 || (level <= 3 && (pte & PTE_PS) &&
				   !(levels == 3 && level == 3))) {
			u64 mask = (1ULL << shift) - 1;

			r = set_dirty(w, pte_gpa, pte, 8);
			if (r)
				return r;
			*gpa = (pte & PTE_ADDR & ~mask) | (va & mask);
			return check_rights(w, pf_error);
		}
		table = pte & PTE_ADDR;
	}
	return YAKVM_GVA_NOT_RAM;
}

/*
 * Translate a guest linear address.  Returns YAKVM_GVA_OK, YAKVM_GVA_FAULT
 * with the #PF error code the CPU would report, or YAKVM_GVA_NOT_RAM when a
 * page table lies outside guest RAM.
 */
static int walk_tables(struct yakvm_vcpu *vcpu, u64 gva,
		       enum yakvm_access acc, u64 *gpa, u32 *pf_error)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	struct walk w = {
		.vcpu = vcpu,
		.acc = acc,
		.user = s->cpl == 3,
		.wp = s->cr0 & X86_CR0_WP,
		.nx = s->efer & EFER_NX,
		.allow_w = true,
		.allow_u = true,
		.allow_x = true,
	};

	*pf_error = 0;
	if (!(s->cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return YAKVM_GVA_OK;
	}
	if (s->efer & EFER_LMA)
		return walk64(&w, gva, s->cr3, (s->cr4 & X86_CR4_LA57) ? 5 : 4,
			      gpa, pf_error);
	if (s->cr4 & X86_CR4_PAE)
		return walk64(&w, (u32)gva, s->cr3, 3, gpa, pf_error);
	return walk32(&w, (u32)gva, s->cr3, gpa, pf_error);
}

/* A guest that keeps rewriting the entry under the walk gets this many tries. */
#define WALK_RETRIES	64

/*
 * Translate a guest linear address.  Returns YAKVM_GVA_OK, YAKVM_GVA_FAULT
 * with the #PF error code the CPU would report, or YAKVM_GVA_NOT_RAM when a
 * page table lies outside guest RAM (or the guest rewrote it endlessly).
 */
int yakvm_gva_to_gpa(struct yakvm_vcpu *vcpu, u64 gva, enum yakvm_access acc,
		     u64 *gpa, u32 *pf_error)
{
	int tries, r = YAKVM_GVA_RETRY;

	for (tries = 0; tries < WALK_RETRIES && r == YAKVM_GVA_RETRY; tries++)
		r = walk_tables(vcpu, gva, acc, gpa, pf_error);
	return r == YAKVM_GVA_RETRY ? YAKVM_GVA_NOT_RAM : r;
}

/*
 * Copy to or from guest linear memory, page by page.  On a fault nothing
 * beyond the faulting page is touched; vcpu->fault_addr and fault_error
 * describe the #PF for yakvm_inject_page_fault().
 */
static int access_gva(struct yakvm_vcpu *vcpu, u64 gva, void *buf,
		      unsigned int len, enum yakvm_access acc)
{
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gva));
		u32 pf_error;
		u64 gpa;
		int r;

		r = yakvm_gva_to_gpa(vcpu, gva, acc, &gpa, &pf_error);
		if (r == YAKVM_GVA_FAULT) {
			vcpu->fault_addr = gva;
			vcpu->fault_error = pf_error;
			return r;
		}
		if (r)
			return r;
		if (acc == YAKVM_ACCESS_WRITE)
			r = yakvm_write_gpa(vcpu->vm, gpa, buf, n);
		else
			r = yakvm_read_gpa(vcpu->vm, gpa, buf, n);
		if (r)
			return YAKVM_GVA_NOT_RAM;
		gva += n;
		buf += n;
		len -= n;
	}
	return YAKVM_GVA_OK;
}

int yakvm_read_gva(struct yakvm_vcpu *vcpu, u64 gva, void *buf,
		   unsigned int len, enum yakvm_access acc)
{
	return access_gva(vcpu, gva, buf, len, acc);
}

int yakvm_write_gva(struct yakvm_vcpu *vcpu, u64 gva, const void *buf,
		    unsigned int len)
{
	return access_gva(vcpu, gva, (void *)buf, len, YAKVM_ACCESS_WRITE);
}

/* Inject the #PF recorded by the last failed access. */
void yakvm_inject_page_fault(struct yakvm_vcpu *vcpu)
{
	vcpu->vmcb->save.cr2 = vcpu->fault_addr;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_CR2);
	yakvm_queue_exception(vcpu, X86_TRAP_PF, true, vcpu->fault_error);
}

/*
 * Fetch up to 15 instruction bytes at CS:RIP.  Stops early at a page that
 * cannot be read (the instruction may end before it); fails only when not
 * even the first byte is readable.
 */
int yakvm_fetch_insn(struct yakvm_vcpu *vcpu, u8 *buf, unsigned int *len)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	u64 la = yakvm_seg_base(vcpu, YAKVM_SEG_CS) + s->rip;
	unsigned int first;

	if (!yakvm_64bit_code(vcpu))
		la = (u32)la;
	first = min_t(unsigned int, 15, PAGE_SIZE - offset_in_page(la));
	if (access_gva(vcpu, la, buf, first, YAKVM_ACCESS_FETCH))
		return -EFAULT;
	*len = first;
	if (first < 15 &&
	    !access_gva(vcpu, la + first, buf + first, 15 - first,
			YAKVM_ACCESS_FETCH))
		*len = 15;
	return 0;
}
