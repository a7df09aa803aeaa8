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

/* Returns 1 when @gpa is guest RAM and is now mapped, 0 for MMIO, < 0 on error. */
static int map_guest_ram(struct yakvm_vcpu *vcpu, u64 gpa, bool write)
{
	struct yakvm_vm *vm = vcpu->vm;
	u64 gfn = gpa >> PAGE_SHIFT;
	struct yakvm_slot *slot;
	struct page *page;
	int r = 0;

	mutex_lock(&vm->mmu_lock);
	slot = yakvm_find_slot(vm, gfn);
	if (slot && !(write && (slot->flags & KVM_MEM_READONLY))) {
		r = yakvm_slot_page(vm, slot, gfn, &page);
		if (!r)
			r = yakvm_npt_map(vm, gfn, page,
					  !(slot->flags & KVM_MEM_READONLY));
		if (!r)
			r = 1;
	}
	mutex_unlock(&vm->mmu_lock);
	return r;
}

static u64 read_reg(struct yakvm_vcpu *vcpu, u8 reg, bool high_byte)
{
	u64 val = vcpu->regs[reg];

	return high_byte ? val >> 8 : val;
}

static int emulate_mmio(struct yakvm_vcpu *vcpu, u64 gpa, bool write)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	struct kvm_run *run = vcpu->run;
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
	if (yakvm_decode_mov(vcpu, &insn) ||
	    (!insn.exchange && !insn.alu_to_memory && insn.write != write))
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);

	run->mmio.phys_addr = gpa;
	run->mmio.len = insn.mem_size;
	run->mmio.is_write = insn.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (insn.write) {
		val = insn.use_imm ? insn.imm : read_reg(vcpu, insn.reg, insn.high_byte);
		memcpy(run->mmio.data, &val, insn.mem_size);
		yakvm_set_rip(vcpu, vcpu->vmcb->save.rip + insn.len);
	} else {
		vcpu->mmio.reg = insn.reg;
		vcpu->mmio.size = insn.mem_size;
		vcpu->mmio.dest_size = insn.dest_size;
		vcpu->mmio.sign_extend = insn.sign_extend;
		vcpu->mmio.exchange = insn.exchange;
		vcpu->mmio.store_value = read_reg(vcpu, insn.reg, insn.high_byte);
		vcpu->mmio.alu = insn.alu;
		vcpu->mmio.alu_to_memory = insn.alu_to_memory;
		vcpu->mmio.alu_source = insn.use_imm ? insn.imm :
					vcpu->mmio.store_value;
		vcpu->mmio.high_byte = insn.high_byte;
		vcpu->mmio.next_rip = vcpu->vmcb->save.rip + insn.len;
		vcpu->mmio.gpa = gpa;
		vcpu->pending = YAKVM_USER_MMIO_READ;
	}
	return yakvm_user_exit(vcpu, KVM_EXIT_MMIO);
}

int yakvm_handle_npf(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u64 error = c->exit_info_1;
	u64 gpa = c->exit_info_2;
	int r;

	vcpu->vm->stats.npt_faults++;
	r = map_guest_ram(vcpu, gpa, error & NPF_WRITE);
	if (r)
		return r > 0 ? 1 : r;

	vcpu->vm->stats.mmio_faults++;
	/* Code or page tables in MMIO cannot be emulated. */
	if (error & (NPF_FETCH | NPF_IN_WALK))
		return yakvm_emulation_error(vcpu, NULL, 0);
	return emulate_mmio(vcpu, gpa, error & NPF_WRITE);
}

static int mmio_store_exit(struct yakvm_vcpu *vcpu, u64 gpa, u64 value,
			   u8 size)
{
	struct kvm_run *run = vcpu->run;

	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = 1;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &value, size);
	return yakvm_user_exit(vcpu, KVM_EXIT_MMIO);
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

int yakvm_complete_mmio_read(struct yakvm_vcpu *vcpu)
{
	struct yakvm_mmio_read *m = &vcpu->mmio;
	struct kvm_run *run = vcpu->run;
	u64 val = 0;

	memcpy(&val, run->mmio.data, m->size);
	if (m->alu)
		return complete_alu(vcpu, val);
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
