// SPDX-License-Identifier: GPL-2.0
/*
 * A guest reading and writing MSRs it has no business with: SVM's own
 * (EFER.SVME, VM_HSAVE_PA, VM_CR), SYSCFG, speculation control, TSC_AUX with
 * bad values, machine check and performance counters, bad values in the MSRs
 * it owns, and random indices in each MSR range.  Each access must give the
 * guest exactly its device's documented answer -- #GP or the emulated value
 * (driver/msr.c, docs/design.md; for KVM, KVM 6.1's) -- and must leave the
 * host's own MSRs, read on every CPU through /dev/cpu/N/msr, as they were.
 *
 * Both guests get the same CPUID features for what is compared: SVM and the
 * speculation-control bits are cleared from KVM's table too, so that KVM
 * answers as a CPU without them would, which is what yakvm offers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "modes.h"

#define MSR_SPEC_CTRL		0x48
#define MSR_PRED_CMD		0x49
#define MSR_UCODE_REV		0x8b
#define MSR_P6_PERFCTR0		0xc1
#define MSR_P6_EVNTSEL0		0x186
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MISC_ENABLE		0x1a0
#define MSR_MTRR_FIX64K		0x250
#define MSR_PAT			0x277
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_MC0_CTL		0x400
#define MSR_MC0_STATUS		0x401
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_TSC_AUX		0xc0000103
#define MSR_K7_PERF_CTL0	0xc0010000
#define MSR_K7_PERF_CTR0	0xc0010004
#define MSR_SYSCFG		0xc0010010
#define MSR_HWCR		0xc0010015
#define MSR_VM_CR		0xc0010114
#define MSR_VM_HSAVE_PA		0xc0010117
#define MSR_F15H_PERF_CTL0	0xc0010200
#define MSR_DE_CFG		0xc0011029

#define EFER_SCE		(1ULL << 0)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NX			(1ULL << 11)
#define EFER_SVME		(1ULL << 12)
#define EFER_GUEST		(EFER_LME | EFER_LMA)	/* what the library's long mode sets */
#define VM_CR_SVMDIS		(1ULL << 4)
#define VM_CR_LOCK		(1ULL << 3)
#define HWCR_MCSTATUSWREN	(1ULL << 18)
#define GP_VECTOR		13

/* ---------------------------------------------------------------- */
/* The guest: runs the host's list of accesses, records each answer */

enum msr_op { RDMSR, WRMSR, RDTSCP };

struct msr_access {
	uint32_t op;
	uint32_t index;
	uint64_t value;			/* written */
};

struct msr_answer {
	uint64_t faulted;		/* #GP */
	uint64_t value;			/* read (RDMSR), ECX (RDTSCP) */
};

#define MAX_ACCESSES	512

static struct msr_access accesses[MAX_ACCESSES];
static struct msr_answer answers[MAX_ACCESSES];
static uint64_t nr_accesses;
static volatile uint64_t gp_count;

static void skip_faulting_msr_insn(struct ex_regs *regs)
{
	gp_count++;
	regs->rip += 2;			/* RDMSR 0F 32, WRMSR 0F 30 */
}

static void guest_access(const struct msr_access *a, struct msr_answer *ans)
{
	uint64_t before = gp_count;
	uint32_t lo = 0, hi = 0, aux = 0;

	if (a->op == RDMSR)
		__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(a->index) : "memory");
	else if (a->op == WRMSR)
		__asm__ volatile("wrmsr" : : "a"((uint32_t)a->value), "d"((uint32_t)(a->value >> 32)),
				 "c"(a->index) : "memory");
	else
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	ans->faulted = gp_count != before;
	ans->value = a->op == RDTSCP ? aux : (uint64_t)hi << 32 | lo;
}

/* A SYNC before the accesses (the host looks at its MSRs), DONE after. */
static void guest_run_accesses(void)
{
	uint64_t i;

	guest_set_handler(GP_VECTOR, skip_faulting_msr_insn);
	GUEST_SYNC(0, 0);
	for (i = 0; i < nr_accesses; i++)
		guest_access(&accesses[i], &answers[i]);
}

/* ---------------------------------------------------------------- */
/* The documented answers                                           */

enum answer_kind { FAULT, ACCEPT, VALUE, SOME_VALUE, THE_CPUS };

struct answer {
	enum answer_kind kind;
	uint64_t value;
};

