/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints yakvm:yakvm_entry and yakvm:yakvm_exit, readable with perf,
 * trace-cmd or /sys/kernel/tracing/events/yakvm/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM yakvm

#if !defined(_YAKVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _YAKVM_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(yakvm_entry,
	TP_PROTO(unsigned int vm, unsigned int vcpu, u64 rip, u64 rflags,
		 u32 event_inj, u32 int_ctl),
	TP_ARGS(vm, vcpu, rip, rflags, event_inj, int_ctl),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(u64, rip)
		__field(u64, rflags)
		__field(u32, event_inj)
		__field(u32, int_ctl)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->rip = rip;
		__entry->rflags = rflags;
		__entry->event_inj = event_inj;
		__entry->int_ctl = int_ctl;
	),
	TP_printk("vm %u vcpu %u rip 0x%llx rflags 0x%llx inject 0x%x int_ctl 0x%x",
		  __entry->vm, __entry->vcpu, __entry->rip, __entry->rflags,
		  __entry->event_inj, __entry->int_ctl)
);

TRACE_EVENT(yakvm_exit,
	TP_PROTO(unsigned int vm, unsigned int vcpu, u32 exit_code, u64 rip,
		 u64 info1, u64 info2, u32 int_info),
	TP_ARGS(vm, vcpu, exit_code, rip, info1, info2, int_info),
	TP_STRUCT__entry(
		__field(unsigned int, vm)
		__field(unsigned int, vcpu)
		__field(u32, exit_code)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
		__field(u32, int_info)
	),
	TP_fast_assign(
		__entry->vm = vm;
		__entry->vcpu = vcpu;
		__entry->exit_code = exit_code;
		__entry->rip = rip;
		__entry->info1 = info1;
		__entry->info2 = info2;
		__entry->int_info = int_info;
	),
	TP_printk("vm %u vcpu %u reason 0x%x %s rip 0x%llx info 0x%llx 0x%llx intinfo 0x%x",
		  __entry->vm, __entry->vcpu, __entry->exit_code,
		  __print_symbolic(__entry->exit_code,
				   { SVM_EXIT_EXCP_BASE + 1, "db" },
				   { SVM_EXIT_EXCP_BASE + 3, "bp" },
				   { SVM_EXIT_EXCP_BASE + 17, "ac" },
				   { SVM_EXIT_EXCP_BASE + 18, "mc" },
				   { SVM_EXIT_WRITE_CR4, "cr4_write" },
				   { SVM_EXIT_INTR, "intr" },
				   { SVM_EXIT_NMI, "nmi" },
				   { SVM_EXIT_VINTR, "vintr" },
				   { SVM_EXIT_SWINT, "swint" },
				   { SVM_EXIT_CPUID, "cpuid" },
				   { SVM_EXIT_HLT, "hlt" },
				   { SVM_EXIT_IOIO, "io" },
				   { SVM_EXIT_MSR, "msr" },
				   { SVM_EXIT_SHUTDOWN, "shutdown" },
				   { SVM_EXIT_VMMCALL, "vmmcall" },
				   { SVM_EXIT_XSETBV, "xsetbv" },
				   { SVM_EXIT_NPF, "npf" },
				   { (u32)SVM_EXIT_ERR, "invalid" }),
		  __entry->rip, __entry->info1, __entry->info2,
		  __entry->int_info)
);

/* A state or value refused, and the name of the rule it breaks (cpu/cr.c). */
TRACE_EVENT(yakvm_check_failed,
	TP_PROTO(const char *what, const char *rule),
	TP_ARGS(what, rule),
	TP_STRUCT__entry(
		__string(what, what)
		__string(rule, rule)
	),
	TP_fast_assign(
		yakvm_assign_str(what, what);
		yakvm_assign_str(rule, rule);
	),
	TP_printk("%s: %s", __get_str(what), __get_str(rule))
);

#endif /* _YAKVM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
