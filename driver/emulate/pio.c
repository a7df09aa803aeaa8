// SPDX-License-Identifier: GPL-2.0
/*
 * IN/OUT/INS/OUTS (IOIO intercept, APM 15.10.2).  Every port exits to user
 * space as KVM_EXIT_IO; the data travels in the second page of the vCPU's
 * mmap (kvm_run.io.data_offset).  As in KVM, the instruction completes -- RAX
 * or memory written, RIP advanced -- on the next KVM_RUN.
 *
 * EXITINFO1 describes the access; EXITINFO2 holds the next RIP even without
 * nRIP save.  String forms move up to a page of elements per exit; a REP
 * that is not finished leaves RIP on the instruction, which runs again.
 */
#include "yakvm.h"

/*
 * The port belongs to an in-kernel device (the PIC, the PIT, an
 * ioeventfd, a coalesced zone): move the elements through the PIO bus
 * here.  Returns how many it took -- all, or fewer when a device declined
 * one (a full coalesced ring): user space then gets the rest.
 */
static unsigned int pio_in_kernel(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pio *pio = &vcpu->pio;
	unsigned int i;

	for (i = 0; i < pio->count; i++) {
		void *data = vcpu->pio_data + i * pio->size;
		int r = pio->in ?
			yakvm_io_bus_read(vcpu, YAKVM_PIO_BUS, pio->port, pio->size, data) :
			yakvm_io_bus_write(vcpu, YAKVM_PIO_BUS, pio->port, pio->size, data);

		if (r)
			break;
	}
	return i;
}

static int pio_user_exit(struct yakvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct yakvm_pio *pio = &vcpu->pio;
	unsigned int done = pio_in_kernel(vcpu);

	if (done == pio->count)
		return yakvm_complete_pio(vcpu);

	/* The elements the kernel did not take, where they are in the page. */
	run->io.direction = pio->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = pio->size;
	run->io.port = pio->port;
	run->io.count = pio->count - done;
	run->io.data_offset = YAKVM_PIO_PAGE * PAGE_SIZE + done * pio->size;
	vcpu->pending = YAKVM_USER_PIO;
	return yakvm_user_exit(vcpu, KVM_EXIT_IO);
}

/* The linear address of element @i of the current string operation. */
static u64 string_addr(struct yakvm_vcpu *vcpu, unsigned int i)
{
	struct yakvm_pio *pio = &vcpu->pio;
	int reg = pio->in ? YAKVM_RDI : YAKVM_RSI;
	s64 step = (vcpu->vmcb->save.rflags & X86_EFLAGS_DF) ? -pio->size : pio->size;
	u64 off = (vcpu->regs[reg] + i * step) & yakvm_addr_mask(pio->addr_size);
	u64 la = yakvm_seg_base(vcpu, pio->seg) + off;

	return yakvm_64bit_code(vcpu) ? la : (u32)la;
}

/*
 * What the prefixes of a string instruction say: the segment of OUTS's
 * source (DS unless overridden; INS always uses ES) and the address size.
 * AMD CPUs report the address size in EXITINFO1, but QEMU's emulated SVM
 * leaves those bits clear, so it is decoded when missing.
 */
static void decode_string_prefixes(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pio *pio = &vcpu->pio;
	struct yakvm_insn insn = {};

	pio->seg = pio->in ? YAKVM_SEG_ES : YAKVM_SEG_DS;
	if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) ||
	    yakvm_decode_prefixes(vcpu, &insn))
		return;
	if (!pio->in && insn.seg >= 0)
		pio->seg = insn.seg;
	if (!pio->addr_size)
		pio->addr_size = insn.addr_size;
}

static int check_writable(struct yakvm_vcpu *vcpu, u64 la, unsigned int size)
{
	u32 err;
	u64 gpa;
	int r;

	r = yakvm_gva_to_gpa(vcpu, la, YAKVM_ACCESS_WRITE, &gpa, &err);
	if (r == YAKVM_GVA_OK && offset_in_page(la) + size > PAGE_SIZE) {
		la = PAGE_ALIGN(la);
		r = yakvm_gva_to_gpa(vcpu, la, YAKVM_ACCESS_WRITE, &gpa, &err);
	}
	if (r == YAKVM_GVA_FAULT) {
		vcpu->fault_addr = la;
		vcpu->fault_error = err;
	}
	return r;
}