#define FAULTS		{ FAULT, 0 }
#define ACCEPTED	{ ACCEPT, 0 }
#define READS(v)	{ VALUE, (v) }
#define READS_SOMETHING	{ SOME_VALUE, 0 }
#define CPU_DECIDES	{ THE_CPUS, 0 }		/* passed through: whatever the CPU does */

struct msr_case {
	const char *what;
	struct msr_access access;
	struct answer yakvm, kvm;	/* kvm: KVM 6.1 (kvm_amd) */
};

#define RD(i)		{ RDMSR, (i), 0 }
#define WR(i, v)	{ WRMSR, (i), (v) }

/*
 * In order: later cases read what earlier ones wrote.  A DIFFERENCE comment
 * says why the two devices answer differently (docs/testing.md lists them).
 */
static const struct msr_case cases[] = {
	/* EFER.SVME is set underneath for VMRUN; the guest has no SVM, so it is reserved. */
	{ "EFER", RD(MSR_EFER), READS(EFER_GUEST), READS(EFER_GUEST) },
	{ "EFER with SVME", WR(MSR_EFER, EFER_GUEST | EFER_SVME), FAULTS, FAULTS },
	{ "EFER unchanged", WR(MSR_EFER, EFER_GUEST), ACCEPTED, ACCEPTED },
	{ "EFER reserved bit 1", WR(MSR_EFER, EFER_GUEST | 2), FAULTS, FAULTS },
	{ "EFER bit 63", WR(MSR_EFER, EFER_GUEST | 1ULL << 63), FAULTS, FAULTS },
	{ "EFER.LME cleared under paging", WR(MSR_EFER, EFER_LMA), FAULTS, FAULTS },
	{ "EFER with NXE and SCE", WR(MSR_EFER, EFER_GUEST | EFER_NX | EFER_SCE), ACCEPTED, ACCEPTED },
	{ "EFER after NXE", RD(MSR_EFER), READS(EFER_GUEST | EFER_NX | EFER_SCE),
	  READS(EFER_GUEST | EFER_NX | EFER_SCE) },
	{ "EFER back", WR(MSR_EFER, EFER_GUEST), ACCEPTED, ACCEPTED },
	{ "EFER at the end", RD(MSR_EFER), READS(EFER_GUEST), READS(EFER_GUEST) },
	/*
	 * DIFFERENCE: KVM emulates VM_HSAVE_PA and VM_CR for nested SVM even
	 * when the guest's CPUID has no SVM; yakvm has no nested SVM: VM_CR
	 * reads SVMDIS|LOCK and is read-only, VM_HSAVE_PA does not exist.
	 */
	{ "VM_HSAVE_PA", RD(MSR_VM_HSAVE_PA), FAULTS, READS(0) },
	{ "VM_HSAVE_PA = 0x1000", WR(MSR_VM_HSAVE_PA, 0x1000), FAULTS, ACCEPTED },
	{ "VM_HSAVE_PA unaligned", WR(MSR_VM_HSAVE_PA, 0x1fff), FAULTS, FAULTS },
	{ "VM_HSAVE_PA after", RD(MSR_VM_HSAVE_PA), FAULTS, READS(0x1000) },
	{ "VM_CR", RD(MSR_VM_CR), READS(VM_CR_SVMDIS | VM_CR_LOCK), READS(0) },
	{ "VM_CR = SVMDIS", WR(MSR_VM_CR, VM_CR_SVMDIS), FAULTS, ACCEPTED },
	{ "VM_CR reserved bit 5", WR(MSR_VM_CR, 1 << 5), FAULTS, FAULTS },
	{ "VM_CR after", RD(MSR_VM_CR), READS(VM_CR_SVMDIS | VM_CR_LOCK), READS(VM_CR_SVMDIS) },
	/* SYSCFG reads 0 and is read-only (KVM: not a writable MSR). */
	{ "SYSCFG", RD(MSR_SYSCFG), READS(0), READS(0) },
	{ "SYSCFG = MtrrFixDramModEn", WR(MSR_SYSCFG, 1 << 19), FAULTS, FAULTS },
	{ "SYSCFG = 0", WR(MSR_SYSCFG, 0), FAULTS, FAULTS },
	/* Speculation control: not in either guest's CPUID. */
	{ "SPEC_CTRL", RD(MSR_SPEC_CTRL), FAULTS, FAULTS },
	{ "SPEC_CTRL = IBRS", WR(MSR_SPEC_CTRL, 1), FAULTS, FAULTS },
	{ "SPEC_CTRL = 0", WR(MSR_SPEC_CTRL, 0), FAULTS, FAULTS },
	{ "PRED_CMD = IBPB", WR(MSR_PRED_CMD, 1), FAULTS, FAULTS },
	{ "PRED_CMD", RD(MSR_PRED_CMD), FAULTS, FAULTS },
	/* TSC_AUX belongs to the guest (RDTSCP is in both CPUIDs). */
	{ "TSC_AUX = 0x1234", WR(MSR_TSC_AUX, 0x1234), ACCEPTED, ACCEPTED },
	{ "TSC_AUX", RD(MSR_TSC_AUX), READS(0x1234), READS(0x1234) },
	{ "RDTSCP's ECX", { RDTSCP, 0, 0 }, READS(0x1234), READS(0x1234) },
	/*
	 * DIFFERENCE: bits 63:32 of TSC_AUX: KVM drops them for a guest that
	 * is not Intel (AMD CPUs ignore them); yakvm treats them as reserved
	 * (#GP, as Intel's SDM says), so the write has no effect.
	 */
	{ "TSC_AUX bits 63:32", WR(MSR_TSC_AUX, 0x100005678ULL), FAULTS, ACCEPTED },
	{ "TSC_AUX after", RD(MSR_TSC_AUX), READS(0x1234), READS(0x5678) },
	{ "TSC_AUX = ~0u", WR(MSR_TSC_AUX, 0xffffffff), ACCEPTED, ACCEPTED },
	{ "RDTSCP's ECX after", { RDTSCP, 0, 0 }, READS(0xffffffff), READS(0xffffffff) },
	/*
	 * Both emulate machine-check banks (KVM_X86_SETUP_MCE, 32 banks by
	 * default) whatever the CPUID says (QEMU adds MCE and MCA itself).
	 * Writes both refuse: MCi_CTL takes only 0 or all ones, MCi_STATUS
	 * only 0 unless HWCR.McStatusWrEn.
	 */
	{ "MCG_CAP", RD(MSR_MCG_CAP), READS(32), READS(32) },
	{ "MCG_STATUS", RD(MSR_MCG_STATUS), READS(0), READS(0) },
	{ "MCG_STATUS = 0", WR(MSR_MCG_STATUS, 0), ACCEPTED, ACCEPTED },
	{ "MCG_CTL (no MCG_CTL_P)", RD(MSR_MCG_CTL), FAULTS, FAULTS },
	{ "MC0_CTL", RD(MSR_MC0_CTL), READS(0), READS(0) },
	{ "MC0_CTL = 5", WR(MSR_MC0_CTL, 5), FAULTS, FAULTS },
	{ "MC0_STATUS", RD(MSR_MC0_STATUS), READS(0), READS(0) },
	{ "MC0_STATUS = 1", WR(MSR_MC0_STATUS, 1), FAULTS, FAULTS },
	{ "HWCR = McStatusWrEn", WR(MSR_HWCR, HWCR_MCSTATUSWREN), ACCEPTED, ACCEPTED },
	{ "HWCR", RD(MSR_HWCR), READS(HWCR_MCSTATUSWREN), READS(HWCR_MCSTATUSWREN) },
	{ "MC0_STATUS = 1 with McStatusWrEn", WR(MSR_MC0_STATUS, 1), ACCEPTED, ACCEPTED },
	{ "HWCR = 0", WR(MSR_HWCR, 0), ACCEPTED, ACCEPTED },
	/*
	 * The legacy performance-counter MSRs (K7 PERF_CTL/CTR, P6
	 * EVNTSEL/PERFCTR) without a PMU for the guest: KVM reads 0 and
	 * ignores writes, and guests rely on it (kvm-unit-tests clears the K7
	 * counters in every test's setup); yakvm raised #GP until it did the
	 * same.
	 */
	{ "PERF_CTL0", RD(MSR_K7_PERF_CTL0), READS(0), READS(0) },
	{ "PERF_CTL0 = enable", WR(MSR_K7_PERF_CTL0, 0x430076), ACCEPTED, ACCEPTED },
	{ "PERF_CTL0 after the write", RD(MSR_K7_PERF_CTL0), READS(0), READS(0) },
	{ "PERF_CTR3 = 1", WR(MSR_K7_PERF_CTL0 + 7, 1), ACCEPTED, ACCEPTED },
	{ "PERF_CTR0", RD(MSR_K7_PERF_CTR0), READS(0), READS(0) },
	{ "P6 PERFCTR0", RD(MSR_P6_PERFCTR0), READS(0), READS(0) },
	{ "P6 EVNTSEL1 = 0", WR(MSR_P6_EVNTSEL0 + 1, 0), ACCEPTED, ACCEPTED },
	{ "K7 PERF_CTL after the counters", RD(MSR_K7_PERF_CTL0 + 8), FAULTS, FAULTS },
	{ "F15H PERF_CTL0 (no PERFCTR_CORE)", RD(MSR_F15H_PERF_CTL0), FAULTS, FAULTS },
	/*
	 * The guest's own MSRs with values no CPU takes.  LSTAR is among the
	 * MSRs VMLOAD/VMSAVE switch, which both devices pass through: the
	 * CPU decides (QEMU's emulated CPU takes a non-canonical value,
	 * real ones raise #GP).
	 */
	{ "LSTAR non-canonical", WR(MSR_LSTAR, 0x0000800000000000ULL), CPU_DECIDES, CPU_DECIDES },
	{ "PAT with type 2", WR(MSR_PAT, 0x0007040600070402ULL), FAULTS, FAULTS },
	{ "MTRRdefType reserved bit", WR(MSR_MTRR_DEF_TYPE, 1 << 12), FAULTS, FAULTS },
	/*
	 * DIFFERENCE: the microcode revision is made up: KVM's for AMD is
	 * patch level 0x01000065, yakvm's 0x100000000 (KVM's value for Intel).
	 */
	{ "microcode revision", RD(MSR_UCODE_REV), READS(0x100000000ULL), READS(0x01000065) },
};

