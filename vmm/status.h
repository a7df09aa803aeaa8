/* Exit statuses of the yakvm process.  Odd values belong to the guest: the
 * debug-exit port ends the VM with (value << 1) | 1, as QEMU's isa-debug-exit
 * does, so every status yakvm chooses itself is even. */
#ifndef YAKVM_STATUS_H
#define YAKVM_STATUS_H

enum yakvm_status {
	STATUS_HALTED = 0,		/* every vCPU executed HLT */
	STATUS_GUEST_RESET = 0,		/* the guest reset the machine: a reboot ends the VM */
	STATUS_USAGE = 2,		/* bad option, size, image or address */
	STATUS_SETUP = 4,		/* device or ioctl failure before the guest ran */
	STATUS_TRIPLE_FAULT = 6,	/* KVM_EXIT_SHUTDOWN */
	STATUS_INTERNAL = 8,		/* failed entry, internal error, unexpected exit */
	STATUS_STRICT = 10,		/* --strict: access to an unclaimed port/address */
	STATUS_QUIT = 12,		/* the user pressed the escape key (Ctrl-A x) */
	STATUS_SIGNAL_BASE = 128,	/* + signal number: stopped by SIGINT/SIGTERM/... */
};

#endif
