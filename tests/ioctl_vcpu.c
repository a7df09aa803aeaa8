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
#include "guest.h"
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

TEST_NO_GUEST(mmap_run_page)
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
TEST_NO_GUEST(mmap_beyond_size)
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

TEST_NO_GUEST(run_argument)
{
	struct vcpu *v = new_vcpu(ctx);

	EXPECT_ERRNO(ioctl(v->fd, KVM_RUN, 1), EINVAL);
	vm_free(v->vm);
}

TEST_NO_GUEST(reset_state)
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

TEST_NO_GUEST(regs_round_trip)
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

TEST_NO_GUEST(sregs_round_trip)
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
TEST_NO_GUEST(sregs_invalid)
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
TEST_NO_GUEST(unknown_ioctl)
{
	struct vcpu *v = new_vcpu(ctx);

	EXPECT_ERRNO(ioctl(v->fd, KVM_UNKNOWN_IOCTL, 0), EINVAL);
	/* KVM_GET_REGS's number with the wrong size. */
	EXPECT_ERRNO(ioctl(v->fd, _IOR(KVMIO, 0x81, uint32_t), 0), EINVAL);
	vm_free(v->vm);
}

/* System and VM ioctls sent to a vCPU fd. */
TEST_NO_GUEST(wrong_fd_type)
{
	struct vcpu *v = new_vcpu(ctx);
	struct kvm_userspace_memory_region r = { .memory_size = 4096 };

	EXPECT_ERRNO(ioctl(v->fd, KVM_CREATE_VM, 0), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_GET_API_VERSION, 0), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_CREATE_VCPU, 1), EINVAL);
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r), EINVAL);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* KVM_SET_CPUID2, KVM_GET_CPUID2                                   */

#define MAX_CPUID	256		/* KVM_MAX_CPUID_ENTRIES */
#define BRAND_LEAF	0x80000002

struct cpuid_table {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[MAX_CPUID + 1];
};

static struct kvm_cpuid_entry2 *find_leaf(struct cpuid_table *t, uint32_t function)
{
	uint32_t i;

	for (i = 0; i < t->h.nent; i++)
		if (t->e[i].function == function)
			return &t->e[i];
	test_fail("the table has no leaf 0x%x", function);
}

static void guest_brand(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(BRAND_LEAF), "c"(0));
	GUEST_SYNC((uint64_t)b << 32 | a, (uint64_t)d << 32 | c);
}

/* The guest sees the table the VMM set; after KVM_RUN it can no longer change. */
TEST_CASE(cpuid2)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_brand, 0);
	static struct cpuid_table t, back;
	struct kvm_cpuid_entry2 *brand;
	struct ucall uc;

	t.h.nent = MAX_CPUID;
	EXPECT_OK(ioctl(v->vm->sys_fd, KVM_GET_SUPPORTED_CPUID, &t));
	brand = find_leaf(&t, BRAND_LEAF);
	*brand = (struct kvm_cpuid_entry2){ .function = BRAND_LEAF, .eax = 0x74736574,
					    .ebx = 0x6b617920, .ecx = 0x6d766b61, .edx = 0x21 };
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, &t));
	back.h.nent = 1;
	EXPECT_ERRNO(ioctl(v->fd, KVM_GET_CPUID2, &back), E2BIG);
	back.h.nent = MAX_CPUID;
	EXPECT_OK(ioctl(v->fd, KVM_GET_CPUID2, &back));
	/* DIFFERENCE: KVM 6.1 leaves nent as the caller set it; yakvm sets the count. */
	TEST_ASSERT_EQ(back.h.nent, ctx->dev->is_yakvm ? t.h.nent : MAX_CPUID);
	back.h.nent = t.h.nent;
	/* (KVM adjusts a few leaves, e.g. leaf 1; the brand string it keeps.) */
	TEST_ASSERT(!memcmp(find_leaf(&back, BRAND_LEAF), brand, sizeof(*brand)),
		    "KVM_GET_CPUID2 returned another brand leaf");

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 0x6b61792074736574ULL);
	TEST_ASSERT_EQ(uc.args[1], 0x000000216d766b61ULL);
	/* The same table again is fine; a different one is refused. */
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, &t));
	brand->edx = 0x22;
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_CPUID2, &t), EINVAL);

	t.h.nent = MAX_CPUID + 1;
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_CPUID2, &t), E2BIG);
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_CPUID2, NULL), EFAULT);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* KVM_GET_MSRS, KVM_SET_MSRS                                       */

#define MSR_STAR	0xc0000081
#define MSR_PAT		0x277
#define MSR_BOGUS	0xdeadbeef
#define MAX_IO_MSRS	256

struct msr_list {
	struct kvm_msrs h;
	struct kvm_msr_entry e[MAX_IO_MSRS];
};

static uint64_t guest_rdmsr(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

static void guest_read_star(void)
{
	GUEST_SYNC(guest_rdmsr(MSR_STAR), guest_rdmsr(MSR_PAT));
}

/* Each call processes entries up to the first it cannot and says how many. */
TEST_CASE(msrs)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_read_star, 0);
	static struct msr_list l;
	struct ucall uc;

	l.h.nmsrs = 3;
	l.e[0] = (struct kvm_msr_entry){ .index = MSR_STAR, .data = 0x0023001000000000ULL };
	l.e[1] = (struct kvm_msr_entry){ .index = MSR_PAT, .data = 0x0007040600070406ULL };
	l.e[2] = (struct kvm_msr_entry){ .index = MSR_BOGUS, .data = 1 };
	TEST_ASSERT_EQ(EXPECT_OK(ioctl(v->fd, KVM_SET_MSRS, &l)), 2);
	l.e[0].data = l.e[1].data = 0;
	TEST_ASSERT_EQ(EXPECT_OK(ioctl(v->fd, KVM_GET_MSRS, &l)), 2);
	TEST_ASSERT_EQ(l.e[0].data, 0x0023001000000000ULL);
	TEST_ASSERT_EQ(l.e[1].data, 0x0007040600070406ULL);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 0x0023001000000000ULL);
	TEST_ASSERT_EQ(uc.args[1], 0x0007040600070406ULL);

	l.h.nmsrs = MAX_IO_MSRS;
	EXPECT_ERRNO(ioctl(v->fd, KVM_GET_MSRS, &l), E2BIG);
	EXPECT_ERRNO(ioctl(v->fd, KVM_SET_MSRS, NULL), EFAULT);
	vm_free(v->vm);
}
