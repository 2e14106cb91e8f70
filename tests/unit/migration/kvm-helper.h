/*
 * kvm-helper.h: a bare KVM VM for state tests, made with ioctls only:
 * in-kernel irqchip and PIT, 2 MiB of RAM, vCPUs with KVM's supported
 * CPUID. Tests call kvm_helper_open() and skip() when it returns -1
 * (no /dev/kvm).
 */
#ifndef TESTS_UNIT_MIGRATION_KVM_HELPER_H
#define TESTS_UNIT_MIGRATION_KVM_HELPER_H

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KVM_HELPER_RAM (2u << 20)
#define KVM_HELPER_MAX_CPUID 256

struct kvm_helper {
	int kvm_fd;
	int vm_fd;
	void *ram;
	struct kvm_cpuid2 *cpuid;
};

static inline void kvm_helper_close(struct kvm_helper *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	if (k->ram)
		munmap(k->ram, KVM_HELPER_RAM);
	free(k->cpuid);
	memset(k, 0, sizeof(*k));
	k->kvm_fd = k->vm_fd = -1;
}

/* 0, or -1 when KVM is unavailable (skip), or -errno on failure. */
static inline int kvm_helper_open(struct kvm_helper *k)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_userspace_memory_region region;

	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0)
		return -1;
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		goto err;
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 ||
	    ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto err;
	k->ram = mmap(NULL, KVM_HELPER_RAM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->ram == MAP_FAILED) {
		k->ram = NULL;
		goto err;
	}
	memset(&region, 0, sizeof(region));
	region.memory_size = KVM_HELPER_RAM;
	region.userspace_addr = (unsigned long)k->ram;
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto err;
	k->cpuid = calloc(1, sizeof(*k->cpuid) +
			  KVM_HELPER_MAX_CPUID * sizeof(k->cpuid->entries[0]));
	if (!k->cpuid)
		goto err;
	k->cpuid->nent = KVM_HELPER_MAX_CPUID;
	if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, k->cpuid) < 0)
		goto err;
	return 0;
err:
	{
		int ret = errno ? -errno : -EIO;

		kvm_helper_close(k);
		return ret;
	}
}

/* A vCPU fd with CPUID set, or -errno. */
static inline int kvm_helper_vcpu(struct kvm_helper *k, unsigned int id)
{
	int fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, id);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, KVM_SET_CPUID2, k->cpuid) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

#endif /* TESTS_UNIT_MIGRATION_KVM_HELPER_H */
