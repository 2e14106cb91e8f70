/*
 * irqchip-x86_64.c: in-kernel PIC/IOAPIC/LAPIC and PIT, plus the
 * thread-safe interrupt injection helpers of vm.h (irq lines and MSIs
 * go straight to KVM ioctls, which are safe from any thread).
 */
#include "vmm/irqchip-x86_64.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/log.h"
#include "vmm/vm-internal.h"

/*
 * Intel VMX needs three pages for its real-mode TSS and one for the
 * identity map, inside guest-physical space but outside RAM: the
 * conventional spot just below the BIOS area at the top of 4 GiB.
 */
#define IRQCHIP_TSS_ADDR 0xfffbd000ULL
#define IRQCHIP_IDENTITY_MAP_ADDR 0xfffbc000ULL

int irqchip__create(int vm_fd)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = IRQCHIP_IDENTITY_MAP_ADDR;
	int ret;

	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)IRQCHIP_TSS_ADDR) < 0) {
		ret = -errno;
		log_err("KVM_SET_TSS_ADDR: %s", strerror(-ret));
		return ret;
	}
	/* Only some hosts (VMX) need it; failure elsewhere is harmless. */
	if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		log_err("KVM_CREATE_IRQCHIP: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		log_err("KVM_CREATE_PIT2: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int vm__irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm__signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	/* Returns >0 delivered, 0 blocked by the guest: both are fine. */
	if (ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}
