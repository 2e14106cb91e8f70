/*
 * serial.c: a minimal printf and COM1 output for the test guest. See
 * serial.h for why output is never gated on the line status register.
 */
#include "serial.h"

#include "io.h"
#include "layout.h"

#define LSR_DATA_READY 0x01 /* 8250 LSR bit 0: a byte is waiting in RBR */

static volatile uint32_t serial_lock;

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_num(struct fmt_out *o, uint64_t v, unsigned int base,
		    bool neg, unsigned int width, char pad)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24];
	unsigned int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		put(o, pad);
		width--;
	}
	while (n)
		put(o, tmp[--n]);
}

size_t serial__vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		unsigned int width = 0, lng = 0;
		char pad = ' ';
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng++, fmt++;
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t l = strlen(str ? str : "(null)");

			for (; width > l; width--)
				put(&o, ' ');
			for (str = str ? str : "(null)"; *str; str++)
				put(&o, *str);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10,
				s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, false, width, pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uint64_t)va_arg(ap, void *), 16, false,
				width, pad);
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: show it, do not guess */
			put(&o, '%');
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.len] = 0;
	return o.len;
}

size_t serial__snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = serial__vformat(buf, size, fmt, ap);
	va_end(ap);
	return len;
}

/*
 * One OUT per byte. "rep outsb" was measured to cost the same on the
 * software KVM (~30 us per byte either way), so the simplest form wins.
 */
void serial__write(const char *buf, size_t len)
{
	while (len--)
		io_outb(PORT_COM1, (uint8_t)*buf++);
}

static void lock(void)
{
	while (__atomic_exchange_n(&serial_lock, 1, __ATOMIC_ACQUIRE))
		while (serial_lock)
			io_pause();
}

static void unlock(void)
{
	__atomic_store_n(&serial_lock, 0, __ATOMIC_RELEASE);
}

void serial__printf(const char *fmt, ...)
{
	char buf[SERIAL_LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = serial__vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lock();
	serial__write(buf, len);
	unlock();
}

void serial__printf_nolock(const char *fmt, ...)
{
	char buf[SERIAL_LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = serial__vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial__write(buf, len);
}

bool serial__input_ready(void)
{
	return io_inb(PORT_COM1_LSR) & LSR_DATA_READY;
}

void serial__drain(void)
{
	(void)io_inb(PORT_COM1);
}
