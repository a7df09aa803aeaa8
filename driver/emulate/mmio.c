// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page faults (APM 15.25.6): a guest-physical address inside a
 * memory slot is mapped on first touch; anything else is MMIO and exits to
 * user space as KVM_EXIT_MMIO.
 *
 * Without decode assists the CPU does not say what the faulting instruction
 * was, so it is fetched from guest memory (paging.c) and decoded (decode.c).
 * A store completes at once and RIP moves on; a load completes on the next
 * KVM_RUN with the data user space wrote to kvm_run.mmio.data -- the same
 * split KVM makes.
 */
#include "yakvm.h"

#define NPF_WRITE	BIT_ULL(1)
#define NPF_FETCH	BIT_ULL(4)
#define NPF_IN_WALK	BIT_ULL(33)	/* while walking the guest's page tables */

/*
 * Fault-around: a guest that touches a page usually touches its neighbours
 * soon after (Linux clears and initialises its memory in order), and every
 * nested page fault costs a world switch.  So the pages around a fault
 * that lie in the same slot are pinned and mapped too: the naturally
 * aligned 2 MiB block when the faulting page is part of a huge page (its
 * neighbours are then mostly already allocated -- KVM gets the same effect
 * by mapping transparent huge pages whole), else a small block, so a
 * sparse guest does not make the host allocate much it never uses.  Only
 * the faulting page's own failure is an error.
 */
#define FAULT_AROUND_PAGES	16

static void map_around(struct yakvm_vm *vm, struct yakvm_slot *slot, u64 gfn,
		       struct page *page, bool writable)
{
	u64 block = folio_nr_pages(page_folio(page)) >= PTRS_PER_PMD ?
		    PTRS_PER_PMD : FAULT_AROUND_PAGES;
	u64 first = max(ALIGN_DOWN(gfn, block), slot->base_gfn);
	u64 end = min(ALIGN_DOWN(gfn, block) + block,
		      slot->base_gfn + slot->npages);
	struct page *p;
	int r;
	u64 g;

	for (g = first; g < end; g++) {
		/* Rewriting a present neighbour would only downgrade it. */
		if (g == gfn || yakvm_npt_present(vm, g))
			continue;
		r = yakvm_slot_page(vm, slot, g, &p);
		if (r == -ENOMEM)
			break;		/* over RLIMIT_MEMLOCK: leave it to the faults */
		if (r)
			continue;	/* e.g. a hole in the user mapping */
		if (yakvm_npt_map(vm, g, p, writable))
			break;
	}
}

/* Returns 1 when @gpa is guest RAM and is now mapped, 0 for MMIO, < 0 on error. */
static int map_guest_ram(struct yakvm_vcpu *vcpu, u64 gpa, bool write)
{
	struct yakvm_vm *vm = vcpu->vm;
	u64 gfn = gpa >> PAGE_SHIFT;
	struct yakvm_slot *slot;
	struct page *page;
	bool writable, around;
	int r = 0;

	mutex_lock(&vm->mmu_lock);
	slot = yakvm_find_slot(vm, gfn);
	if (slot && !(write && (slot->flags & KVM_MEM_READONLY))) {
		/*
		 * A write to a present page is a write-protect fault (dirty
		 * logging): its neighbours are mapped already, and walking
		 * them again on every logged write cost dirty logging a
		 * factor of six (make bench, guest-writes-log-on).
		 */
		around = !yakvm_npt_present(vm, gfn);
		/*
		 * A slot logging writes maps a page writable only when it is
		 * written (and logs it); the neighbours stay read-only.
		 */
		writable = !(slot->flags & KVM_MEM_READONLY) &&
			   (!slot->dirty_bitmap || write);
		r = yakvm_slot_page(vm, slot, gfn, &page);
		if (!r)
			r = yakvm_npt_map(vm, gfn, page, writable);
		if (!r) {
			if (write)
				yakvm_mark_dirty(slot, gfn);
			if (around)
				map_around(vm, slot, gfn, page,
					   writable && !slot->dirty_bitmap);
			r = 1;
		}
	}
	mutex_unlock(&vm->mmu_lock);
	return r;
}

static u64 read_reg(struct yakvm_vcpu *vcpu, u8 reg, bool high_byte)
{
	u64 val = vcpu->regs[reg];

	return high_byte ? val >> 8 : val;
}

