// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side stress for the tests, switched on through debugfs
 * (yakvm/stress/, root only): things the host kernel does anyway, made to
 * happen often enough that a test sees the race they can expose.
 *
 *   fpu_irq_period_ns   every online CPU runs an hrtimer in hard-interrupt
 *                       context that uses the FPU (kernel_fpu_begin) and
 *                       fills the vector registers with a host pattern,
 *                       as crypto or RAID code in an interrupt would; a
 *                       guest must never see that pattern, and the host's
 *                       user registers must not change (tests/fpu_isolation)
 *   fpu_irq_uses        how often the timers used the FPU so far
 *
 * Nothing here runs unless a test writes a period; writing 0 stops it.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>

#include "yakvm.h"

/* What the interrupt leaves in every vector register: "yakvmhst". */
#define HOST_PATTERN	0x7473686d766b6179ULL

static DEFINE_PER_CPU(struct hrtimer, fpu_irq_timer);
static DEFINE_MUTEX(stress_lock);
static u64 fpu_irq_period_ns;
static atomic64_t fpu_irq_uses;
static struct dentry *stress_dir;

static void fill_vector_registers(void)
{
	asm volatile("movq %0, %%xmm0\n\t"
		     "punpcklqdq %%xmm0, %%xmm0\n\t"
		     "movdqa %%xmm0, %%xmm1\n\t"
		     "movdqa %%xmm0, %%xmm2\n\t"
		     "movdqa %%xmm0, %%xmm3\n\t"
		     "movdqa %%xmm0, %%xmm4\n\t"
		     "movdqa %%xmm0, %%xmm5\n\t"
		     "movdqa %%xmm0, %%xmm6\n\t"
		     "movdqa %%xmm0, %%xmm7\n\t"
		     "movdqa %%xmm0, %%xmm8\n\t"
		     "movdqa %%xmm0, %%xmm9\n\t"
		     "movdqa %%xmm0, %%xmm10\n\t"
		     "movdqa %%xmm0, %%xmm11\n\t"
		     "movdqa %%xmm0, %%xmm12\n\t"
		     "movdqa %%xmm0, %%xmm13\n\t"
		     "movdqa %%xmm0, %%xmm14\n\t"
		     "movdqa %%xmm0, %%xmm15\n\t"
		     : : "r"(HOST_PATTERN));
	if (boot_cpu_has(X86_FEATURE_AVX) && boot_cpu_has(X86_FEATURE_OSXSAVE) &&
	    (xgetbv(XCR_XFEATURE_ENABLED_MASK) & XFEATURE_MASK_YMM))
		asm volatile("vinsertf128 $1, %%xmm0, %%ymm0, %%ymm0\n\t"
			     "vmovaps %%ymm0, %%ymm1\n\t"
			     "vmovaps %%ymm0, %%ymm7\n\t"
			     "vmovaps %%ymm0, %%ymm15\n\t" : :);
}

static enum hrtimer_restart fpu_irq_fn(struct hrtimer *timer)
{
	u64 period = READ_ONCE(fpu_irq_period_ns);

	if (!period)
		return HRTIMER_NORESTART;
	if (irq_fpu_usable()) {
		kernel_fpu_begin();
		fill_vector_registers();
		kernel_fpu_end();
		atomic64_inc(&fpu_irq_uses);
	}
	hrtimer_forward_now(timer, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

static void fpu_irq_start_here(void *unused)
{
	struct hrtimer *t = this_cpu_ptr(&fpu_irq_timer);

	hrtimer_start(t, ns_to_ktime(READ_ONCE(fpu_irq_period_ns)),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void fpu_irq_stop_all(void)
{
	int cpu;

	WRITE_ONCE(fpu_irq_period_ns, 0);
	for_each_possible_cpu(cpu)
		hrtimer_cancel(per_cpu_ptr(&fpu_irq_timer, cpu));
}

static int fpu_irq_period_get(void *data, u64 *val)
{
	*val = READ_ONCE(fpu_irq_period_ns);
	return 0;
}

/* At least 10 us: the timers must leave the CPUs time for anything else. */
static int fpu_irq_period_set(void *data, u64 val)
{
	if (val && val < 10000)
		return -EINVAL;
	mutex_lock(&stress_lock);
	fpu_irq_stop_all();
	if (val) {
		WRITE_ONCE(fpu_irq_period_ns, val);
		on_each_cpu(fpu_irq_start_here, NULL, 1);
	}
	mutex_unlock(&stress_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fpu_irq_period_fops, fpu_irq_period_get,
			 fpu_irq_period_set, "%llu\n");

static int fpu_irq_uses_get(void *data, u64 *val)
{
	*val = atomic64_read(&fpu_irq_uses);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fpu_irq_uses_fops, fpu_irq_uses_get, NULL, "%llu\n");

void yakvm_stress_init(struct dentry *parent)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hrtimer *t = per_cpu_ptr(&fpu_irq_timer, cpu);

		hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
		t->function = fpu_irq_fn;
	}
	stress_dir = debugfs_create_dir("stress", parent);
	debugfs_create_file_unsafe("fpu_irq_period_ns", 0600, stress_dir, NULL,
				   &fpu_irq_period_fops);
	debugfs_create_file_unsafe("fpu_irq_uses", 0400, stress_dir, NULL,
				   &fpu_irq_uses_fops);
}

/* Module exit: after debugfs is gone, so no writer can restart a timer. */
void yakvm_stress_exit(void)
{
	fpu_irq_stop_all();
}
