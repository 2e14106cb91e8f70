/*
 * kvm.c: opening /dev/kvm and checking, once and up front, that the
 * host KVM offers everything ferry relies on, so a missing feature is a
 * clear startup error instead of a failure deep inside a running VM.
 */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/util.h"

/* KVM_GET_API_VERSION has returned 12 since Linux 2.6.22 and never changes. */
#define KVM_EXPECTED_API 12

/* CPUID leaves KVM reports; 256 is well above any current CPU's count. */
#define KVM_MAX_CPUID_ENTRIES 256

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "IRQFD" },
	{ KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
	{ KVM_CAP_MP_STATE, "MP_STATE" },
	{ KVM_CAP_VCPU_EVENTS, "VCPU_EVENTS" },
	{ KVM_CAP_DEBUGREGS, "DEBUGREGS" },
	{ KVM_CAP_XSAVE, "XSAVE" },
	{ KVM_CAP_XCRS, "XCRS" },
	{ KVM_CAP_ADJUST_CLOCK, "ADJUST_CLOCK" },
	{ KVM_CAP_PIT_STATE2, "PIT_STATE2" },
};

bool kvm__has_cap(const struct kvm *kvm, int cap)
{
	return ioctl(kvm->fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static int load_cpuid(struct kvm *kvm)
{
	struct kvm_cpuid2 *c;
	size_t sz = sizeof(*c) + KVM_MAX_CPUID_ENTRIES * sizeof(c->entries[0]);

	c = calloc(1, sz);
	if (!c)
		return -ENOMEM;
	c->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int ret = -errno;

		log_err("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-ret));
		free(c);
		return ret;
	}
	kvm->cpuid = c;
	return 0;
}

int kvm__open(const char *path, struct kvm **out)
{
	struct kvm *kvm;
	unsigned int i;
	int ret, v;

	kvm = calloc(1, sizeof(*kvm));
	if (!kvm)
		return -ENOMEM;
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			log_err("%s does not exist: this host has no KVM (load kvm-intel/kvm-amd, or enable nested virtualization)",
				path);
		else if (ret == -EACCES || ret == -EPERM)
			log_err("no permission to open %s: run as root or add your user to the group owning it (usually 'kvm')",
				path);
		else
			log_err("cannot open %s: %s", path, strerror(-ret));
		goto err_free;
	}
	v = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_EXPECTED_API) {
		log_err("%s: KVM API version %d, ferry needs %d", path, v,
			KVM_EXPECTED_API);
		ret = -ENOTSUP;
		goto err_close;
	}
	for (i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (!kvm__has_cap(kvm, required_caps[i].cap)) {
			log_err("%s: KVM lacks capability KVM_CAP_%s, which ferry needs",
				path, required_caps[i].name);
			ret = -ENOTSUP;
			goto err_close;
		}
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		log_err("%s: bad KVM_GET_VCPU_MMAP_SIZE %d", path,
			kvm->vcpu_mmap_size);
		ret = -ENOTSUP;
		goto err_close;
	}
	v = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (v <= 0)
		v = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = v > 0 ? (unsigned int)v : 1;
	ret = load_cpuid(kvm);
	if (ret)
		goto err_close;
	*out = kvm;
	return 0;

err_close:
	close(kvm->fd);
err_free:
	free(kvm);
	return ret;
}

void kvm__close(struct kvm *kvm)
{
	if (!kvm)
		return;
	if (kvm->fd >= 0)
		close(kvm->fd);
	free(kvm->cpuid);
	free(kvm);
}
