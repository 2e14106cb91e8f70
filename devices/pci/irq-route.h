/*
 * irq-route.h: ferry's whole KVM GSI routing table, in one place, and
 * KVM irqfds bound to it. KVM_SET_GSI_ROUTING replaces the entire table,
 * so this object always sends the routes KVM_CREATE_IRQCHIP installs by
 * default (GSI 0..15 -> IOAPIC pin n and PIC pin n % 8 of the master
 * (n < 8) or slave PIC; GSI 16..23 -> IOAPIC pin n only) followed by
 * the MSI routes device models add (GSI 24 and up). A passthrough
 * device binds an eventfd to an MSI GSI with an irqfd and reprograms
 * the route when the guest changes the vector; KVM re-targets bound
 * irqfds itself when the table changes.
 *
 * All ioctls go through an injectable function so unit tests run
 * without /dev/kvm. Thread-safe: one mutex; ioctls are issued under it.
 */
#ifndef DEVICES_PCI_IRQ_ROUTE_H
#define DEVICES_PCI_IRQ_ROUTE_H

#include <stdint.h>

#include "vmm/util.h"

struct irq_route;

/* GSIs KVM's in-kernel irqchip owns: 16 PIC+IOAPIC inputs, 24 IOAPIC pins. */
#define IRQ_ROUTE_PIC_GSIS 16
#define IRQ_ROUTE_IRQCHIP_GSIS 24
/* KVM rejects GSIs (and table sizes) at or above KVM_MAX_IRQ_ROUTES (4096). */
#define IRQ_ROUTE_MAX_GSI 4096

/* ioctl(2) shape: returns -1 with errno set on failure. */
typedef int (*irq_route_ioctl_fn)(int fd, unsigned long request, void *arg);

/*
 * Create the table for VM fd @vm_fd (borrowed). @ioctl_fn NULL means
 * ioctl(2). Issues no ioctl: KVM already holds the default table.
 * Returns 0 and *out, or -ENOMEM / -EINVAL.
 */
int __must_check irq_route__create(int vm_fd, irq_route_ioctl_fn ioctl_fn,
				   struct irq_route **out);

/*
 * Free the table. NULL-safe. Does not touch KVM (irqfds and routes die
 * with the VM fd); owners deassign their irqfds first if the VM lives on.
 */
void irq_route__destroy(struct irq_route *rt);

/*
 * Allocate the lowest free GSI >= 24, route it to MSI @addr/@data and
 * send the table. Returns 0 and *gsi, -ENOSPC (no GSI left) or the
 * ioctl's -errno (then nothing changed).
 */
int __must_check irq_route__add_msi(struct irq_route *rt, uint64_t addr,
				    uint32_t data, unsigned int *gsi);

/*
 * Point MSI GSI @gsi at @addr/@data; sends the table only if the
 * message changed. Returns 0, -ENOENT (not an MSI GSI we added) or the
 * ioctl's -errno (the old message stays).
 */
int __must_check irq_route__update_msi(struct irq_route *rt, unsigned int gsi,
				       uint64_t addr, uint32_t data);

/*
 * Drop MSI GSI @gsi and send the table. Returns 0, -ENOENT, -EBUSY (an
 * irqfd is still bound to it) or the ioctl's -errno.
 */
int __must_check irq_route__remove_msi(struct irq_route *rt, unsigned int gsi);

/* Message of MSI GSI @gsi. Returns 0 or -ENOENT. */
int irq_route__get_msi(struct irq_route *rt, unsigned int gsi, uint64_t *addr,
		       uint32_t *data);

/*
 * Batch many changes into one KVM_SET_GSI_ROUTING (e.g. when the guest
 * enables MSI-X with many vectors): between begin and end, changes
 * update the table here only. end sends it if anything changed and
 * returns 0 or the ioctl's -errno (the table stays marked unsent and
 * goes out with the next change). Nests.
 */
void irq_route__batch_begin(struct irq_route *rt);
int __must_check irq_route__batch_end(struct irq_route *rt);

/*
 * Bind eventfd @fd (borrowed) to @gsi with KVM_IRQFD: writes to @fd
 * inject @gsi. @gsi is an irqchip GSI (0..23) or an MSI GSI we added.
 * @resample_fd >= 0 (irqchip GSIs only) makes it a level-triggered
 * INTx source that KVM deasserts on EOI, signalling @resample_fd.
 * Returns 0, -EINVAL / -ENOENT, or the ioctl's -errno.
 */
int __must_check irq_route__irqfd_assign(struct irq_route *rt,
					 unsigned int gsi, int fd,
					 int resample_fd);

/* Unbind @fd from @gsi. Returns 0, -ENOENT or the ioctl's -errno. */
int irq_route__irqfd_deassign(struct irq_route *rt, unsigned int gsi, int fd);

/* Entries in the table as last built (irqchip + MSI), for diagnostics. */
unsigned int irq_route__nr_entries(struct irq_route *rt);

#endif /* DEVICES_PCI_IRQ_ROUTE_H */
