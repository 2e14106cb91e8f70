/*
 * i8042.c: a keyboard controller with no keyboard. It answers the
 * controller commands guests use while probing (read/write the command
 * byte, self-test, interface test) and treats the pulse-reset command
 * as the guest asking for a reset, which ferry turns into a clean stop.
 */
#include "devices/legacy/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/*
 * One range covers the data port 0x60 to the command port 0x64; the
 * in-kernel PIT handles 0x61 before it reaches ferry, 0x62/0x63 read
 * as all ones.
 */
#define I8042_BASE 0x60
#define I8042_LEN 5
#define I8042_OFF_DATA 0
#define I8042_OFF_CMD 4

#define STATUS_OBF 0x01   /* output buffer full */
#define STATUS_SYS 0x04   /* system flag: self-test passed */
#define STATUS_CMD 0x08   /* last write was a command */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_PULSE_RESET 0xfe
#define SELF_TEST_OK 0x55

struct i8042 {
	struct device dev;
	struct vm *vm;
	pthread_mutex_t lock; /* protects the fields below */
	uint8_t ctr;          /* controller configuration byte */
	uint8_t out;          /* output buffer */
	bool out_full;
	bool expect_ctr;      /* next data write is the new CTR */
	uint8_t status_cmd;
};

static void i8042_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	memset(data, 0xff, len);
	if (off != I8042_OFF_DATA && off != I8042_OFF_CMD)
		return;
	memset(data, 0, len);
	pthread_mutex_lock(&k->lock);
	if (off == I8042_OFF_DATA) {
		v = k->out;
		k->out_full = false;
	} else {
		v = STATUS_SYS | k->status_cmd | (k->out_full ? STATUS_OBF : 0);
	}
	pthread_mutex_unlock(&k->lock);
	*(uint8_t *)data = v;
}

static void i8042_write(void *opaque, uint64_t off, const void *data,
			uint32_t len)
{
	struct i8042 *k = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool reset = false;

	if (off != I8042_OFF_DATA && off != I8042_OFF_CMD)
		return;
	pthread_mutex_lock(&k->lock);
	if (off == I8042_OFF_DATA) {
		k->status_cmd = 0;
		if (k->expect_ctr)
			k->ctr = v;
		k->expect_ctr = false;
	} else {
		k->status_cmd = STATUS_CMD;
		switch (v) {
		case CMD_READ_CTR:
			k->out = k->ctr;
			k->out_full = true;
			break;
		case CMD_WRITE_CTR:
			k->expect_ctr = true;
			break;
		case CMD_SELF_TEST:
			k->out = SELF_TEST_OK;
			k->out_full = true;
			break;
		case CMD_KBD_TEST:
			k->out = 0; /* interface OK */
			k->out_full = true;
			break;
		case CMD_PULSE_RESET:
			reset = true;
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	if (reset) {
		log_info("%s: guest requested a reset", k->dev.id);
		vm__request_stop(k->vm, VM_STOP_RESET, 0);
	}
}

static const struct bus_ops i8042_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

static int i8042_create(struct vm *vm, const void *arg, struct device **out)
{
	struct i8042 *k;
	int ret;

	(void)arg;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->dev.type = &i8042_type;
	strcpy(k->dev.id, "i8042");
	k->vm = vm;
	pthread_mutex_init(&k->lock, NULL);
	ret = bus__register(vm__bus(vm), BUS_PIO, I8042_BASE, I8042_LEN,
			    &i8042_ops, k);
	if (ret)
		goto err_free;
	*out = &k->dev;
	return 0;

err_free:
	log_err("i8042: cannot claim ports 0x60/0x64");
	pthread_mutex_destroy(&k->lock);
	free(k);
	return ret;
}

static void i8042_destroy(struct device *dev)
{
	struct i8042 *k;

	if (!dev)
		return;
	k = container_of(dev, struct i8042, dev);
	bus__unregister(vm__bus(k->vm), BUS_PIO, I8042_BASE);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

const struct device_type i8042_type = {
	.name = "i8042",
	.phase = DEVICE_PHASE_LEGACY,
	.create = i8042_create,
	.destroy = i8042_destroy,
};
