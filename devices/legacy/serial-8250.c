/*
 * serial-8250.c: a 16550A-compatible UART. Enough of the chip for
 * polled output (earlyprintk, the test guest), interrupt-driven output
 * and input (Linux's 8250 driver), and the loopback probe drivers use.
 * The transmitter is infinitely fast: THR is always empty. Received
 * bytes from stdin wait in a ring; when it is full new input is dropped
 * (and counted) rather than blocking the VMM thread.
 */
#include "devices/legacy/serial-8250.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "devices/legacy/serial-8250-state.h"
#include "migration/handler.h"
#include "migration/registry.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/event.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* Register offsets (DLAB selects DLL/DLM at 0/1). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_NR_REGS 8

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0 /* FIFOs enabled (16550A) */
#define FCR_FIFO_ENABLE 0x01
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

/* Input ring: larger than a 16550's FIFO so pasted lines survive. */
#define SERIAL_RX_RING SERIAL_STATE_RX_MAX
/* Host reads from stdin in chunks of this size. */
#define SERIAL_READ_CHUNK 256

struct serial {
	struct device dev;
	struct vm *vm;
	pthread_mutex_t lock; /* protects everything below */
	int out_fd;           /* owned when out_owned */
	bool out_owned;
	int in_fd;            /* borrowed stdin, -1 when not watched */
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;    /* THRE interrupt not yet acknowledged */
	bool irq_level;
	uint8_t rx[SERIAL_RX_RING];
	unsigned int rx_head, rx_count;
	uint64_t rx_dropped;
	struct serial_state staged; /* restore: parsed, not yet applied */
};

static const struct bus_ops serial_ops;

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Called with s->lock held. */
static void update_irq(struct serial *s)
{
	bool level = !(iir(s) & IIR_NO_INT);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (vm__irq_line(s->vm, SERIAL_8250_IRQ, level))
		log_ratelimited(LOG_LEVEL_WARN, "%s: cannot set IRQ line",
				s->dev.id);
}

static void rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->rx_count == SERIAL_RX_RING) {
			s->rx_dropped++;
			continue;
		}
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_RING] = buf[i];
		s->rx_count++;
	}
}

static void emit(struct serial *s, uint8_t c)
{
	ssize_t w;

	if (s->mcr & MCR_LOOP) {
		rx_push(s, &c, 1);
		return;
	}
	if (s->out_fd < 0)
		return;
	do {
		w = write(s->out_fd, &c, 1);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		log_ratelimited(LOG_LEVEL_WARN, "%s: console write failed: %s",
				s->dev.id, strerror(errno));
}

static void serial_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct serial *s = opaque;
	uint8_t v = 0;

	memset(data, 0, len);
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_RING;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = iir(s);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP) {
			/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
			v = (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
				      ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
		} else {
			/* Carrier detect, data set ready, clear to send. */
			v = 0xb0;
		}
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
}

