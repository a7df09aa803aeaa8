// SPDX-License-Identifier: GPL-2.0
/*
 * yakvm module entry: the /dev/yakvm misc device and its system ioctls.
 *
 * The ioctl numbers and structures are KVM's (<linux/kvm.h>); semantics follow
 * Documentation/virt/kvm/api.rst, so any KVM client runs on /dev/yakvm.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "yakvm.h"

/* KVM_CHECK_EXTENSION: only what yakvm really implements answers non-zero. */
long yakvm_check_extension(long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_INTERNAL_ERROR_DATA:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_SET_BOOT_CPU_ID:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_CHECK_EXTENSION_VM:
		return 1;
	/* The in-kernel irqchip (irq/), its PIT, and the HLT it makes in-kernel. */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_HLT:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_REINJECT_CONTROL:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	/* The IOAPIC keeps the polarity bit but never inverts a line, as KVM. */
	case KVM_CAP_IOAPIC_POLARITY_IGNORED:
		return 1;
	/* LAPICs in the kernel, PIC and IOAPIC in the VMM (KVM_ENABLE_CAP). */
	case KVM_CAP_SPLIT_IRQCHIP:
		return 1;
	/* The page offset of the ring in the vCPU mmap (api.rst). */
	case KVM_CAP_COALESCED_MMIO:
		return KVM_COALESCED_MMIO_PAGE_OFFSET;
	case KVM_CAP_COALESCED_PIO:
		return 1;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return YAKVM_DIRTY_LOG_MANUAL_CAPS;
	case KVM_CAP_IRQ_ROUTING:
		return YAKVM_MAX_IRQ_ROUTES;
	case KVM_CAP_MCE:
		return YAKVM_MAX_MCE_BANKS;
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_X86_ROBUST_SINGLESTEP:
	/*
	 * Hyper-V (cpu/hyperv.c, irq/synic.c): the enlightenments, the time
	 * MSRs and their CPUID on the system fd and a vCPU's, the VP index a
	 * VMM sets, the SynIC (KVM_ENABLE_CAP on a vCPU) with its timers and
	 * KVM_HYPERV_EVENTFD.
	 */
	case KVM_CAP_HYPERV:
	case KVM_CAP_HYPERV_TIME:
	case KVM_CAP_HYPERV_CPUID:
	case KVM_CAP_SYS_HYPERV_CPUID:
	case KVM_CAP_HYPERV_VP_INDEX:
	case KVM_CAP_HYPERV_SYNIC:
	case KVM_CAP_HYPERV_SYNIC2:
	case KVM_CAP_HYPERV_EVENTFD:
	case KVM_CAP_ENABLE_CAP:
		return 1;
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
		return boot_cpu_has(X86_FEATURE_XSAVE);
	case KVM_CAP_XSAVE2:
		/* x87, SSE and AVX state fit KVM's 4 KiB struct kvm_xsave. */
		return boot_cpu_has(X86_FEATURE_XSAVE) ? sizeof(struct kvm_xsave) : 0;
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	case KVM_CAP_NR_VCPUS:
		return min_t(int, num_online_cpus(), YAKVM_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_MAX_VCPU_ID:
		return YAKVM_MAX_VCPUS;
	case KVM_CAP_NR_MEMSLOTS:
		return YAKVM_MAX_SLOTS;
	default:
		return 0;
	}
}

static long yakvm_dev_ioctl(struct file *filp, unsigned int ioctl,
			    unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		return arg ? -EINVAL : YAKVM_API_VERSION;
	case KVM_CREATE_VM:
		return yakvm_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return yakvm_check_extension(arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : YAKVM_RUN_PAGES * PAGE_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return yakvm_get_supported_cpuid((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return yakvm_get_msr_index_list((void __user *)arg);
	case KVM_X86_GET_MCE_CAP_SUPPORTED:
		return yakvm_get_mce_cap_supported((void __user *)arg);
	case KVM_GET_SUPPORTED_HV_CPUID:
		return yakvm_get_supported_hv_cpuid(NULL, (void __user *)arg);
	default:
		/* KVM answers unknown system ioctls on x86 with -EINVAL. */
		return -EINVAL;
	}
}

static const struct file_operations yakvm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = yakvm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice yakvm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "yakvm",
	.fops = &yakvm_dev_fops,
	.mode = 0600,
};

static int __init yakvm_init(void)
{
	int r;

	r = yakvm_svm_init();
	if (r)
		return r;
	r = yakvm_cpuid_init();
	if (r)
		goto err_svm;
	r = yakvm_msr_init();
	if (r)
		goto err_cpuid;
	r = yakvm_eventfd_init();
	if (r)
		goto err_cpuid;
	yakvm_stats_init();
	r = misc_register(&yakvm_dev);
	if (r) {
		pr_err("cannot register /dev/yakvm: %d\n", r);
		goto err_stats;
	}
	pr_info("ready: /dev/yakvm\n");
	return 0;

err_stats:
	yakvm_stats_exit();
	yakvm_eventfd_exit();
err_cpuid:
	yakvm_cpuid_exit();
err_svm:
	yakvm_svm_exit();
	return r;
}

static void __exit yakvm_exit(void)
{
	misc_deregister(&yakvm_dev);
	yakvm_stats_exit();
	yakvm_eventfd_exit();
	yakvm_cpuid_exit();
	yakvm_svm_exit();
	pr_info("unloaded\n");
}

module_init(yakvm_init);
module_exit(yakvm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("yakvm: an AMD-V (SVM) hypervisor behind the KVM ABI");
