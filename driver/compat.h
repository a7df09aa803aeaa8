/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel versions yakvm builds against: Debian 12's two kernel lines,
 * 6.1 (the default) and 6.12 (bookworm-security).  Every difference between
 * them that the module's code meets is here, each with the release and the
 * upstream commit that made it, so the rest of the module is written once,
 * in the newer kernel's terms.  docs/packaging.md explains how both are built
 * and tested.
 *
 * Where the kernel itself offers a test (a macro the change introduced),
 * that test is used instead of the version number, so a distribution kernel
 * that backported the change also builds.  checkpatch's LINUX_VERSION_CODE
 * rule is for code merged into one kernel; scripts/style.sh waives it (and
 * its constant-comparison rule) for this file alone, so a version check
 * anywhere else still fails the style check.
 *
 * Not here because it needs no version check: 6.1's asm/virtext.h, gone in
 * 6.12, gave cpu_svm_disable(); svm/svm.c has its own (svm_cpu_off).
 */
#ifndef YAKVM_COMPAT_H
#define YAKVM_COMPAT_H

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kvm.h>
#include <linux/rcupdate.h>
#include <linux/version.h>

/*
 * 6.12, "introduce fd_file(), convert all accessors to it": struct fd lost
 * its .file member (it became one tagged word); the file is fd_file(f).
 */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/*
 * 6.8, "eventfd: simplify eventfd_signal()": the count argument is gone
 * (every caller passed 1).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define yakvm_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#else
#define yakvm_eventfd_signal(ctx)	eventfd_signal(ctx)
#endif

/*
 * 6.2, "rcu: Remove unused 'cpu' in rcu_virt_note_context_switch()".
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define yakvm_rcu_virt_note_context_switch() \
	rcu_virt_note_context_switch(smp_processor_id())
#else
#define yakvm_rcu_virt_note_context_switch()	rcu_virt_note_context_switch()
#endif

/*
 * 6.11, "KVM: Ensure new code that references immediate_exit gets extra
 * scrutiny": inside the kernel, <linux/kvm.h> names the field
 * immediate_exit__unsafe (HINT_UNSAFE_IN_KVM), to mark a value user space
 * may change at any time.  yakvm reads it once per use, like every kvm_run
 * field.
 */
#ifdef HINT_UNSAFE_IN_KVM
#define yakvm_run_immediate_exit(run)	READ_ONCE((run)->immediate_exit__unsafe)
#else
#define yakvm_run_immediate_exit(run)	READ_ONCE((run)->immediate_exit)
#endif

/*
 * 6.10, "tracing/treewide: Remove second parameter of __assign_str()": the
 * source of a __string() field is named once, in __string().
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#define yakvm_assign_str(dst, src)	__assign_str(dst, src)
#else
#define yakvm_assign_str(dst, src)	do { (void)(src); __assign_str(dst); } while (0)
#endif

/*
 * 6.12, "KVM: Add a module param to allow enabling virtualization when KVM
 * is loaded": with kvm.enable_virt_at_load=1, the default, kvm_amd turns
 * SVM on in every CPU when it is loaded, not when its first VM is created,
 * and keeps it until it is unloaded; before, and with the parameter at 0,
 * it holds SVM only while it has VMs.  yakvm behaves the same either way
 * (docs/design.md, "Sharing SVM with kvm_amd"); only the advice it logs
 * when it finds SVM taken differs.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define YAKVM_SVM_BUSY_HINT \
	"since Linux 6.12 kvm_amd holds SVM from the moment it is loaded (kvm.enable_virt_at_load=1, the default): unload it with 'modprobe -r kvm_amd', or load kvm with enable_virt_at_load=0, and yakvm and KVM take turns"
#else
#define YAKVM_SVM_BUSY_HINT \
	"kvm_amd holds SVM while it has VMs; yakvm can create VMs once they are gone"
#endif

/*
 * 6.4, "trace: Add trace_ipi_send_cpumask()": smp_send_reschedule() became
 * a macro that fires the ipi_send_cpu tracepoint, so its callers include
 * the tracepoint's declaration (as virt/kvm/kvm_main.c does).  It must come
 * before any CREATE_TRACE_POINTS, which yakvm.h, where this is included,
 * always does.  Harmless on 6.1.
 */
#include <trace/events/ipi.h>

#endif