/*
 * An in-kernel device's MMIO: the vCPU's own local APIC page, or a device
 * on the MMIO bus (the IOAPIC, an ioeventfd).  0 when one took it.
 */
static int kernel_mmio(struct yakvm_vcpu *vcpu, u64 gpa, u8 size, void *val,
		       bool write)
{
	if (yakvm_lapic_mmio(vcpu, gpa, size, val, write))
		return 0;
	if (write)
		return yakvm_io_bus_write(vcpu, YAKVM_MMIO_BUS, gpa, size, val);
	return yakvm_io_bus_read(vcpu, YAKVM_MMIO_BUS, gpa, size, val);
}

static int complete_mmio_load(struct yakvm_vcpu *vcpu, u64 val);

/*
 * The load vcpu->mmio describes: from an in-kernel device now, or from
 * user space, completing on the next KVM_RUN.
 */
static int mmio_load_exit(struct yakvm_vcpu *vcpu, u64 gpa, u8 size)
{
	struct kvm_run *run = vcpu->run;
	u64 val = 0;

	if (!kernel_mmio(vcpu, gpa, size, &val, false))
		return complete_mmio_load(vcpu, val);
	vcpu->pending = YAKVM_USER_MMIO_READ;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = 0;
	return yakvm_user_exit(vcpu, KVM_EXIT_MMIO);
}

static int mmio_store_exit(struct yakvm_vcpu *vcpu, u64 gpa, u64 value,
			   u8 size)
{
	struct kvm_run *run = vcpu->run;

	if (!kernel_mmio(vcpu, gpa, size, &value, true))
		return 1;

	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &value, size);
	return yakvm_user_exit(vcpu, KVM_EXIT_MMIO);
}

/* The linear address rSI (in @seg) or rDI (in ES) points at. */
static u64 string_la(struct yakvm_vcpu *vcpu, int reg, int seg, u8 addr_size)
{
	u64 la = yakvm_seg_base(vcpu, seg) +
		 (vcpu->regs[reg] & yakvm_addr_mask(addr_size));

	return yakvm_64bit_code(vcpu) ? la : (u32)la;
}

/*
 * One element of MOVS/STOS/LODS is done: step rSI and/or rDI by the
 * element size (down when DF=1), count rCX down under REP, and move RIP on
 * after the last element; otherwise the instruction runs again.
 */
static void string_advance(struct yakvm_vcpu *vcpu, u8 op, u8 size,
			   u8 addr_size, bool rep, u64 next_rip)
{
	s64 step = (vcpu->vmcb->save.rflags & X86_EFLAGS_DF) ? -size : size;

	if (op != 0xaa && op != 0xab)		/* MOVS, LODS read rSI */
		yakvm_add_masked(&vcpu->regs[YAKVM_RSI], step, addr_size);
	if (op < 0xac)				/* MOVS, STOS write rDI */
		yakvm_add_masked(&vcpu->regs[YAKVM_RDI], step, addr_size);
	if (rep) {
		yakvm_add_masked(&vcpu->regs[YAKVM_RCX], -1, addr_size);
		if (vcpu->regs[YAKVM_RCX] & yakvm_addr_mask(addr_size))
			return;
	}
	yakvm_set_rip(vcpu, next_rip);
}

/* STOS to MMIO, or MOVS from memory to MMIO: a store exit. */
static int string_store(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn,
			u64 gpa)
{
	int src_seg = insn->seg >= 0 ? insn->seg : YAKVM_SEG_DS;
	u64 next_rip = vcpu->vmcb->save.rip + insn->len;
	u64 value = vcpu->regs[YAKVM_RAX];
	int r;

	if (insn->string_op == 0xa4 || insn->string_op == 0xa5) {
		value = 0;
		r = yakvm_read_gva(vcpu, string_la(vcpu, YAKVM_RSI, src_seg,
						   insn->addr_size),
				   &value, insn->mem_size, YAKVM_ACCESS_READ);
		if (r == YAKVM_GVA_FAULT) {
			yakvm_inject_page_fault(vcpu);
			return 1;
		}
		if (r)
			return yakvm_emulation_error(vcpu, insn->bytes, insn->len);
	}
	string_advance(vcpu, insn->string_op, insn->mem_size, insn->addr_size,
		       insn->rep, next_rip);
	return mmio_store_exit(vcpu, gpa, value, insn->mem_size);
}

