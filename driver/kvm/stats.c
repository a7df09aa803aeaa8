// SPDX-License-Identifier: GPL-2.0
/*
 * Counters in debugfs under yakvm/: module-wide object counts (what a
 * create/destroy loop must return to), and per VM and per vCPU statistics.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <asm/mem_encrypt.h>

#include "yakvm.h"

struct yakvm_counters yakvm_counters;
static struct dentry *yakvm_debugfs;

static int objects_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "vms %ld\n", atomic_long_read(&yakvm_counters.vms));
	seq_printf(m, "vcpus %ld\n", atomic_long_read(&yakvm_counters.vcpus));
	seq_printf(m, "slots %ld\n", atomic_long_read(&yakvm_counters.slots));
	seq_printf(m, "pinned_pages %ld\n",
		   atomic_long_read(&yakvm_counters.pinned_pages));
	seq_printf(m, "npt_pages %ld\n",
		   atomic_long_read(&yakvm_counters.npt_pages));
	seq_printf(m, "kernel_pages %ld\n",
		   atomic_long_read(&yakvm_counters.kernel_pages));
	seq_printf(m, "svm_users %d\n", yakvm_svm_users());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objects);

static int vm_show(struct seq_file *m, void *unused)
{
	struct yakvm_vm *vm = m->private;
	u64 npt_faults = 0, mmio_faults = 0;
	/* vcpus[] up to nr_vcpus is filled in (release in yakvm_create_vcpu). */
	int i, n = smp_load_acquire(&vm->nr_vcpus);

	for (i = 0; i < n; i++) {
		npt_faults += READ_ONCE(vm->vcpus[i]->stats.npt_faults);
		mmio_faults += READ_ONCE(vm->vcpus[i]->stats.mmio_faults);
	}

	seq_printf(m, "vcpus %d\n", READ_ONCE(vm->nr_vcpus));
	seq_printf(m, "pinned_pages %lu\n", READ_ONCE(vm->pinned_pages));
	seq_printf(m, "npt_table_pages %lu\n", READ_ONCE(vm->npt.table_pages));
	seq_printf(m, "npt_mapped_pages %lu\n", READ_ONCE(vm->npt.mapped_pages));
	seq_printf(m, "npt_faults %llu\n", npt_faults);
	seq_printf(m, "mmio_faults %llu\n", mmio_faults);
	seq_printf(m, "slot_changes %llu\n", READ_ONCE(vm->stats.slot_changes));
	seq_printf(m, "remote_flushes %llu\n", READ_ONCE(vm->stats.remote_flushes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm);

/* Names of the exits a guest commonly causes (APM appendix C). */
static const char *const exit_names[YAKVM_EXIT_BUCKETS] = {
	[SVM_EXIT_WRITE_CR4] = "cr4_write",
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR7] = "dr",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_DB] = "db",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_BP] = "bp",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_UD] = "ud",
	[SVM_EXIT_SWINT] = "swint",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_AC] = "ac",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_MC] = "mc",
	[SVM_EXIT_INTR] = "intr",
	[SVM_EXIT_NMI] = "nmi",
	[SVM_EXIT_SMI] = "smi",
	[SVM_EXIT_VINTR] = "vintr",
	[SVM_EXIT_CPUID] = "cpuid",
	[SVM_EXIT_RDPMC] = "rdpmc",
	[SVM_EXIT_INVD] = "invd",
	[SVM_EXIT_HLT] = "hlt",
	[SVM_EXIT_INVLPGA] = "invlpga",
	[SVM_EXIT_IOIO] = "io",
	[SVM_EXIT_MSR] = "msr",
	[SVM_EXIT_TASK_SWITCH] = "task_switch",
	[SVM_EXIT_SHUTDOWN] = "shutdown",
	[SVM_EXIT_VMRUN] = "vmrun",
	[SVM_EXIT_VMMCALL] = "vmmcall",
	[SVM_EXIT_VMLOAD] = "vmload",
	[SVM_EXIT_VMSAVE] = "vmsave",
	[SVM_EXIT_STGI] = "stgi",
	[SVM_EXIT_CLGI] = "clgi",
	[SVM_EXIT_SKINIT] = "skinit",
	[SVM_EXIT_RDTSCP] = "rdtscp",
	[SVM_EXIT_WBINVD] = "wbinvd",
	[SVM_EXIT_MONITOR] = "monitor",
	[SVM_EXIT_MWAIT] = "mwait",
	[SVM_EXIT_XSETBV] = "xsetbv",
	[SVM_EXIT_RDPRU] = "rdpru",
	[YAKVM_BUCKET_NPF] = "npf",
	[YAKVM_BUCKET_INVALID] = "invalid",
};

static const char *const user_exit_names[KVM_EXIT_NOTIFY + 1] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
};

/*
 * One "name value" pair per line: totals first, then every exit code and
 * every user-space exit reason seen so far (yakvm stat parses this).
 */
