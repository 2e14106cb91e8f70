/*
 * irqchip-state-x86_64.c: PIC/IOAPIC/PIT and KVM clock state between
 * KVM and plain data, their state-tree encoding (one node per chip, one
 * property per register), and the "irqchip" and "clock" migration
 * handlers.
 */
#include "vmm/irqchip-state-x86_64.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "migration/registry.h"
#include "migration/state-fdt-read.h"
#include "vmm/log.h"

#define PIC_CHIPS 2
#define PIT_CHANNELS 3

static int ifail(const char *what)
{
	int ret = -errno;

	log_err("irqchip: %s: %s", what, strerror(-ret));
	return ret;
}

int irqchip_state__get(int vm_fd, struct irqchip_state *s)
{
	struct kvm_irqchip chip;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < PIC_CHIPS; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i == 0 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return ifail("KVM_GET_IRQCHIP (PIC)");
		s->pic[i] = chip.chip.pic;
	}
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return ifail("KVM_GET_IRQCHIP (IOAPIC)");
	s->ioapic = chip.chip.ioapic;
	if (ioctl(vm_fd, KVM_GET_PIT2, &s->pit) < 0)
		return ifail("KVM_GET_PIT2");
	return 0;
}

int irqchip_state__set(int vm_fd, const struct irqchip_state *s)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	unsigned int i;

	for (i = 0; i < PIC_CHIPS; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i == 0 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		chip.chip.pic = s->pic[i];
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return ifail("KVM_SET_IRQCHIP (PIC)");
	}
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	chip.chip.ioapic = s->ioapic;
	if (ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
		return ifail("KVM_SET_IRQCHIP (IOAPIC)");
	pit = s->pit;
	if (ioctl(vm_fd, KVM_SET_PIT2, &pit) < 0)
		return ifail("KVM_SET_PIT2");
	return 0;
}

#define PICF(m) STATE_FIELD(struct kvm_pic_state, m)
static const struct state_field pic_fields[] = {
	PICF(last_irr), PICF(irr), PICF(imr), PICF(isr), PICF(priority_add),
	PICF(irq_base), PICF(read_reg_select), PICF(poll), PICF(special_mask),
	PICF(init_state), PICF(auto_eoi), PICF(rotate_on_auto_eoi),
	PICF(special_fully_nested_mode), PICF(init4), PICF(elcr),
	PICF(elcr_mask),
};

#define IOAF(m) STATE_FIELD(struct kvm_ioapic_state, m)
static const struct state_field ioapic_fields[] = {
	IOAF(base_address), IOAF(ioregsel), IOAF(id), IOAF(irr),
};

#define PITF(m) STATE_FIELD(struct kvm_pit_channel_state, m)
static const struct state_field pit_channel_fields[] = {
	PITF(count), PITF(latched_count), PITF(count_latched),
	PITF(status_latched), PITF(status), PITF(read_state),
	PITF(write_state), PITF(write_latch), PITF(rw_mode), PITF(mode),
	PITF(bcd), PITF(gate), PITF(count_load_time),
};

static const char *const pic_names[PIC_CHIPS] = { "pic-master", "pic-slave" };
static const char *const pit_names[PIT_CHANNELS] = { "channel0", "channel1",
						     "channel2" };

int irqchip_state__save(struct state_writer *w, const struct irqchip_state *s)
{
	uint64_t redir[KVM_IOAPIC_NUM_PINS];
	unsigned int i;

	for (i = 0; i < PIC_CHIPS; i++) {
		state__begin(w, pic_names[i]);
		state__put_fields(w, pic_fields, ARRAY_SIZE(pic_fields), &s->pic[i]);
		state__end(w);
	}
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		redir[i] = s->ioapic.redirtbl[i].bits;
	state__begin(w, "ioapic");
	state__put_fields(w, ioapic_fields, ARRAY_SIZE(ioapic_fields), &s->ioapic);
	state__put_u64_array(w, "redirtbl", redir, KVM_IOAPIC_NUM_PINS);
	state__end(w);
	state__begin(w, "pit");
	state__put_u32(w, "flags", s->pit.flags);
	for (i = 0; i < PIT_CHANNELS; i++) {
		state__begin(w, pit_names[i]);
		state__put_fields(w, pit_channel_fields,
				  ARRAY_SIZE(pit_channel_fields),
				  &s->pit.channels[i]);
		state__end(w);
	}
	state__end(w);
	return state_writer__status(w);
}

