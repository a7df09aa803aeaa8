// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU fd: mmap of kvm_run and the PIO data page, KVM_RUN's argument,
 * KVM_GET/SET_REGS, KVM_GET/SET_SREGS (reset state, round trip, states KVM
 * refuses), KVM_GET/SET_FPU, unknown and misdirected ioctls.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "modes.h"

#define KVM_UNKNOWN_IOCTL	_IO(KVMIO, 0xff)

#define CR4_VMXE	(1ULL << 13)
#define CR4_RESERVED15	(1ULL << 15)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

/* A new VM with one vCPU (from the library: CPUID set, kvm_run mapped). */
static struct vcpu *new_vcpu(const struct test_ctx *ctx)
{
	return vcpu_add(vm_create(ctx->dev, 0), 0);
}

/* The KVM_GET_x and KVM_SET_x pair refuses a NULL pointer with EFAULT. */
static void expect_null_faults(struct vcpu *v, unsigned long get, unsigned long set)
{
	EXPECT_ERRNO(ioctl(v->fd, get, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(v->fd, set, NULL), EFAULT);
}

/* A vCPU fd straight from KVM_CREATE_VCPU: no CPUID, never run. */
static int raw_vcpu(struct vm *vm, int id)
{
	return EXPECT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, id));
}

TEST_CASE(mmap_run_page)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	int fd = raw_vcpu(vm, 0);
	struct kvm_run *run;
	uint8_t *pio;

	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(run != MAP_FAILED, "mmap of %zu bytes", vm->run_size);
	TEST_ASSERT_EQ(run->immediate_exit, 0);
	run->immediate_exit = 1;
	/* The PIO data page (KVM_PIO_PAGE_OFFSET) is writable memory. */
	pio = (uint8_t *)run + KVM_PIO_PAGE_OFFSET * 4096;
	pio[0] = 0x5a;
	TEST_ASSERT_EQ(pio[0], 0x5a);
	munmap(run, vm->run_size);
	/* A second mapping sees the same page. */
	run = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	TEST_ASSERT(run != MAP_FAILED, "second mmap");
	TEST_ASSERT_EQ(run->immediate_exit, 1);
	munmap(run, 4096);
	EXPECT_ERRNO((long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 100), EINVAL);
	close(fd);
	vm_free(vm);
}

/* Pages past KVM_GET_VCPU_MMAP_SIZE map, but touching them raises SIGBUS. */
TEST_CASE(mmap_beyond_size)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	int fd = raw_vcpu(vm, 0);
	volatile uint8_t *p;
	int status;
	pid_t pid;

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, vm->run_size);
	TEST_ASSERT(p != MAP_FAILED, "mmap at offset %zu", vm->run_size);
	pid = fork();
	if (pid == 0) {
		(void)p[0];
		_exit(0);
	}
	waitpid(pid, &status, 0);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		    "touching the page at offset %zu did not raise SIGBUS (status 0x%x)",
		    vm->run_size, status);
	munmap((void *)p, 4096);
	close(fd);
	vm_free(vm);
}

TEST_CASE(run_argument)
{
	struct vcpu *v = new_vcpu(ctx);

	EXPECT_ERRNO(ioctl(v->fd, KVM_RUN, 1), EINVAL);
	vm_free(v->vm);
}