static int emulate_string(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn,
			  u64 gpa, bool write)
{
	struct yakvm_mmio_read *m = &vcpu->mmio;
	bool stos = insn->string_op == 0xaa || insn->string_op == 0xab;
	bool lods = insn->string_op >= 0xac;

	if ((stos && !write) || (lods && write))
		return yakvm_emulation_error(vcpu, insn->bytes, insn->len);
	if (write)
		return string_store(vcpu, insn, gpa);
	/* LODS, or MOVS from MMIO: a load exit, finished on the next KVM_RUN. */
	memset(m, 0, sizeof(*m));
	m->string_op = insn->string_op;
	m->size = insn->mem_size;
	m->rep = insn->rep;
	m->addr_size = insn->addr_size;
	m->next_rip = vcpu->vmcb->save.rip + insn->len;
	m->gpa = gpa;
	return mmio_load_exit(vcpu, gpa, m->size);
}

/* LODS or MOVS got its element from MMIO: into rAX, or to ES:rDI. */
static int complete_string(struct yakvm_vcpu *vcpu, u64 value)
{
	struct yakvm_mmio_read *m = &vcpu->mmio;
	u64 la, gpa;
	u32 error;
	int r;

	if (m->string_op >= 0xac) {
		yakvm_write_reg(vcpu, YAKVM_RAX, value, m->size, false);
		string_advance(vcpu, m->string_op, m->size, m->addr_size, m->rep,
			       m->next_rip);
		return 1;
	}
	la = string_la(vcpu, YAKVM_RDI, YAKVM_SEG_ES, m->addr_size);
	r = yakvm_gva_to_gpa(vcpu, la, YAKVM_ACCESS_WRITE, &gpa, &error);
	if (r == YAKVM_GVA_FAULT) {
		vcpu->fault_addr = la;
		vcpu->fault_error = error;
		yakvm_inject_page_fault(vcpu);
		return 1;
	}
	if (r)
		return yakvm_emulation_error(vcpu, NULL, 0);
	string_advance(vcpu, m->string_op, m->size, m->addr_size, m->rep,
		       m->next_rip);
	if (!yakvm_write_gpa(vcpu->vm, gpa, &value, m->size))
		return 1;
	/* MMIO to MMIO: the destination is a device too. */
	return mmio_store_exit(vcpu, gpa, value, m->size);
}

static int emulate_mmio(struct yakvm_vcpu *vcpu, u64 gpa, bool write)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	struct yakvm_insn insn = {};
	u64 val;

	if (yakvm_svm.decode_assists && c->insn_len) {
		insn.len = min_t(unsigned int, c->insn_len, sizeof(insn.bytes));
		memcpy(insn.bytes, c->insn_bytes, insn.len);
	} else if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len)) {
		return yakvm_emulation_error(vcpu, NULL, 0);
	}
	/*
	 * The direction must agree with the fault, or the code changed under
	 * us; XCHG's locked access may fault as a read or as a write.
	 */
	if (yakvm_decode_mov(vcpu, &insn))
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);
	if (insn.string_op)
		return emulate_string(vcpu, &insn, gpa, write);
	if (!insn.exchange && !insn.alu_to_memory && insn.write != write)
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);

	if (insn.write) {
		val = insn.use_imm ? insn.imm : read_reg(vcpu, insn.reg, insn.high_byte);
		yakvm_set_rip(vcpu, vcpu->vmcb->save.rip + insn.len);
		return mmio_store_exit(vcpu, gpa, val, insn.mem_size);
	}
	memset(&vcpu->mmio, 0, sizeof(vcpu->mmio));
	vcpu->mmio.reg = insn.reg;
	vcpu->mmio.size = insn.mem_size;
	vcpu->mmio.dest_size = insn.dest_size;
	vcpu->mmio.sign_extend = insn.sign_extend;
	vcpu->mmio.exchange = insn.exchange;
	vcpu->mmio.store_value = read_reg(vcpu, insn.reg, insn.high_byte);
	vcpu->mmio.alu = insn.alu;
	vcpu->mmio.alu_to_memory = insn.alu_to_memory;
	vcpu->mmio.alu_source = insn.use_imm ? insn.imm : vcpu->mmio.store_value;
	vcpu->mmio.high_byte = insn.high_byte;
	vcpu->mmio.next_rip = vcpu->vmcb->save.rip + insn.len;
	vcpu->mmio.gpa = gpa;
	return mmio_load_exit(vcpu, gpa, insn.mem_size);
}

