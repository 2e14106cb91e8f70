/*
 * testdev-intx.c: ferry-testdev's legacy INTx line (--intx on): IRQ
 * index 0 (VFIO_PCI_INTX_IRQ_INDEX) with one eventfd-signalled,
 * maskable, automasked line, as a VFIO kernel driver offers it. Raising
 * the interrupt signals the trigger eventfd and masks the line; the
 * client unmasks it through its unmask eventfd (a KVM resample fd, which
 * the server loop polls) or SET_IRQS UNMASK, and an interrupt raised
 * while masked is signalled again then. The status register's Interrupt
 * Status bit is set from signalling to unmask. Like the kernel, INTx and
 * MSI-X eventfds exclude each other, and dropping the trigger drops the
 * unmask eventfd. Every SET_IRQS field is checked before anything
 * changes; the fds may be anything a hostile client sends, so the
 * trigger is only written when poll says it would not block and an
 * unmask fd that does not read like an eventfd is dropped.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void td__intx_init(struct testdev *td)
{
	td->intx_trigger = -1;
	td->intx_unmask = -1;
	td__intx_reset(td);
}

void td__intx_reset(struct testdev *td)
{
	td->intx_masked = false;
	td->intx_pending = false;
	td__cfg_set_intx_status(td, false);
}

void td__intx_release(struct testdev *td)
{
	close_fd(&td->intx_trigger);
	close_fd(&td->intx_unmask);
	td__intx_reset(td);
}

bool td__intx_in_use(const struct testdev *td)
{
	return td->intx_trigger >= 0 && !td__cfg_msix_enabled(td);
}

static bool msix_in_use(const struct testdev *td)
{
	unsigned int i;

	for (i = 0; i < TD_MSIX_VECTORS; i++)
		if (td->irq_fds[i] >= 0)
			return true;
	return false;
}

/* Signal the trigger and mask the line until the client unmasks it. */
static void intx_signal(struct testdev *td)
{
	struct pollfd p = { .fd = td->intx_trigger, .events = POLLOUT };
	uint64_t one = 1;

	td->intx_masked = true;
	td__cfg_set_intx_status(td, true);
	/* An eventfd is writable unless its counter is at the maximum. */
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT) ||
	    write(td->intx_trigger, &one, sizeof(one)) != sizeof(one)) {
		log_ratelimited(LOG_LEVEL_WARN, "INTx: trigger eventfd not writable");
		return;
	}
	log_debug("INTx asserted");
}

void td__intx_raise(struct testdev *td)
{
	if (td->intx_trigger < 0)
		return;
	if (td__cfg_intx_disabled(td)) {
		log_debug("INTx: interrupt dropped: INTx Disable is set");
		return;
	}
	if (td->intx_masked) {
		td->intx_pending = true;
		return;
	}
	intx_signal(td);
}

static void intx_unmask(struct testdev *td)
{
	bool fire = td->intx_pending && td->intx_trigger >= 0 &&
		    !td__cfg_intx_disabled(td);

	td->intx_masked = false;
	td->intx_pending = false;
	if (fire)
		intx_signal(td);
	else
		td__cfg_set_intx_status(td, false);
}

int td__intx_poll_fd(const struct testdev *td)
{
	return td->intx_unmask;
}

void td__intx_poll_event(struct testdev *td, short revents)
{
	uint64_t v;
	ssize_t n;

	if (td->intx_unmask < 0 || !revents)
		return;
	if (revents & POLLIN) {
		n = read(td->intx_unmask, &v, sizeof(v));
		if (n == sizeof(v)) {
			intx_unmask(td);
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	/* Hang-up, error, EOF or a short read: not a usable eventfd. */
	log_warn("INTx: unmask fd unusable (revents 0x%x): dropped",
		 (unsigned int)revents);
	close_fd(&td->intx_unmask);
}

/* Store @fd (owned; -1 drops) as the trigger or the unmask eventfd. */
static int assign(struct testdev *td, uint32_t action, int fd)
{
	if (action == VFIO_IRQ_SET_ACTION_UNMASK) {
		if (fd >= 0 && td->intx_trigger < 0) {
			close(fd);
			return -EINVAL; /* no line to unmask */
		}
		close_fd(&td->intx_unmask);
		td->intx_unmask = fd;
		return 0;
	}
	/* TRIGGER: a new trigger starts a fresh line; none tears it down. */
	close_fd(&td->intx_trigger);
	td->intx_trigger = fd;
	td__intx_reset(td);
	if (fd < 0)
		close_fd(&td->intx_unmask);
	log_info("INTx %s", fd >= 0 ? "enabled" : "disabled");
	return 0;
}

int td__intx_set_irqs(struct testdev *td, struct vfio_user_msg *m,
		      const struct vfio_user_irq_set *s, uint32_t data,
		      uint32_t action)
{
	size_t want_len = sizeof(*s);
	bool set = true; /* DATA_NONE, or DATA_BOOL's byte */
	int ret;

	if (!td->intx || s->start != 0 || s->count > 1)
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_BOOL)
		want_len += s->count;
	if (m->len != want_len || m->nr_fds > s->count ||
	    (m->nr_fds && data != VFIO_IRQ_SET_DATA_EVENTFD))
		return -EINVAL;
	if (s->count == 0) {
		/* Only "drop the eventfd" has no data (TRIGGER, UNMASK). */
		if (data != VFIO_IRQ_SET_DATA_NONE ||
		    action == VFIO_IRQ_SET_ACTION_MASK)
			return -EINVAL;
		ret = assign(td, action, -1);
		return ret ? ret : td__reply(td, m, NULL, 0, NULL, 0);
	}
	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return -EINVAL; /* masking through an eventfd: not offered */
		if (m->nr_fds && action == VFIO_IRQ_SET_ACTION_TRIGGER &&
		    msix_in_use(td))
			return -EBUSY; /* one interrupt type at a time */
		ret = assign(td, action,
			     m->nr_fds ? vfio_user__msg_take_fd(m, 0) : -1);
		return ret ? ret : td__reply(td, m, NULL, 0, NULL, 0);
	}
	/* DATA_NONE / DATA_BOOL with count 1: act now, on an enabled line. */
	if (td->intx_trigger < 0)
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_BOOL)
		set = m->data[sizeof(*s)] != 0;
	if (set) {
		switch (action) {
		case VFIO_IRQ_SET_ACTION_MASK: td->intx_masked = true; break;
		case VFIO_IRQ_SET_ACTION_UNMASK: intx_unmask(td); break;
		default: td__intx_raise(td); break; /* TRIGGER: loopback */
		}
	}
	return td__reply(td, m, NULL, 0, NULL, 0);
}