static int string_pio(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pio *pio = &vcpu->pio;
	u64 count = 1;
	unsigned int i, n;
	int r = 0;

	if (pio->rep) {
		count = vcpu->regs[YAKVM_RCX] & yakvm_addr_mask(pio->addr_size);
		if (!count) {
			yakvm_set_rip(vcpu, pio->next_rip);
			return 1;
		}
	}
	n = min_t(u64, count, PAGE_SIZE / pio->size);
	/*
	 * Check (INS) or read (OUTS) the guest memory before exiting, so a
	 * fault is reported as #PF before the device sees the access.
	 */
	for (i = 0; i < n; i++) {
		u64 la = string_addr(vcpu, i);

		if (pio->in)
			r = check_writable(vcpu, la, pio->size);
		else
			r = yakvm_read_gva(vcpu, la, vcpu->pio_data + i * pio->size,
					   pio->size, YAKVM_ACCESS_READ);
		if (r)
			break;
	}
	if (!i) {
		if (r == YAKVM_GVA_FAULT) {
			yakvm_inject_page_fault(vcpu);
			return 1;
		}
		return yakvm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);
	}
	pio->count = i;
	return pio_user_exit(vcpu);
}

int yakvm_handle_ioio(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	struct yakvm_pio *pio = &vcpu->pio;
	u32 info = c->exit_info_1;

	pio->port = info >> 16;
	pio->in = info & SVM_IOIO_TYPE_MASK;
	pio->string = info & SVM_IOIO_STR_MASK;
	pio->rep = info & SVM_IOIO_REP_MASK;
	pio->size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	pio->addr_size = 2 * ((info & SVM_IOIO_ASIZE_MASK) >> SVM_IOIO_ASIZE_SHIFT);
	pio->next_rip = c->exit_info_2;
	if (pio->size != 1 && pio->size != 2 && pio->size != 4)
		return yakvm_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION);

	if (pio->string) {
		decode_string_prefixes(vcpu);
		if (pio->addr_size != 2 && pio->addr_size != 4 &&
		    pio->addr_size != 8)
			return yakvm_internal_error(vcpu,
						    KVM_INTERNAL_ERROR_EMULATION);
		return string_pio(vcpu);
	}
	if (!pio->in)
		memcpy(vcpu->pio_data, &vcpu->regs[YAKVM_RAX], pio->size);
	pio->count = 1;
	return pio_user_exit(vcpu);
}

static int complete_string(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pio *pio = &vcpu->pio;
	int reg = pio->in ? YAKVM_RDI : YAKVM_RSI;
	s64 step = (vcpu->vmcb->save.rflags & X86_EFLAGS_DF) ? -pio->size : pio->size;
	unsigned int i;

	if (pio->in) {
		for (i = 0; i < pio->count; i++) {
			if (yakvm_write_gva(vcpu, string_addr(vcpu, i),
					    vcpu->pio_data + i * pio->size,
					    pio->size))
				return yakvm_internal_error(vcpu,
						KVM_INTERNAL_ERROR_EMULATION);
		}
	}
	yakvm_add_masked(&vcpu->regs[reg], step * pio->count, pio->addr_size);
	if (pio->rep) {
		yakvm_add_masked(&vcpu->regs[YAKVM_RCX], -(s64)pio->count,
			   pio->addr_size);
		if (vcpu->regs[YAKVM_RCX] & yakvm_addr_mask(pio->addr_size))
			return 1;	/* more to do: run the instruction again */
	}
	yakvm_set_rip(vcpu, pio->next_rip);
	return 1;
}

int yakvm_complete_pio(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pio *pio = &vcpu->pio;
	u64 val;

	if (pio->string)
		return complete_string(vcpu);
	if (pio->in) {
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends. */
		val = pio->size < 4 ? vcpu->regs[YAKVM_RAX] : 0;
		memcpy(&val, vcpu->pio_data, pio->size);
		vcpu->regs[YAKVM_RAX] = val;
	}
	yakvm_set_rip(vcpu, pio->next_rip);
	return 1;
}
