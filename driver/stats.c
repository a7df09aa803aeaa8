// SPDX-License-Identifier: GPL-2.0
/*
 * Counters in debugfs under yakvm/: module-wide object counts (what a
 * create/destroy loop must return to), and per VM and per vCPU statistics.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

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

	seq_printf(m, "vcpus %d\n", READ_ONCE(vm->nr_vcpus));
	seq_printf(m, "pinned_pages %lu\n", READ_ONCE(vm->pinned_pages));
	seq_printf(m, "npt_table_pages %lu\n", READ_ONCE(vm->npt.table_pages));
	seq_printf(m, "npt_mapped_pages %lu\n", READ_ONCE(vm->npt.mapped_pages));
	seq_printf(m, "npt_faults %llu\n", READ_ONCE(vm->stats.npt_faults));
	seq_printf(m, "mmio_faults %llu\n", READ_ONCE(vm->stats.mmio_faults));
	seq_printf(m, "slot_changes %llu\n", READ_ONCE(vm->stats.slot_changes));
	seq_printf(m, "remote_flushes %llu\n", READ_ONCE(vm->stats.remote_flushes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm);

static int vcpu_show(struct seq_file *m, void *unused)
{
	struct yakvm_vcpu *vcpu = m->private;
	struct yakvm_vcpu_stats *st = &vcpu->stats;

	seq_printf(m, "entries %llu\n", READ_ONCE(st->entries));
	seq_printf(m, "exits %llu\n", READ_ONCE(st->exits));
	seq_printf(m, "exit_intr %llu\n", READ_ONCE(st->exit_intr));
	seq_printf(m, "exit_io %llu\n", READ_ONCE(st->exit_io));
	seq_printf(m, "exit_npf %llu\n", READ_ONCE(st->exit_npf));
	seq_printf(m, "exit_hlt %llu\n", READ_ONCE(st->exit_hlt));
	seq_printf(m, "exit_cpuid %llu\n", READ_ONCE(st->exit_cpuid));
	seq_printf(m, "exit_msr %llu\n", READ_ONCE(st->exit_msr));
	seq_printf(m, "exit_other %llu\n", READ_ONCE(st->exit_other));
	seq_printf(m, "user_exit_io %llu\n", READ_ONCE(st->user_exits[KVM_EXIT_IO]));
	seq_printf(m, "user_exit_mmio %llu\n", READ_ONCE(st->user_exits[KVM_EXIT_MMIO]));
	seq_printf(m, "user_exit_hlt %llu\n", READ_ONCE(st->user_exits[KVM_EXIT_HLT]));
	seq_printf(m, "injected_exceptions %llu\n",
		   READ_ONCE(st->injected_exceptions));
	seq_printf(m, "asid_allocs %llu\n", READ_ONCE(st->asid_allocs));
	seq_printf(m, "signal_exits %llu\n", READ_ONCE(st->signal_exits));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcpu);

void yakvm_stats_init(void)
{
	yakvm_debugfs = debugfs_create_dir("yakvm", NULL);
	debugfs_create_file("objects", 0444, yakvm_debugfs, NULL, &objects_fops);
}

void yakvm_stats_exit(void)
{
	debugfs_remove_recursive(yakvm_debugfs);
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
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	vcpu->debugfs = debugfs_create_file(name, 0444, vcpu->vm->debugfs,
					    vcpu, &vcpu_fops);
}