#define NR_CASES	(sizeof(cases) / sizeof(cases[0]))

/* ---------------------------------------------------------------- */
/* Random indices                                                   */

#define RANDOM_PER_RANGE	12
#define RANDOM_SEED		0x5eed0005ULL
#define MAX_LISTED		1024

struct msr_range {
	uint32_t first, last;
};

/* Where CPUs have MSRs, and the rest of the index space. */
static const struct msr_range ranges[] = {
	{ 0x00000000, 0x00001fff }, { 0xc0000000, 0xc0001fff },
	{ 0xc0010000, 0xc0011fff }, { 0x00002000, 0xbfffffff },
	{ 0xc0012000, 0xffffffff },
};

/*
 * MSRs KVM answers without listing them in KVM_GET_MSR_INDEX_LIST: the
 * random picks leave them out, as they leave out every listed MSR.
 */
static const struct msr_range unlisted_but_emulated[] = {
	{ 0x11, 0x12 },				/* KVM's old paravirtual clock */
	{ 0x17, 0x17 }, { 0x2a, 0x2a },		/* PLATFORM_ID, EBL_CR_POWERON */
	{ 0x1d9, 0x1de },			/* DEBUGCTL, last branch records */
	{ 0x200, 0x2ff },			/* MTRRs, PAT */
	{ 0x400, 0x47f },			/* machine-check banks */
	{ 0x40000000, 0x400000ff },		/* Hyper-V, Xen */
	{ 0x4b564d00, 0x4b564dff },		/* KVM's paravirtual MSRs */
	{ 0xc0010000, 0xc0010007 },		/* K7 performance counters */
	{ 0xc001001f, 0xc001001f },		/* NB_CFG */
	{ 0xc0010200, 0xc001020b },		/* F15H performance counters */
};