/* KVM_INTERNAL_ERROR_DELIVERY_EV, with the event, the exit and the address. */
static int delivery_error(struct yakvm_vcpu *vcpu, u64 gpa)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	struct kvm_run *run = vcpu->run;

	run->internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	run->internal.ndata = 5;
	run->internal.data[0] = c->exit_int_info;
	run->internal.data[1] = c->exit_code;
	run->internal.data[2] = c->exit_info_1;
	run->internal.data[3] = gpa;
	run->internal.data[4] = vcpu->last_cpu;
	return yakvm_user_exit(vcpu, KVM_EXIT_INTERNAL_ERROR);
}

int yakvm_handle_npf(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u64 error = c->exit_info_1;
	u64 gpa = c->exit_info_2;
	int r;

	vcpu->stats.npt_faults++;
	r = map_guest_ram(vcpu, gpa, error & NPF_WRITE);
	if (r)
		return r > 0 ? 1 : r;

	vcpu->stats.mmio_faults++;
	/*
	 * The CPU was delivering an event (EXITINTINFO, APM 15.7.2) and its
	 * IDT, GDT or stack access hit MMIO: that is no instruction to
	 * emulate -- the bytes at RIP belong to an instruction that already
	 * ran or has not started.  Like KVM since 6.14, tell user space.
	 */
	if (vcpu->vmcb->control.exit_int_info & SVM_EXITINTINFO_VALID)
		return delivery_error(vcpu, gpa);
	/* Code or page tables in MMIO cannot be emulated. */
	if (error & (NPF_FETCH | NPF_IN_WALK))
		return yakvm_emulation_error(vcpu, NULL, 0);
	return emulate_mmio(vcpu, gpa, error & NPF_WRITE);
}

/*
 * An ALU instruction got its MMIO operand: compute, set the flags, and
 * either write the register or store the result back (a second exit, as
 * KVM's emulator does for read-modify-write).
 */
static int complete_alu(struct yakvm_vcpu *vcpu, u64 loaded)
{
	struct yakvm_mmio_read *m = &vcpu->mmio;
	u64 result;

	if (m->alu_to_memory || m->alu == YAKVM_ALU_TEST) {
		result = yakvm_alu(vcpu, m->alu, loaded, m->alu_source, m->size);
		yakvm_set_rip(vcpu, m->next_rip);
		if (!m->alu_to_memory || !yakvm_alu_writes(m->alu))
			return 1;
		return mmio_store_exit(vcpu, m->gpa, result, m->size);
	}
	/* op reg, [mmio]: the register is both operand and destination. */
	result = yakvm_alu(vcpu, m->alu, m->alu_source, loaded, m->size);
	if (yakvm_alu_writes(m->alu))
		yakvm_write_reg(vcpu, m->reg, result, m->dest_size, m->high_byte);
	yakvm_set_rip(vcpu, m->next_rip);
	return 1;
}

/* A load got its data (from user space or an in-kernel device): finish it. */
static int complete_mmio_load(struct yakvm_vcpu *vcpu, u64 val)
{
	struct yakvm_mmio_read *m = &vcpu->mmio;

	if (m->alu)
		return complete_alu(vcpu, val);
	if (m->string_op)
		return complete_string(vcpu, val);
	if (m->sign_extend && m->size == 1)
		val = (s64)(s8)val;
	else if (m->sign_extend && m->size == 2)
		val = (s64)(s16)val;
	else if (m->sign_extend)
		val = (s64)(s32)val;
	yakvm_write_reg(vcpu, m->reg, val, m->dest_size, m->high_byte);
	yakvm_set_rip(vcpu, m->next_rip);
	if (!m->exchange)
		return 1;
	/* XCHG's store of the old register value: a second MMIO exit. */
	return mmio_store_exit(vcpu, m->gpa, m->store_value, m->size);
}

int yakvm_complete_mmio_read(struct yakvm_vcpu *vcpu)
{
	u64 val = 0;

	/* The shared page is read once, into a local. */
	memcpy(&val, vcpu->run->mmio.data, vcpu->mmio.size);
	return complete_mmio_load(vcpu, val);
}
