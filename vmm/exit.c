/*
 * Exit handlers: port I/O and MMIO go to the buses; HLT, triple fault and
 * failures stop the vCPU or the whole VM with a status (status.h).
 */
#include "exit.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dump.h"
#include "interrupts.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

static enum exit_action stop_vm(struct vcpu *vcpu, int status)
{
	vm_request_stop(vcpu->vm, status);
	return EXIT_VCPU_DONE;
}

static enum exit_action fail_vm(struct vcpu *vcpu, int status)
{
	dump_vcpu_state(vcpu);
	return stop_vm(vcpu, status);
}

/* One access to a bus; false when --strict stopped the VM over it. */
static bool access_bus(struct vcpu *vcpu, struct io_bus *bus, uint64_t addr,
		       uint8_t *data, unsigned int size, bool is_write)
{
	if (io_dispatch(bus, addr, data, size, is_write))
		return true;
	if (!vcpu->vm->strict) {
		io_unclaimed(bus, addr, data, size, is_write);
		return true;
	}
	msg("vCPU %u: --strict: %u-byte %s %s unclaimed %s %#0*" PRIx64 "; stopping the VM",
	    vcpu->id, size, is_write ? "write" : "read", is_write ? "to" : "from",
	    bus->kind, bus->addr_digits + 2, addr);
	fail_vm(vcpu, STATUS_STRICT);
	return false;
}

enum exit_action exit_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint64_t end = run->io.data_offset + (uint64_t)run->io.count * run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	/* String I/O (INS/OUTS) hands over count elements at once. */
	if (end > vcpu->vm->run_mmap_size) {
		msg("vCPU %u: port I/O exit with data outside the kvm_run mapping "
		    "(offset %llu, %u x %u bytes)", vcpu->id,
		    (unsigned long long)run->io.data_offset, run->io.count, run->io.size);
		return fail_vm(vcpu, STATUS_INTERNAL);
	}
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!access_bus(vcpu, &vcpu->vm->pio, run->io.port, data,
				run->io.size, is_write))
			return EXIT_VCPU_DONE;
	}
	return EXIT_CONTINUE;
}

enum exit_action exit_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->mmio.len == 0 || run->mmio.len > sizeof(run->mmio.data)) {
		msg("vCPU %u: MMIO exit with length %u", vcpu->id, run->mmio.len);
		return fail_vm(vcpu, STATUS_INTERNAL);
	}
	if (!access_bus(vcpu, &vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			run->mmio.len, run->mmio.is_write))
		return EXIT_VCPU_DONE;
	return EXIT_CONTINUE;
}

/*
 * HLT with interrupts enabled on the vCPU the PIC is wired to waits for the
 * next interrupt.  Otherwise nothing can wake it: it is done, and the VM
 * stops when the last vCPU halts.  With the in-kernel irqchip HLT is not a
 * user exit at all (kvmtool treats it as fatal too).
 */
enum exit_action exit_hlt(struct vcpu *vcpu)
{
	if (vcpu->vm->irqchip == IRQCHIP_KERNEL) {
		/* api.rst: with an in-kernel irqchip the vCPU halts in the kernel. */
		msg("vCPU %u: KVM_EXIT_HLT although the irqchip is in the device (%s "
		    "should halt the vCPU in KVM_RUN)", vcpu->id, vcpu->vm->dev_path);
		return fail_vm(vcpu, STATUS_INTERNAL);
	}
	if (interrupts_can_wake(vcpu)) {
		interrupts_wait(vcpu);
		return EXIT_CONTINUE;
	}
	msg("vCPU %u halted at rip %#llx (HLT; no interrupt can wake it)",
	    vcpu->id, (unsigned long long)vcpu_rip(vcpu));
	vm_vcpu_halted(vcpu->vm);
	return EXIT_VCPU_DONE;
}

/* A shutdown intercept: the guest triple-faulted (AMD APM vol. 2, 15.12
 * "Miscellaneous Intercepts"). */
enum exit_action exit_shutdown(struct vcpu *vcpu)
{
	msg("vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN); stopping the VM", vcpu->id);
	return fail_vm(vcpu, STATUS_TRIPLE_FAULT);
}

enum exit_action exit_fail_entry(struct vcpu *vcpu)
{
	msg("vCPU %u: VM entry failed (KVM_EXIT_FAIL_ENTRY, hardware reason %#llx)",
	    vcpu->id,
	    (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	return fail_vm(vcpu, STATUS_INTERNAL);
}

enum exit_action exit_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t i, n = run->internal.ndata;

	msg("vCPU %u: internal error in the device (KVM_EXIT_INTERNAL_ERROR, suberror %u)",
	    vcpu->id, run->internal.suberror);
	if (n > ARRAY_SIZE(run->internal.data))
		n = ARRAY_SIZE(run->internal.data);
	for (i = 0; i < n; i++)
		msg("  data[%u] = %#llx", i, (unsigned long long)run->internal.data[i]);
	return fail_vm(vcpu, STATUS_INTERNAL);
}

enum exit_action exit_unexpected(struct vcpu *vcpu)
{
	msg("vCPU %u: unexpected exit reason %u", vcpu->id, vcpu->run->exit_reason);
	return fail_vm(vcpu, STATUS_INTERNAL);
}

enum exit_action exit_run_failed(struct vcpu *vcpu, int err)
{
	msg("vCPU %u: KVM_RUN failed: %s", vcpu->id, strerror(err));
	return fail_vm(vcpu, STATUS_INTERNAL);
}

static void format_bytes(char *out, size_t outlen, const uint8_t *data, unsigned int n)
{
	size_t used = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < n && used + 4 < outlen; i++)
		used += snprintf(out + used, outlen - used, "%s%02x", i ? " " : "", data[i]);
}

void trace_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned long long rip = vcpu_rip(vcpu);
	char bytes[64];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		format_bytes(bytes, sizeof(bytes), (uint8_t *)run + run->io.data_offset,
			     run->io.direction == KVM_EXIT_IO_OUT ? run->io.size : 0);
		trace("vcpu%u rip %#llx: IO %s port %#06x size %u count %u%s%s", vcpu->id, rip,
		    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
		    run->io.size, run->io.count, *bytes ? " data " : "", bytes);
		break;
	case KVM_EXIT_MMIO:
		format_bytes(bytes, sizeof(bytes), run->mmio.data,
			     run->mmio.is_write ? run->mmio.len : 0);
		trace("vcpu%u rip %#llx: MMIO %s %#010llx len %u%s%s", vcpu->id, rip,
		    run->mmio.is_write ? "write" : "read",
		    (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		    *bytes ? " data " : "", bytes);
		break;
	default:
		trace("vcpu%u rip %#llx: %s", vcpu->id, rip, exit_reason_name(run->exit_reason));
		break;
	}
}