static bool in_ranges(uint32_t index, const struct msr_range *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (index >= r[i].first && index <= r[i].last)
			return true;
	return false;
}

/* KVM_GET_MSR_INDEX_LIST (and KVM's feature MSRs, where the device has them). */
static size_t listed_msrs(struct vm *vm, uint32_t *out)
{
	static const unsigned long lists[] = { KVM_GET_MSR_INDEX_LIST,
					       KVM_GET_MSR_FEATURE_INDEX_LIST };
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + MAX_LISTED * sizeof(uint32_t));
	size_t i, n = 0;

	TEST_ASSERT(l, "out of memory");
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		l->nmsrs = MAX_LISTED - n;
		if (ioctl(vm->sys_fd, lists[i], l))
			continue;	/* yakvm has no feature MSRs */
		memcpy(out + n, l->indices, l->nmsrs * sizeof(uint32_t));
		n += l->nmsrs;
	}
	free(l);
	return n;
}

static bool listed(uint32_t index, const uint32_t *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == index)
			return true;
	return false;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random MSRs nobody emulates: a read and a write of each must raise #GP. */
static size_t add_random_accesses(struct vm *vm, struct msr_access *a)
{
	uint32_t list[MAX_LISTED];
	size_t nr_listed = listed_msrs(vm, list), n = 0, r;
	uint64_t seed = RANDOM_SEED;

	for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		int picked = 0;

		while (picked < RANDOM_PER_RANGE) {
			uint64_t span = (uint64_t)ranges[r].last - ranges[r].first + 1;
			uint32_t index = ranges[r].first + splitmix64(&seed) % span;

			if (listed(index, list, nr_listed) ||
			    in_ranges(index, unlisted_but_emulated,
				      sizeof(unlisted_but_emulated) / sizeof(unlisted_but_emulated[0])))
				continue;
			a[n++] = (struct msr_access){ RDMSR, index, 0 };
			a[n++] = (struct msr_access){ WRMSR, index, splitmix64(&seed) };
			picked++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- */
/* The host's MSRs, through /dev/cpu/N/msr                          */

#define MAX_CPUS	8
#define MSR_MODULE	"/lib/modules/msr.ko"

static const uint32_t host_msrs[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_SYSENTER_CS,
	MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_PAT, MSR_TSC_AUX, MSR_VM_HSAVE_PA,
	MSR_VM_CR, MSR_SYSCFG, MSR_HWCR, MSR_SPEC_CTRL, MSR_MTRR_DEF_TYPE,
	MSR_MTRR_FIX64K, MSR_MISC_ENABLE, MSR_MCG_STATUS, MSR_MC0_CTL, MSR_MC0_STATUS,
	MSR_K7_PERF_CTL0, MSR_DE_CFG,
};

#define NR_HOST_MSRS	(sizeof(host_msrs) / sizeof(host_msrs[0]))

struct host_msrs {
	int nr_cpus;
	bool readable[MAX_CPUS][NR_HOST_MSRS];	/* some are not, under TCG */
	uint64_t value[MAX_CPUS][NR_HOST_MSRS];
};

/* /dev/cpu/N/msr, loading the msr module if needed; false if there is none. */
static bool host_msr_device(void)
{
	int fd;

	if (!access("/dev/cpu/0/msr", R_OK))
		return true;
	fd = open(MSR_MODULE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return !access("/dev/cpu/0/msr", R_OK);
}

static void read_host_msrs(struct host_msrs *h)
{
	int cpu;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (h->nr_cpus > MAX_CPUS)
		h->nr_cpus = MAX_CPUS;
	for (cpu = 0; cpu < h->nr_cpus; cpu++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		TEST_ASSERT(fd >= 0, "%s: %s", path, strerror(errno));
		for (i = 0; i < NR_HOST_MSRS; i++)
			h->readable[cpu][i] = pread(fd, &h->value[cpu][i], 8, host_msrs[i]) == 8;
		close(fd);
	}
}

static void expect_host_msrs(const struct host_msrs *before, const struct host_msrs *after,
			     const char *when)
{
	int cpu;
	size_t i;

	for (cpu = 0; cpu < before->nr_cpus; cpu++)
		for (i = 0; i < NR_HOST_MSRS; i++)
			TEST_ASSERT(after->readable[cpu][i] == before->readable[cpu][i] &&
				    after->value[cpu][i] == before->value[cpu][i],
				    "%s: the host's MSR 0x%x on CPU %d is 0x%llx, was 0x%llx",
				    when, host_msrs[i], cpu,
				    (unsigned long long)after->value[cpu][i],
				    (unsigned long long)before->value[cpu][i]);
}

static int readable_count(const struct host_msrs *h)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NR_HOST_MSRS; i++)
		n += h->readable[0][i];
	return n;
}

static uint64_t host_efer(const struct host_msrs *h, int cpu)
{
	TEST_ASSERT(h->readable[cpu][0], "the host's EFER is not readable");
	return h->value[cpu][0];
}

/* ---------------------------------------------------------------- */
/* Running the accesses                                             */

/* Both guests without SVM and speculation control (CPUID 0x80000001, 7, 0x80000008). */
static void hide_svm_and_spec_ctrl(struct vcpu *v)
{
	const int max = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	uint32_t i;

	TEST_ASSERT(c, "out of memory");
	c->nent = max;
	EXPECT_OK(ioctl(v->vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c));
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0x80000001)
			e->ecx &= ~(1u << 2);			/* SVM */
		if (e->function == 7 && e->index == 0)
			e->edx &= ~(0xbu << 28 | 1u << 26);	/* IBRS, STIBP, ARCH_CAP, SSBD */
		if (e->function == 0x80000008)
			e->ebx &= ~(0xffu << 12 | 7u << 24);	/* IBPB ... SSBD, VIRT_SSBD */
	}
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
}

