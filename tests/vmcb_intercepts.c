// SPDX-License-Identifier: GPL-2.0
/*
 * What yakvm hands the hardware, read back through its debugfs views
 * (tests/lib/yakvm_debugfs.h) -- yakvm only, KVM has no such views:
 *
 *   machine_check_and_cr4_intercepted  #MC in guest mode is the host's to
 *        handle, and CR4 writes are checked against the guest's CPUID, so
 *        both intercepts are set in every vCPU's VMCB
 *   addresses_carry_the_c_bit  every physical address given to the CPU (the
 *        VMCB, the IOPM and MSRPM, the host save area in VM_HSAVE_PA, the
 *        host VMSAVE area, the nested page-table root) is the page's address
 *        with the SME C-bit mask the kernel uses, and VM_HSAVE_PA read from
 *        the CPU (/dev/cpu/N/msr) is that value.  Without SME the mask is 0
 *        and the check is only that the addresses are the CPU's: that the
 *        C-bit is really set can only be seen on a host with
 *        mem_encrypt=on, which QEMU's emulated CPU cannot provide.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"

#define MC_VECTOR		18	/* intercepts word 2: exceptions */
#define INTERCEPT_CR4_WRITE_BIT	(1u << (16 + 4))	/* intercepts word 0 */
#define MSR_VM_HSAVE_PA		0xc0010117

static void guest_one_sync(void)
{
	GUEST_SYNC(0, 0);
}

TEST_CASE_OPTS(machine_check_and_cr4_intercepted, .only_yakvm = true,
	       .why_only_yakvm = "reads yakvm's VMCB through its debugfs view")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_one_sync, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(vcpu_vmcb_field(v, "intercepts2") & (1u << MC_VECTOR),
		    "#MC is not intercepted: exception intercepts 0x%llx",
		    (unsigned long long)vcpu_vmcb_field(v, "intercepts2"));
	TEST_ASSERT(vcpu_vmcb_field(v, "intercepts0") & INTERCEPT_CR4_WRITE_BIT,
		    "CR4 writes are not intercepted: CR intercepts 0x%llx",
		    (unsigned long long)vcpu_vmcb_field(v, "intercepts0"));
	vm_free(v->vm);
}

/* The host's MSR through /dev/cpu/N/msr, loading msr.ko (in the test VM) first. */
static uint64_t read_msr(int cpu, uint32_t index)
{
	char path[64];
	uint64_t val = 0;
	int fd;

	if (access("/dev/cpu/0/msr", R_OK)) {
		fd = open("/lib/modules/msr.ko", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			syscall(SYS_finit_module, fd, "", 0);
			close(fd);
		}
	}

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	TEST_ASSERT(fd >= 0, "%s: %s (msr.ko loaded?)", path, strerror(errno));
	TEST_ASSERT(pread(fd, &val, sizeof(val), index) == sizeof(val),
		    "reading MSR 0x%x on CPU %d: %s", index, cpu, strerror(errno));
	close(fd);
	return val;
}

/* @pa is a page's address as the CPU must see it: page-aligned, with the mask. */
static void expect_c_bit(const char *what, uint64_t pa, uint64_t mask)
{
	uint64_t page = pa & ~mask;

	TEST_ASSERT(!(page & 0xfff), "%s 0x%llx is not page-aligned",
		    what, (unsigned long long)pa);
	TEST_ASSERT((pa & mask) == mask, "%s 0x%llx lacks the C-bit (mask 0x%llx)",
		    what, (unsigned long long)pa, (unsigned long long)mask);
}

TEST_CASE_OPTS(addresses_carry_the_c_bit, .only_yakvm = true,
	       .why_only_yakvm = "reads the addresses yakvm gives the CPU through its debugfs views")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_one_sync, 0);
	uint64_t mask = yakvm_sme_mask();
	struct yakvm_cpu_state st;
	struct ucall uc;
	int cpu, checked = 0;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	expect_c_bit("the VMCB", vcpu_vmcb_field(v, "vmcb_pa"), mask);
	expect_c_bit("the IOPM", vcpu_vmcb_field(v, "iopm_base_pa"), mask);
	expect_c_bit("the MSRPM", vcpu_vmcb_field(v, "msrpm_base_pa"), mask);
	expect_c_bit("the NPT root", vcpu_vmcb_field(v, "nested_cr3"), mask);
	for (cpu = 0; yakvm_cpu_state(cpu, &st); cpu++) {
		if (!st.enabled)
			continue;
		expect_c_bit("VM_HSAVE_PA", st.hsave_pa, mask);
		expect_c_bit("the host VMSAVE area", st.host_vmsave_pa, mask);
		TEST_ASSERT_EQ(read_msr(cpu, MSR_VM_HSAVE_PA), st.hsave_pa);
		checked++;
	}
	TEST_ASSERT(checked > 0, "no CPU has SVM enabled while a VM exists");
	test_log("SME C-bit mask 0x%llx; %d CPUs checked", (unsigned long long)mask,
		 checked);
	vm_free(v->vm);
}