int irqchip_state__load(struct state_reader *r, int node,
			struct irqchip_state *s)
{
	uint64_t redir[KVM_IOAPIC_NUM_PINS];
	unsigned int i;
	size_t n;
	int sub, pit;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < PIC_CHIPS; i++) {
		sub = state__node(r, node, pic_names[i]);
		state__get_fields(r, sub, pic_fields, ARRAY_SIZE(pic_fields),
				  &s->pic[i]);
	}
	sub = state__node(r, node, "ioapic");
	state__get_fields(r, sub, ioapic_fields, ARRAY_SIZE(ioapic_fields),
			  &s->ioapic);
	if (!state__get_u64_array(r, sub, "redirtbl", redir,
				  KVM_IOAPIC_NUM_PINS, &n)) {
		if (n != KVM_IOAPIC_NUM_PINS)
			return state__fail(r, sub, "redirtbl has %zu pins, expected %d",
					   n, KVM_IOAPIC_NUM_PINS);
		for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
			s->ioapic.redirtbl[i].bits = redir[i];
	}
	pit = state__node(r, node, "pit");
	state__get_u32(r, pit, "flags", &s->pit.flags);
	for (i = 0; i < PIT_CHANNELS; i++) {
		sub = state__node(r, pit, pit_names[i]);
		state__get_fields(r, sub, pit_channel_fields,
				  ARRAY_SIZE(pit_channel_fields),
				  &s->pit.channels[i]);
	}
	if (state_reader__status(r))
		return state_reader__status(r);
	/*
	 * A count reloads at most 65536; modes are 3 bits (6 and 7 alias
	 * 2 and 3), and KVM reports 0xff for a channel never programmed.
	 */
	for (i = 0; i < PIT_CHANNELS; i++)
		if (s->pit.channels[i].count > 0x10000 ||
		    (s->pit.channels[i].mode > 7 && s->pit.channels[i].mode != 0xff))
			return state__fail(r, pit, "%s: count %u / mode %u out of range",
					   pit_names[i], s->pit.channels[i].count,
					   s->pit.channels[i].mode);
	return 0;
}

int clock_state__get(int vm_fd, struct clock_state *s)
{
	struct kvm_clock_data c;

	memset(&c, 0, sizeof(c));
	memset(s, 0, sizeof(*s));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &c) < 0)
		return ifail("KVM_GET_CLOCK");
	s->clock = c.clock;
	s->flags = c.flags;
	s->realtime = c.realtime;
	s->host_tsc = c.host_tsc;
	return 0;
}

int clock_state__set(int vm_fd, const struct clock_state *s)
{
	struct kvm_clock_data c;

	/* Flags 0: set the clock value only, do not advance by realtime. */
	memset(&c, 0, sizeof(c));
	c.clock = s->clock;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0)
		return ifail("KVM_SET_CLOCK");
	return 0;
}

static const struct state_field clock_fields[] = {
	STATE_FIELD(struct clock_state, clock),
	STATE_FIELD(struct clock_state, flags),
	STATE_FIELD(struct clock_state, realtime),
	STATE_FIELD(struct clock_state, host_tsc),
};

int clock_state__save(struct state_writer *w, const struct clock_state *s)
{
	return state__put_fields(w, clock_fields, ARRAY_SIZE(clock_fields), s);
}

int clock_state__load(struct state_reader *r, int node, struct clock_state *s)
{
	memset(s, 0, sizeof(*s));
	return state__get_fields(r, node, clock_fields, ARRAY_SIZE(clock_fields),
				 s);
}

/* ---- migration handlers: "irqchip" and "clock" ---- */

struct irqchip_mig {
	int vm_fd; /* borrowed */
	struct irqchip_state staged;
};

struct clock_mig {
	int vm_fd; /* borrowed */
	struct clock_state staged;
};

static int irqchip_mig_save(void *opaque, struct state_writer *w)
{
	struct irqchip_mig *m = opaque;
	struct irqchip_state s;
	int ret = irqchip_state__get(m->vm_fd, &s);

	return ret ? ret : irqchip_state__save(w, &s);
}

static int irqchip_mig_load(void *opaque, struct state_reader *r, int node,
			    uint32_t version)
{
	struct irqchip_mig *m = opaque;

	return irqchip_state__load(r, node, &m->staged);
}

static int irqchip_mig_apply(void *opaque)
{
	struct irqchip_mig *m = opaque;

	return irqchip_state__set(m->vm_fd, &m->staged);
}

static int clock_mig_save(void *opaque, struct state_writer *w)
{
	struct clock_mig *m = opaque;
	struct clock_state s;
	int ret = clock_state__get(m->vm_fd, &s);

	return ret ? ret : clock_state__save(w, &s);
}

static int clock_mig_load(void *opaque, struct state_reader *r, int node,
			  uint32_t version)
{
	struct clock_mig *m = opaque;

	return clock_state__load(r, node, &m->staged);
}

static int clock_mig_apply(void *opaque)
{
	struct clock_mig *m = opaque;

	return clock_state__set(m->vm_fd, &m->staged);
}

static const struct mig_handler_ops irqchip_mig_ops = {
	.version = 1,
	.order = MIG_ORDER_IRQCHIP,
	.save_state = irqchip_mig_save,
	.load_state = irqchip_mig_load,
	.load_apply = irqchip_mig_apply,
	.release = free,
};

static const struct mig_handler_ops clock_mig_ops = {
	.version = 1,
	.order = MIG_ORDER_CLOCK,
	.save_state = clock_mig_save,
	.load_state = clock_mig_load,
	.load_apply = clock_mig_apply,
	.release = free,
};

int irqchip_state__register(struct migration *mig, int vm_fd)
{
	struct irqchip_mig *im;
	struct clock_mig *cm;
	int ret;

	im = calloc(1, sizeof(*im));
	cm = calloc(1, sizeof(*cm));
	if (!im || !cm) {
		free(im);
		free(cm);
		return -ENOMEM;
	}
	im->vm_fd = vm_fd;
	cm->vm_fd = vm_fd;
	ret = migration__register(mig, "irqchip", &irqchip_mig_ops, im);
	if (ret) {
		free(im);
		free(cm);
		return ret;
	}
	ret = migration__register(mig, "clock", &clock_mig_ops, cm);
	if (ret) {
		free(cm);
		migration__unregister(mig, "irqchip");
	}
	return ret;
}