struct hostile_run {
	size_t nr;
	struct msr_access accesses[MAX_ACCESSES];
	struct msr_answer answers[MAX_ACCESSES];
	struct host_msrs at_start, vm_alive, after_guest, at_end;
	bool host_checked;
};

/* Runs the table's and the random accesses in a guest, reading the host's MSRs around. */
static void run_hostile_guest(const struct test_dev *dev, struct hostile_run *r)
{
	struct vcpu *v;
	struct ucall uc;
	size_t i;

	r->host_checked = host_msr_device();
	if (r->host_checked)
		read_host_msrs(&r->at_start);
	v = vm_with_long_code(dev, guest_run_accesses, 0);
	hide_svm_and_spec_ctrl(v);
	for (i = 0; i < NR_CASES; i++)
		r->accesses[i] = cases[i].access;
	r->nr = NR_CASES + add_random_accesses(v->vm, r->accesses + NR_CASES);
	memcpy(&guest_global(v->vm, accesses), r->accesses, sizeof(r->accesses));
	guest_global(v->vm, nr_accesses) = r->nr;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	if (r->host_checked)
		read_host_msrs(&r->vm_alive);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	if (r->host_checked)
		read_host_msrs(&r->after_guest);
	memcpy(r->answers, &guest_global(v->vm, answers), sizeof(r->answers));
	vm_free(v->vm);
	if (r->host_checked)
		read_host_msrs(&r->at_end);
}

