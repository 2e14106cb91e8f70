/*
 * vm-snapshot.c: the VM side of snapshots. Registers every component's
 * handlers with the migration framework (irqchip, clock, vCPUs,
 * devices), saves a paused VM, and restores one: the snapshot is opened
 * and checked, memory loaded (lazily or by copy), the VM built around
 * that memory without loading a kernel, and the saved state applied;
 * migration/ validates everything before the first byte is applied.
 */
#include "vmm/vm-snapshot.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "migration/registry.h"
#include "migration/snapshot-load.h"
#include "migration/snapshot.h"
#include "vmm/config-json-emit.h"
#include "vmm/config-json.h"
#include "vmm/config.h"
#include "vmm/irqchip-state-x86_64.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/vcpu-state-x86_64.h"
#include "vmm/vcpu.h"
#include "vmm/vm-internal.h"

int vm__register_migration(struct vm *vm)
{
	unsigned int i;
	int ret;

	ret = migration__create(&vm->mig);
	if (ret)
		return ret;
	migration__set_memory(vm->mig, vm->mem);
	ret = irqchip_state__register(vm->mig, vm->fd);
	if (ret)
		goto err;
	vm->vcpu_caps = calloc(1, sizeof(*vm->vcpu_caps));
	if (!vm->vcpu_caps) {
		ret = -ENOMEM;
		goto err;
	}
	ret = vcpu_state__probe(vm->kvm->fd, vm->fd, vm->vcpus[0]->fd,
				vm->vcpu_caps);
	if (ret)
		goto err;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_state__register(vm->mig, i, vm->vcpus[i]->fd,
					   vm->vcpu_caps);
		if (ret)
			goto err;
	}
	for (i = 0; i < vm->nr_devices; i++) {
		struct device *dev = vm->devices[i];

		if (!dev->type->mig_register)
			continue;
		ret = dev->type->mig_register(dev, vm->mig);
		if (ret)
			goto err;
	}
	return 0;
err:
	log_err("cannot register snapshot handlers: %s", strerror(-ret));
	return ret;
}

int vm__snapshot(struct vm *vm, const char *dir, bool replace,
		 vm_progress_fn progress, void *opaque, char *err,
		 size_t errlen)
{
	struct snapshot_save_opts o = {
		.replace = replace,
		/* One thread: the VMM thread's seccomp role creates none. */
		.threads = 1,
		.progress = progress,
		.opaque = opaque,
	};
	char *json;
	int ret;

	pthread_mutex_lock(&vm->lock);
	ret = vm->state == VM_STATE_PAUSED ? 0 : -EBUSY;
	pthread_mutex_unlock(&vm->lock);
	if (ret) {
		snprintf(err, errlen, "the VM must be paused to take a snapshot");
		return ret;
	}
	json = config__to_json(&vm->cfg);
	if (!json) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	o.config_json = json;
	ret = snapshot__save(vm->mig, dir, &o, err, errlen);
	free(json);
	if (!ret)
		log_info("snapshot saved to %s", dir);
	return ret;
}

int vm__guest_config(const char *json, const struct vm_config *host,
		     const char *origin, struct vm_config *out, char *err,
		     size_t errlen)
{
	struct json_object *root;
	unsigned int i, j;
	int ret;

	root = config__json_parse_text(json, strlen(json), err, errlen);
	if (!root)
		return -EINVAL;
	config__init(out);
	ret = config__from_json_object(out, root, err, errlen);
	json_object_put(root);
	if (ret)
		return -EINVAL;
	out->serial = host->serial;
	memcpy(out->serial_path, host->serial_path, sizeof(out->serial_path));
	memcpy(out->api_sock, host->api_sock, sizeof(out->api_sock));
	out->seccomp = host->seccomp;
	if (host->nr_vfio != out->nr_vfio) {
		snprintf(err, errlen,
			 "the %s has %u passthrough devices, the command line %u",
			 origin, out->nr_vfio, host->nr_vfio);
		return -EINVAL;
	}
	for (i = 0; i < out->nr_vfio; i++) {
		for (j = 0; j < host->nr_vfio; j++)
			if (!strcmp(out->vfio[i].id, host->vfio[j].id))
				break;
		if (j == host->nr_vfio || host->vfio[j].kind != out->vfio[i].kind) {
			snprintf(err, errlen,
				 "%s device '%s' has no device of the same kind and id on the command line",
				 origin, out->vfio[i].id);
			return -EINVAL;
		}
		memcpy(out->vfio[i].path, host->vfio[j].path,
		       sizeof(out->vfio[i].path));
	}
	return 0;
}

int vm__restore(const struct vm_config *host, const char *dir,
		enum vm_restore_mode mode, bool resume, struct vm **out,
		char *err, size_t errlen)
{
	struct guest_mem *mem = NULL;
	struct snapshot *s = NULL;
	struct vm_config cfg;
	struct vm *vm = NULL;
	int ret;

	ret = snapshot__open(dir, &s, err, errlen);
	if (ret)
		return ret;
	if (!snapshot__config_json(s)) {
		snprintf(err, errlen, "the snapshot holds no VM configuration");
		ret = -EINVAL;
		goto out;
	}
	ret = vm__guest_config(snapshot__config_json(s), host, "snapshot", &cfg,
			       err, errlen);
	if (ret)
		goto out;
	if (snapshot__mem_size(s) != cfg.mem_size) {
		snprintf(err, errlen,
			 "memory image is %llu bytes, the configuration says %llu",
			 (unsigned long long)snapshot__mem_size(s),
			 (unsigned long long)cfg.mem_size);
		ret = -EINVAL;
		goto out;
	}
	/* DMA-capable devices must never see the snapshot file: copy. */
	if (cfg.nr_vfio && mode == VM_RESTORE_LAZY)
		mode = VM_RESTORE_COPY;
	ret = snapshot__load_memory(s, cfg.mem_size,
				    mode == VM_RESTORE_LAZY ? SNAPSHOT_RESTORE_LAZY :
							      SNAPSHOT_RESTORE_COPY,
				    &mem, err, errlen);
	if (ret)
		goto out;
	ret = vm__build(&cfg, mem, &vm);
	if (ret) {
		snprintf(err, errlen, "cannot build the VM: %s", strerror(-ret));
		goto out;
	}
	ret = snapshot__restore(s, vm->mig, err, errlen);
	if (ret) {
		vm__destroy(vm);
		goto out;
	}
	vm->restored = true;
	vm->start_paused = !resume;
	log_info("restored from %s (%s memory)%s", dir,
		 mode == VM_RESTORE_LAZY ? "lazy" : "copied",
		 resume ? "" : "; paused");
	*out = vm;
out:
	snapshot__close(s);
	return ret;
}
