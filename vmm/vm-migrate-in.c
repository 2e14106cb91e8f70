/*
 * vm-migrate-in.c: the destination of a live migration (`ferry
 * --incoming URL`): listen, take one connection, and let
 * migration/live-load.c drive it. Its prepare callback turns the
 * handshake into a VM: the guest-visible configuration comes from the
 * source, host-side settings (console, API socket, seccomp) and device
 * sockets/paths (matched by device id and kind) from this command line;
 * the source's CPUID features must all be available here; then the VM
 * is built around fresh memory without loading a kernel.
 */
#include "vmm/vm-migrate.h"
#include "vmm/vm-snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "migration/live-wire.h"
#include "migration/state-fdt-read.h"
#include "vmm/config-json.h"
#include "vmm/config.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/vm-internal.h"

/* Most CPUID entries KVM reports (it caps KVM_GET_SUPPORTED_CPUID lower). */
#define IN_CPUID_MAX 256

struct incoming {
	int lfd;   /* listening: RAM channels connect after the first */
	struct guest_mem *premem; /* --memory given: made while waiting; owned */
	const struct vm_config *host;
	struct vm *vm; /* built by prepare */
	vm_incoming_ready_fn ready;
	vm_incoming_confine_fn confine;
	void *ready_opaque;
};