static int vcpu_show(struct seq_file *m, void *unused)
{
	struct yakvm_vcpu *vcpu = m->private;
	struct yakvm_vcpu_stats *st = &vcpu->stats;
	int i;

	seq_printf(m, "entries %llu\n", READ_ONCE(st->entries));
	seq_printf(m, "exits %llu\n", READ_ONCE(st->exits));
	seq_printf(m, "injected_exceptions %llu\n",
		   READ_ONCE(st->injected_exceptions));
	seq_printf(m, "injected_irqs %llu\n", READ_ONCE(st->injected_irqs));
	seq_printf(m, "asid_allocs %llu\n", READ_ONCE(st->asid_allocs));
	seq_printf(m, "npt_faults %llu\n", READ_ONCE(st->npt_faults));
	seq_printf(m, "mmio_faults %llu\n", READ_ONCE(st->mmio_faults));
	seq_printf(m, "signal_exits %llu\n", READ_ONCE(st->signal_exits));
	seq_printf(m, "coalesced_writes %llu\n", READ_ONCE(st->coalesced_writes));
	seq_printf(m, "coalesced_full %llu\n", READ_ONCE(st->coalesced_full));
	for (i = 0; i < YAKVM_EXIT_BUCKETS; i++) {
		u64 n = READ_ONCE(st->exit_codes[i]);

		if (!n)
			continue;
		if (exit_names[i])
			seq_printf(m, "exit_%s", exit_names[i]);
		else
			seq_printf(m, "exit_0x%x", i);
		if (i >= SVM_EXIT_READ_DR0 && i <= SVM_EXIT_WRITE_DR7)
			seq_printf(m, "%d", i - SVM_EXIT_READ_DR0);
		seq_printf(m, " %llu\n", n);
	}
	for (i = 0; i <= KVM_EXIT_NOTIFY; i++) {
		u64 n = READ_ONCE(st->user_exits[i]);

		if (!n)
			continue;
		if (user_exit_names[i])
			seq_printf(m, "user_%s %llu\n", user_exit_names[i], n);
		else
			seq_printf(m, "user_%d %llu\n", i, n);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcpu);

/*
 * A read-only view of the VMCB control fields and the vCPU's ASID state, so
 * tests can check what the hardware is given (intercepts, int_ctl, the
 * permission-map addresses).  Read while the vCPU may run: each field is
 * one aligned load, and a reader only ever sees a value that was there.
 */
static int vmcb_show(struct seq_file *m, void *unused)
{
	struct yakvm_vcpu *vcpu = m->private;
	const struct vmcb_control_area *c = &vcpu->vmcb->control;
	int i;

	for (i = 0; i < MAX_INTERCEPT; i++)
		seq_printf(m, "intercepts%d 0x%x\n", i, READ_ONCE(c->intercepts[i]));
	seq_printf(m, "iopm_base_pa 0x%llx\n", READ_ONCE(c->iopm_base_pa));
	seq_printf(m, "msrpm_base_pa 0x%llx\n", READ_ONCE(c->msrpm_base_pa));
	seq_printf(m, "asid %u\n", READ_ONCE(c->asid));
	seq_printf(m, "int_ctl 0x%x\n", READ_ONCE(c->int_ctl));
	seq_printf(m, "int_vector 0x%x\n", READ_ONCE(c->int_vector));
	seq_printf(m, "int_state 0x%x\n", READ_ONCE(c->int_state));
	seq_printf(m, "nested_ctl 0x%llx\n", READ_ONCE(c->nested_ctl));
	seq_printf(m, "nested_cr3 0x%llx\n", READ_ONCE(c->nested_cr3));
	seq_printf(m, "vmcb_pa 0x%llx\n", (u64)vcpu->vmcb_pa);
	seq_printf(m, "asid_generation %u\n", READ_ONCE(vcpu->asid_generation));
	seq_printf(m, "last_cpu %d\n", READ_ONCE(vcpu->last_cpu));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmcb);

static int cpus_show(struct seq_file *m, void *unused)
{
	yakvm_svm_show_cpus(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cpus);

void yakvm_stats_init(void)
{
	yakvm_debugfs = debugfs_create_dir("yakvm", NULL);
	debugfs_create_file("objects", 0444, yakvm_debugfs, NULL, &objects_fops);
	debugfs_create_file("cpus", 0444, yakvm_debugfs, NULL, &cpus_fops);
	yakvm_stress_init(yakvm_debugfs);
}

void yakvm_stats_exit(void)
{
	debugfs_remove_recursive(yakvm_debugfs);
	yakvm_stress_exit();
}

void yakvm_stats_vm_add(struct yakvm_vm *vm)
{
	char name[32];

	snprintf(name, sizeof(name), "vm%u-%d", vm->id, task_pid_nr(current));
	vm->debugfs = debugfs_create_dir(name, yakvm_debugfs);
	debugfs_create_file("stats", 0444, vm->debugfs, vm, &vm_fops);
}

void yakvm_stats_vm_remove(struct yakvm_vm *vm)
{
	/* Waits for readers of the VM's files to finish. */
	debugfs_remove_recursive(vm->debugfs);
	vm->debugfs = NULL;
}

void yakvm_stats_vcpu_add(struct yakvm_vcpu *vcpu)
{
	char name[24];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	vcpu->debugfs = debugfs_create_file(name, 0444, vcpu->vm->debugfs,
					    vcpu, &vcpu_fops);
	snprintf(name, sizeof(name), "vcpu%u-vmcb", vcpu->id);
	debugfs_create_file(name, 0444, vcpu->vm->debugfs, vcpu, &vmcb_fops);
}