TEST_CASE(reset_state)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	int fd = raw_vcpu(vm, 0);
	struct kvm_sregs s;
	struct kvm_regs r;

	EXPECT_OK(ioctl(fd, KVM_GET_REGS, &r));
	EXPECT_OK(ioctl(fd, KVM_GET_SREGS, &s));
	/* The architectural reset state: F000:FFF0 with CS base FFFF0000. */
	TEST_ASSERT_EQ(r.rip, 0xfff0);
	TEST_ASSERT_EQ(r.rflags, 0x2);
	TEST_ASSERT_EQ(r.rdx, 0x600);	/* no CPUID yet: KVM's default signature */
	TEST_ASSERT_EQ(r.rax | r.rbx | r.rcx | r.rsi | r.rdi | r.rsp | r.rbp, 0);
	TEST_ASSERT_EQ(s.cs.selector, 0xf000);
	TEST_ASSERT_EQ(s.cs.base, 0xffff0000);
	TEST_ASSERT_EQ(s.cs.limit, 0xffff);
	TEST_ASSERT_EQ(s.cs.type, 0xa);
	TEST_ASSERT_EQ(s.ds.selector | s.es.selector | s.ss.selector, 0);
	TEST_ASSERT_EQ(s.ds.limit, 0xffff);
	TEST_ASSERT_EQ(s.cr0, 0x60000010);
	TEST_ASSERT_EQ(s.cr2 | s.cr3 | s.cr4 | s.efer, 0);
	TEST_ASSERT_EQ(s.gdt.limit, 0xffff);
	TEST_ASSERT_EQ(s.idt.limit, 0xffff);
	close(fd);
	vm_free(vm);
}

/* Both devices create vCPUs in the same state, field for field. */
static void reset_scenario(const struct test_dev *dev, struct vcpu_snapshot *out)
{
	struct vm *vm = vm_create(dev, 0);

	vcpu_snapshot(vcpu_add(vm, 0), out);
	vm_free(vm);
}

TEST_DIFF(reset_state_same) { diff_devices(ctx, reset_scenario, NULL); }

TEST_CASE(regs_round_trip)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_regs in, out;
	uint64_t *p = (uint64_t *)&in;
	size_t i;

	for (i = 0; i < sizeof(in) / 8; i++)
		p[i] = 0x0101010101010101ULL * (i + 1);
	in.rflags = 0x246;
	vcpu_set_regs(v, &in);
	vcpu_get_regs(v, &out);
	TEST_ASSERT(!memcmp(&in, &out, sizeof(in)), "KVM_GET_REGS differs from KVM_SET_REGS");
	/* RFLAGS bit 1 is always set. */
	in.rflags = 0;
	vcpu_set_regs(v, &in);
	vcpu_get_regs(v, &out);
	TEST_ASSERT_EQ(out.rflags, 2);
	expect_null_faults(v, KVM_GET_REGS, KVM_SET_REGS);
	vm_free(v->vm);
}

static void expect_same_segment(const struct kvm_segment *a,
				const struct kvm_segment *b, const char *name)
{
	TEST_ASSERT(a->base == b->base && a->limit == b->limit &&
		    a->selector == b->selector && a->l == b->l && a->db == b->db &&
		    a->present == b->present && a->s == b->s && a->g == b->g,
		    "%s changed in the round trip", name);
}

TEST_CASE(sregs_round_trip)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_sregs in, out;

	vcpu_get_sregs(v, &in);
	mode_sregs(MODE_LONG, &in);
	in.cr2 = 0x1234000;
	in.cr8 = 5;
	vcpu_set_sregs(v, &in);
	vcpu_get_sregs(v, &out);
	expect_same_segment(&in.cs, &out.cs, "CS");
	expect_same_segment(&in.ds, &out.ds, "DS");
	expect_same_segment(&in.ss, &out.ss, "SS");
	TEST_ASSERT_EQ(out.cr0, in.cr0);
	TEST_ASSERT_EQ(out.cr2, in.cr2);
	TEST_ASSERT_EQ(out.cr3, in.cr3);
	TEST_ASSERT_EQ(out.cr4, in.cr4);
	TEST_ASSERT_EQ(out.cr8, 5);
	TEST_ASSERT_EQ(out.efer, in.efer);
	TEST_ASSERT_EQ(out.gdt.base, in.gdt.base);
	TEST_ASSERT_EQ(out.gdt.limit, in.gdt.limit);
	TEST_ASSERT_EQ(out.idt.base, in.idt.base);
	TEST_ASSERT_EQ(out.idt.limit, in.idt.limit);
	expect_null_faults(v, KVM_GET_SREGS, KVM_SET_SREGS);
	vm_free(v->vm);
}