/* A RAM channel: the next connection, within @timeout_ms. */
static int accept_channel(void *opaque, unsigned int timeout_ms)
{
	struct incoming *in = opaque;
	struct pollfd pfd = { .fd = in->lfd, .events = POLLIN };
	int n, fd;

	do {
		n = poll(&pfd, 1, (int)timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	fd = accept4(in->lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int confine(void *opaque)
{
	struct incoming *in = opaque;

	return in->confine(in->ready_opaque);
}

static int ready(void *opaque, char *err, size_t errlen)
{
	struct incoming *in = opaque;
	int ret = in->ready(in->ready_opaque, in->vm);

	if (ret)
		snprintf(err, errlen, "the destination could not get ready: %s",
			 strerror(-ret));
	return ret;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *c,
						uint32_t fn, uint32_t idx)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/*
 * Feature leaves: every bit the source offers must be offered here, or
 * the guest could be using an instruction this host lacks.
 */
static int check_cpuid(const struct kvm_cpuid2 *here, const uint32_t *src,
		       size_t n, char *err, size_t errlen)
{
	static const struct { uint32_t fn, idx; } leaves[] = {
		{ 1, 0 }, { 7, 0 }, { 0xd, 1 }, { 0x80000001, 0 },
	};
	static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };
	size_t i, k;
	int r;

	for (i = 0; i + 6 <= n; i += 6) {
		const struct kvm_cpuid_entry2 *e;

		for (k = 0; k < ARRAY_SIZE(leaves); k++)
			if (src[i] == leaves[k].fn && src[i + 1] == leaves[k].idx)
				break;
		if (k == ARRAY_SIZE(leaves))
			continue;
		e = find_leaf(here, src[i], src[i + 1]);
		for (r = 0; r < 4; r++) {
			uint32_t want = src[i + 2 + r];
			uint32_t have = !e ? 0 : r == 0 ? e->eax : r == 1 ? e->ebx :
					       r == 2 ? e->ecx : e->edx;

			/* Leaf 1 EBX is APIC id / counts, not features. */
			if (src[i] == 1 && r < 2)
				continue;
			if (want & ~have) {
				snprintf(err, errlen,
					 "CPUID leaf 0x%x.%u %s: the source has features 0x%08x this host lacks",
					 src[i], src[i + 1], regs[r], want & ~have);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int prepare(void *opaque, struct state_reader *r, int node,
		   uint64_t mem_size, struct migration **mig, char *err,
		   size_t errlen)
{
	struct incoming *in = opaque;
	struct guest_mem *mem;
	struct vm_config cfg;
	const char *json;
	uint32_t *cpuid;
	size_t len, n;
	int ret;

	json = state__get_array(r, node, "config", 1, &len);
	if (!json || !len || memchr(json, '\0', len) != json + len - 1) {
		snprintf(err, errlen, "handshake: no valid VM configuration");
		return -EINVAL;
	}
	ret = vm__guest_config(json, in->host, "source", &cfg, err, errlen);
	if (ret)
		return ret;
	if (cfg.mem_size != mem_size) {
		snprintf(err, errlen, "handshake: the configuration says %llu bytes of RAM, the stream %llu",
			 (unsigned long long)cfg.mem_size, (unsigned long long)mem_size);
		return -EINVAL;
	}
	cpuid = calloc(IN_CPUID_MAX * 6, sizeof(*cpuid));
	if (!cpuid)
		return -ENOMEM;
	if (state__get_u32_array(r, node, "cpuid", cpuid, IN_CPUID_MAX * 6, &n)) {
		snprintf(err, errlen, "handshake: %s", state_reader__error(r));
		free(cpuid);
		return -EINVAL;
	}
	if (in->premem && in->premem->size != mem_size) {
		snprintf(err, errlen, "this destination was started with --memory %llu MiB; the source has %llu MiB",
			 (unsigned long long)(in->premem->size >> 20),
			 (unsigned long long)(mem_size >> 20));
		free(cpuid);
		return -EINVAL;
	}
	mem = in->premem; /* vm__build takes it over */
	in->premem = NULL;
	ret = mem ? 0 : mem__create(mem_size, &mem);
	if (ret) {
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory: %s",
			 (unsigned long long)(mem_size >> 20), strerror(-ret));
		free(cpuid);
		return ret;
	}
	ret = vm__build(&cfg, mem, &in->vm);
	if (ret) {
		snprintf(err, errlen, "cannot build the VM (%u vCPUs, %llu MiB, %u devices): %s",
			 cfg.vcpus, (unsigned long long)(mem_size >> 20), cfg.nr_vfio,
			 strerror(-ret));
		free(cpuid);
		return ret;
	}
	ret = check_cpuid(in->vm->kvm->cpuid, cpuid, n, err, errlen);
	free(cpuid);
	if (ret)
		return ret;
	*mig = in->vm->mig;
	return 0;
}

/*
 * --memory on the destination: the guest memory, allocated now. Filling
 * fresh pages costs the receiver most of its time (allocation and
 * zeroing, per 4 KiB page); done here, while nobody waits, the stream
 * only copies into pages that exist. Best effort: without fallocate the
 * pages are made as they arrive.
 */
static int prealloc(uint64_t size, struct guest_mem **out)
{
	struct timespec a, b;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = mem__create(size, out);

	if (ret)
		return ret;
	if (fallocate((*out)->fd, 0, 0, (off_t)(*out)->size) < 0) {
		log_warn("migration: cannot preallocate guest memory (%s); pages are made as they arrive",
			 strerror(errno));
	} else {
		clock_gettime(CLOCK_MONOTONIC, &b);
		log_info("migration: %llu MiB of guest memory ready in %lld ms",
			 (unsigned long long)(size >> 20),
			 (long long)((b.tv_sec - a.tv_sec) * 1000 +
				     (b.tv_nsec - a.tv_nsec) / 1000000));
	}
	return 0;
}

/* Close the listening socket; a unix one's path goes with it. */
static void stop_listening(int lfd, const struct live_addr *addr)
{
	close(lfd);
	if (addr->family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&addr->sa)->sun_path);
}

int vm__migrate_incoming(const struct vm_config *host, const char *url,
			 uint64_t prealloc_size, vm_incoming_ready_fn ready_fn,
			 vm_incoming_confine_fn confine_fn, void *opaque,
			 struct vm **out, char *err, size_t errlen)
{
	struct incoming in = { .host = host, .ready = ready_fn,
			       .confine = confine_fn, .ready_opaque = opaque };
	struct live_load_env env = { .prepare = prepare, .opaque = &in,
				     .ready = ready_fn ? ready : NULL,
				     .confine = confine_fn ? confine : NULL,
				     .accept = accept_channel };
	struct live_addr addr;
	int lfd, fd, ret;

	ret = live_addr__parse(url, &addr, err, errlen);
	if (ret)
		return ret;
	lfd = live_addr__listen(&addr);
	if (lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", url, strerror(-lfd));
		return lfd;
	}
	if (prealloc_size && (ret = prealloc(prealloc_size, &in.premem))) {
		stop_listening(lfd, &addr);
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory: %s",
			 (unsigned long long)(prealloc_size >> 20), strerror(-ret));
		return ret;
	}
	log_info("migration: waiting for a source on %s", url);
	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	ret = fd < 0 ? -errno : 0;
	if (ret) {
		stop_listening(lfd, &addr);
		mem__destroy(in.premem);
		snprintf(err, errlen, "accept on %s: %s", url, strerror(-ret));
		return ret;
	}
	/* Still listening while loading: RAM channels connect after ACCEPT. */
	in.lfd = lfd;
	ret = live__load(fd, &env, err, errlen);
	close(fd);
	stop_listening(lfd, &addr);
	mem__destroy(in.premem); /* refused before prepare took it */
	if (ret) {
		/* The caller may have attached to it in ready(): it destroys. */
		*out = in.vm;
		return ret;
	}
	in.vm->restored = true;
	in.vm->start_paused = false;
	log_info("migration: VM received from %s; running", url);
	*out = in.vm;
	return 0;
}
