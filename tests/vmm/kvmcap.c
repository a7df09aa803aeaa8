// SPDX-License-Identifier: GPL-2.0
/*
 * vmm-kvmcap DEV CAP: prints KVM_CHECK_EXTENSION(CAP) of the device DEV,
 * CAP by name (MAX_VCPUS, NR_VCPUS, MAX_VCPU_ID, NR_MEMSLOTS) or number.
 * The VMM tests compare yakvm's messages with what the device says, asked
 * by this helper rather than by the VMM under test.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const struct { const char *name; long cap; } caps[] = {
	{ "MAX_VCPUS", KVM_CAP_MAX_VCPUS },
	{ "NR_VCPUS", KVM_CAP_NR_VCPUS },
	{ "MAX_VCPU_ID", KVM_CAP_MAX_VCPU_ID },
	{ "NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS },
};

int main(int argc, char **argv)
{
	long cap = -1, r;
	size_t i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEV CAP\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (!strcmp(argv[2], caps[i].name))
			cap = caps[i].cap;
	if (cap < 0)
		cap = strtol(argv[2], NULL, 0);
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
	if (r < 0) {
		perror("KVM_CHECK_EXTENSION");
		return 1;
	}
	printf("%ld\n", r);
	close(fd);
	return 0;
}