/* States KVM_SET_SREGS refuses (KVM's kvm_is_valid_sregs and CR4 checks). */
TEST_CASE(sregs_invalid)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_sregs good, s;

	vcpu_get_sregs(v, &good);
	mode_sregs(MODE_LONG, &good);
	vcpu_set_sregs(v, &good);

	s = good;
	s.cr4 &= ~(1ULL << 5);		/* long mode without PAE */
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	s = good;
	s.cr0 &= ~(1ULL << 31);		/* LMA without paging */
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	s = good;
	s.efer &= ~EFER_LMA;		/* paging with LME but not LMA */
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	s = good;
	mode_sregs(MODE_PROT32, &s);
	s.cs.l = 1;			/* a 64-bit CS outside long mode */
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	s = good;
	s.cr4 |= CR4_RESERVED15;
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	s = good;
	s.cr4 |= CR4_VMXE;		/* VMX on an AMD CPU */
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_SREGS, &s), EINVAL);
	/* A refused state leaves the vCPU as it was. */
	vcpu_get_sregs(v, &s);
	TEST_ASSERT_EQ(s.cr4, good.cr4);
	TEST_ASSERT_EQ(s.efer, good.efer);
	vm_free(v->vm);
}

TEST_CASE(fpu_round_trip)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_fpu in, out;
	int i;

	EXPECT_OK(ioctl(v->fd, KVM_GET_FPU, &in));
	TEST_ASSERT_EQ(in.fcw, 0x37f);		/* FNINIT state */
	/*
	 * DIFFERENCE: KVM's KVM_GET_FPU does not report MXCSR (it stays as
	 * the caller left it); yakvm reports it.  KVM_SET_FPU sets it on both.
	 */
	if (ctx->dev->is_yakvm)
		TEST_ASSERT_EQ(in.mxcsr, 0x1f80);
	in.fcw = 0x27f;
	in.mxcsr = 0x1fa0;
	for (i = 0; i < 16; i++)
		memset(in.xmm[i], 0x11 * (i + 1), 16);
	memset(in.fpr[0], 0x42, 10);
	EXPECT_OK(ioctl(v->fd, KVM_SET_FPU, &in));
	EXPECT_OK(ioctl(v->fd, KVM_GET_FPU, &out));
	TEST_ASSERT_EQ(out.fcw, in.fcw);
	if (ctx->dev->is_yakvm)
		TEST_ASSERT_EQ(out.mxcsr, in.mxcsr);
	TEST_ASSERT(!memcmp(out.xmm, in.xmm, sizeof(in.xmm)), "XMM registers differ");
	TEST_ASSERT(!memcmp(out.fpr[0], in.fpr[0], 10), "ST0 differs");
	expect_null_faults(v, KVM_GET_FPU, KVM_SET_FPU);
	vm_free(v->vm);
}

/* KVM answers unknown vCPU ioctls with -EINVAL (kvm_arch_vcpu_ioctl); so does yakvm. */
TEST_CASE(unknown_ioctl)
{
	struct vcpu *v = new_vcpu(ctx);

	EXPECT_ERRNO(ioctl(v->fd, KVM_UNKNOWN_IOCTL, 0), EINVAL);
	/* KVM_GET_REGS's number with the wrong size. */
	EXPECT_ERRNO(ioctl(v->fd, _IOR(KVMIO, 0x81, uint32_t), 0), EINVAL);
	vm_free(v->vm);
}

/* System and VM ioctls sent to a vCPU fd. */
TEST_CASE(wrong_fd_type)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_userspace_memory_region r = { .memory_size = 4096 };

	EXPECT_ERRNO(ioctl(v->fd, KVM_CREATE_VM, 0), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_GET_API_VERSION, 0), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_CREATE_VCPU, 1), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r), EINVAL);
	vm_free(v->vm);
}