static const char *answer_str(const struct msr_answer *a)
{
	static char buf[64];

	if (a->faulted)
		return "#GP";
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)a->value);
	return buf;
}

static void expect_answer(const char *what, const struct msr_access *acc,
			  const struct answer *want, const struct msr_answer *got)
{
	bool ok = want->kind == FAULT ? got->faulted : !got->faulted;

	if (want->kind == THE_CPUS)
		return;
	if (ok && want->kind == VALUE)
		ok = got->value == want->value;
	if (ok)
		return;
	if (want->kind == FAULT)
		test_fail("%s (%s of MSR 0x%x): the guest got %s, expected #GP", what,
			  acc->op == WRMSR ? "write" : "read", acc->index, answer_str(got));
	test_fail("%s (%s of MSR 0x%x): the guest got %s, expected %s 0x%llx", what,
		  acc->op == WRMSR ? "write" : "read", acc->index, answer_str(got),
		  want->kind == VALUE ? "the value" : "no #GP",
		  (unsigned long long)want->value);
}

TEST_CASE_OPTS(documented_answers,
	       .why_not_compared = "the devices answer some MSRs differently by design; each answer is checked against its device's")
{
	static struct hostile_run r;
	const struct answer gp = FAULTS;
	size_t i;

	run_hostile_guest(ctx->dev, &r);
	for (i = 0; i < NR_CASES; i++)
		expect_answer(cases[i].what, &cases[i].access,
			      ctx->dev->is_yakvm ? &cases[i].yakvm : &cases[i].kvm, &r.answers[i]);
	for (i = NR_CASES; i < r.nr; i++)
		expect_answer("a random MSR", &r.accesses[i], &gp, &r.answers[i]);
	test_log("%zu accesses, %zu of them to random MSRs", r.nr, r.nr - NR_CASES);
}

/*
 * The host's MSRs are the same after the guest's accesses as before them,
 * on every CPU; and the same after the VM as before it (EFER.SVME and
 * VM_HSAVE_PA belong to the device while it has a VM).
 */
TEST_CASE_OPTS(host_msrs_unchanged, .why_not_compared = "as documented_answers")
{
	static struct hostile_run r;

	run_hostile_guest(ctx->dev, &r);
	if (!r.host_checked)
		test_fail("no /dev/cpu/N/msr (and no %s): the host's MSRs cannot be read",
			  MSR_MODULE);
	TEST_ASSERT(host_efer(&r.vm_alive, 0) & EFER_SVME,
		    "the host's EFER 0x%llx has no SVME while a VM exists",
		    (unsigned long long)host_efer(&r.vm_alive, 0));
	expect_host_msrs(&r.vm_alive, &r.after_guest, "after the guest's accesses");
	expect_host_msrs(&r.at_start, &r.at_end, "after the VM");
	test_log("%d of %zu host MSRs readable on CPU 0, all unchanged on %d CPUs",
		 readable_count(&r.at_start), NR_HOST_MSRS, r.at_start.nr_cpus);
}
