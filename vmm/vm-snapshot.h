/*
 * vm-snapshot.h: snapshotting a VM to a directory and building a VM from
 * one (the stop-and-copy flow of migration/ with no precopy). The
 * directory format is docs/snapshot.md.
 */
#ifndef VMM_VM_SNAPSHOT_H
#define VMM_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config;

enum vm_restore_mode {
	VM_RESTORE_LAZY = 0, /* map memory.img copy-on-write (no DMA devices) */
	VM_RESTORE_COPY,     /* read memory.img into a fresh memfd */
};

/* Progress of a save: @done of @total bytes. */
typedef void (*vm_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/*
 * VMM thread. Save the paused VM @vm to directory @dir (created; with
 * @replace an existing snapshot there is replaced atomically, anything
 * else is refused). Returns 0, -EBUSY when the VM is not paused, or
 * -errno with one line in @err. The VM is unchanged either way.
 */
int vm__snapshot(struct vm *vm, const char *dir, bool replace,
		 vm_progress_fn progress, void *opaque, char *err,
		 size_t errlen);

/*
 * Build a VM from the snapshot in @dir. Guest-visible configuration
 * (memory, vCPUs, CPUID flags, kernel, device set) comes from the
 * snapshot; host-side settings (console, API socket, seccomp, device
 * socket/paths matched by device id) from @host. Validates the whole
 * snapshot before applying anything. With passthrough devices memory is
 * always copied (a device must never reach the snapshot file). The VM
 * comes up paused unless @resume. Returns 0 and *out, or -errno with
 * one line in @err.
 */
int vm__restore(const struct vm_config *host, const char *dir,
		enum vm_restore_mode mode, bool resume, struct vm **out,
		char *err, size_t errlen);

/*
 * The configuration of a VM arriving from elsewhere (a snapshot, a
 * migration source) as JSON @json: guest-visible settings from it,
 * host-side ones (console, API socket, seccomp, device sockets/paths
 * matched by id and kind) from @host. @origin names the source in
 * errors ("snapshot", "source"). Returns 0 or -EINVAL with @err.
 */
int vm__guest_config(const char *json, const struct vm_config *host,
		     const char *origin, struct vm_config *out, char *err,
		     size_t errlen);

#endif /* VMM_VM_SNAPSHOT_H */
