/*
 * irqchip-state-x86_64.h: the VM-wide interrupt and timer state KVM
 * keeps in the kernel, as plain data: the two 8259 PICs and the IOAPIC
 * (KVM_GET_IRQCHIP), the 8254 PIT (KVM_GET_PIT2) and the KVM clock
 * (KVM_GET_CLOCK). The LAPICs belong to the vCPUs (vcpu-state).
 */
#ifndef VMM_IRQCHIP_STATE_X86_64_H
#define VMM_IRQCHIP_STATE_X86_64_H

#include <linux/kvm.h>
#include <stdint.h>

#include "vmm/util.h"

struct state_writer;
struct state_reader;
struct migration;

struct irqchip_state {
	struct kvm_pic_state pic[2];     /* master, slave */
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
};

struct clock_state {
	uint64_t clock;    /* kvmclock nanoseconds */
	uint32_t flags;    /* KVM_CLOCK_* as KVM reported them */
	uint64_t realtime; /* host CLOCK_REALTIME ns, if KVM_CLOCK_REALTIME */
	uint64_t host_tsc; /* host TSC, if KVM_CLOCK_HOST_TSC */
};

/*
 * Read / write the PICs, IOAPIC and PIT of VM @vm_fd (irqchip and PIT2
 * created). Set order: PIC master, PIC slave, IOAPIC, PIT (which
 * restarts its counters from the loaded counts). Returns 0 or -errno
 * after logging.
 */
int __must_check irqchip_state__get(int vm_fd, struct irqchip_state *s);
int __must_check irqchip_state__set(int vm_fd, const struct irqchip_state *s);

/* Save as properties/child nodes of the open node; load node @node. */
int irqchip_state__save(struct state_writer *w, const struct irqchip_state *s);
int irqchip_state__load(struct state_reader *r, int node,
			struct irqchip_state *s);

/*
 * Read the KVM clock / set it to @s->clock, so guest time continues
 * from the moment of the save (time while saved does not pass for the
 * guest). Call set last, right before the vCPUs run. 0 or -errno.
 */
int __must_check clock_state__get(int vm_fd, struct clock_state *s);
int __must_check clock_state__set(int vm_fd, const struct clock_state *s);
int clock_state__save(struct state_writer *w, const struct clock_state *s);
int clock_state__load(struct state_reader *r, int node, struct clock_state *s);

/*
 * Register handlers "irqchip" (MIG_ORDER_IRQCHIP) and "clock"
 * (MIG_ORDER_CLOCK) for VM @vm_fd (borrowed; must outlive @mig).
 * Returns 0 or -errno; on failure neither is registered.
 */
int __must_check irqchip_state__register(struct migration *mig, int vm_fd);

#endif /* VMM_IRQCHIP_STATE_X86_64_H */
