/*
 * kvm.h: the /dev/kvm system fd: opening it with a clear diagnosis when
 * it is missing or not accessible, the API version check, and the list
 * of capabilities ferry needs (all checked once, up front).
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stdbool.h>

struct kvm_cpuid2;

struct kvm {
	int fd;              /* owned: /dev/kvm */
	int vcpu_mmap_size;  /* size of struct kvm_run mapping */
	unsigned int max_vcpus;
	struct kvm_cpuid2 *cpuid; /* owned: KVM_GET_SUPPORTED_CPUID */
};

/*
 * Open @path (normally "/dev/kvm"), check KVM_GET_API_VERSION == 12 and
 * every capability ferry uses. Logs one line naming what is wrong and
 * returns -errno: -ENOENT (no such device), -EACCES (permissions),
 * -ENOTSUP (API version or a capability missing).
 */
int kvm__open(const char *path, struct kvm **out);

/* Close and free. NULL-safe. */
void kvm__close(struct kvm *kvm);

/* True if KVM_CHECK_EXTENSION reports @cap (on the system fd). */
bool kvm__has_cap(const struct kvm *kvm, int cap);

#endif /* VMM_KVM_H */