static void serial_write(void *opaque, uint64_t off, const void *data,
			 uint32_t len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			emit(s, v);
			s->thri_pending = true;
		}
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty THR raises it at once. */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & (FCR_FIFO_ENABLE | 0xc0);
		if (v & 0x02) { /* clear RX FIFO */
			s->rx_count = 0;
			s->rx_head = 0;
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

static void on_stdin(void *opaque, uint32_t events)
{
	struct serial *s = opaque;
	uint8_t buf[SERIAL_READ_CHUNK];
	ssize_t n;

	n = read(s->in_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF or error: stop watching, the guest sees no more input. */
		event__del(vm__event_loop(s->vm), s->in_fd);
		s->in_fd = -1;
		return;
	}
	pthread_mutex_lock(&s->lock);
	rx_push(s, buf, (size_t)n);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial_create(struct vm *vm, const void *arg, struct device **out)
{
	const struct vm_config *cfg = vm__config(vm);
	struct serial *s;
	int ret;

	(void)arg;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev.type = &serial_8250_type;
	strcpy(s->dev.id, "serial0");
	s->vm = vm;
	s->in_fd = -1;
	s->out_fd = -1;
	pthread_mutex_init(&s->lock, NULL);

	switch (cfg->serial) {
	case SERIAL_STDOUT:
		s->out_fd = STDOUT_FILENO;
		break;
	case SERIAL_FILE:
		s->out_fd = open(cfg->serial_path,
				 O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
				 0600);
		if (s->out_fd < 0) {
			ret = -errno;
			log_err("%s: cannot open %s: %s", s->dev.id,
				cfg->serial_path, strerror(-ret));
			goto err_free;
		}
		s->out_owned = true;
		break;
	case SERIAL_NONE:
		break;
	}

	ret = bus__register(vm__bus(vm), BUS_PIO, SERIAL_8250_BASE, UART_NR_REGS,
			    &serial_ops, s);
	if (ret) {
		log_err("%s: cannot claim ports 0x%x-0x%x", s->dev.id,
			SERIAL_8250_BASE, SERIAL_8250_BASE + UART_NR_REGS - 1);
		goto err_close;
	}
	/* Input from stdin, unless there is none or it cannot be polled. */
	if (cfg->serial != SERIAL_NONE && fcntl(STDIN_FILENO, F_GETFD) >= 0 &&
	    event__add(vm__event_loop(vm), STDIN_FILENO, EPOLLIN, on_stdin, s) == 0)
		s->in_fd = STDIN_FILENO;
	*out = &s->dev;
	return 0;

err_close:
	if (s->out_owned)
		close(s->out_fd);
err_free:
	pthread_mutex_destroy(&s->lock);
	free(s);
	return ret;
}

/* ---- snapshot: the UART registers and the unread input ---- */

static int serial_save_state(void *opaque, struct state_writer *w)
{
	struct serial *s = opaque;
	struct serial_state st;
	unsigned int i;

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&s->lock);
	st.ier = s->ier;
	st.lcr = s->lcr;
	st.mcr = s->mcr;
	st.scr = s->scr;
	st.fcr = s->fcr;
	st.dll = s->dll;
	st.dlm = s->dlm;
	st.thri_pending = s->thri_pending;
	st.rx_count = s->rx_count;
	for (i = 0; i < s->rx_count; i++)
		st.rx[i] = s->rx[(s->rx_head + i) % SERIAL_RX_RING];
	pthread_mutex_unlock(&s->lock);
	return serial_state__save(w, &st);
}

static int serial_load_state(void *opaque, struct state_reader *r, int node,
			     uint32_t version)
{
	struct serial *s = opaque;

	(void)version;
	return serial_state__load(r, node, &s->staged);
}

static int serial_load_apply(void *opaque)
{
	struct serial *s = opaque;
	const struct serial_state *st = &s->staged;

	pthread_mutex_lock(&s->lock);
	s->ier = st->ier;
	s->lcr = st->lcr;
	s->mcr = st->mcr;
	s->scr = st->scr;
	s->fcr = st->fcr;
	s->dll = st->dll;
	s->dlm = st->dlm;
	s->thri_pending = st->thri_pending;
	s->rx_head = 0;
	s->rx_count = MIN(st->rx_count, SERIAL_RX_RING);
	memcpy(s->rx, st->rx, s->rx_count);
	s->irq_level = false;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct mig_handler_ops serial_mig_ops = {
	.version = 1,
	.order = MIG_ORDER_DEVICE,
	.save_state = serial_save_state,
	.load_state = serial_load_state,
	.load_apply = serial_load_apply,
};

static int serial_mig_register(struct device *dev, struct migration *mig)
{
	struct serial *s = container_of(dev, struct serial, dev);

	return migration__register(mig, dev->id, &serial_mig_ops, s);
}

static void serial_destroy(struct device *dev)
{
	struct serial *s;

	if (!dev)
		return;
	s = container_of(dev, struct serial, dev);
	if (s->in_fd >= 0)
		event__del(vm__event_loop(s->vm), s->in_fd);
	bus__unregister(vm__bus(s->vm), BUS_PIO, SERIAL_8250_BASE);
	if (s->out_owned && s->out_fd >= 0)
		close(s->out_fd);
	if (s->rx_dropped)
		log_warn("%s: %llu input bytes dropped (guest did not read them)",
			 s->dev.id, (unsigned long long)s->rx_dropped);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const struct device_type serial_8250_type = {
	.name = "serial-8250",
	.phase = DEVICE_PHASE_LEGACY,
	.create = serial_create,
	.destroy = serial_destroy,
	.mig_register = serial_mig_register,
};
