/*
 * config.h: the plain-data description of a VM, filled from the command
 * line (config.c) or a JSON configuration file, validated, and then
 * only read. It holds no fds or pointers, so it can be copied, sent
 * through the API queue and saved next to a snapshot.
 */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_VCPUS 64     /* KVM allows more; ferry tests up to 8 */
#define CONFIG_MAX_VFIO 8       /* passthrough devices per VM */
#define CONFIG_ID_MAX 32        /* device id length incl. NUL */
#define CONFIG_CMDLINE_MAX 4096 /* Linux's COMMAND_LINE_SIZE on x86 is 2048; allow more for PVH */

#define CONFIG_DEFAULT_MEM (128ULL << 20)
#define CONFIG_DEFAULT_VCPUS 1

enum serial_mode {
	SERIAL_STDOUT = 0,
	SERIAL_FILE,
	SERIAL_NONE,
};

enum seccomp_mode {
	SECCOMP_MODE_KILL = 0, /* default: a syscall off the allowlist kills ferry */
	SECCOMP_MODE_TRAP,     /* report the syscall by name, then exit */
	SECCOMP_MODE_LOG,      /* log and allow */
	SECCOMP_MODE_OFF,      /* no filters (warns loudly) */
};

enum vfio_kind {
	VFIO_KIND_USER = 0, /* --vfio-user id=,socket= */
	VFIO_KIND_KERNEL,   /* --vfio id=,path= */
};

enum vfio_migration_mode {
	VFIO_MIGRATION_AUTO = 0,
	VFIO_MIGRATION_ON,
	VFIO_MIGRATION_OFF,
};

struct vfio_config {
	enum vfio_kind kind;
	char id[CONFIG_ID_MAX];
	char path[PATH_MAX]; /* socket (vfio-user) or device path (kernel) */
	enum vfio_migration_mode migration;
};

struct vm_config {
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];  /* empty: none */
	char cmdline[CONFIG_CMDLINE_MAX];
	uint64_t mem_size;      /* bytes */
	unsigned int vcpus;
	enum serial_mode serial;
	char serial_path[PATH_MAX]; /* SERIAL_FILE only */
	char api_sock[PATH_MAX];    /* empty: no API socket */
	enum seccomp_mode seccomp;
	bool cpuid_compat;      /* mask CPUID features this host's emulator lacks */
	bool no_acpi;           /* boot without ACPI tables (MP table only) */
	unsigned int nr_vfio;
	struct vfio_config vfio[CONFIG_MAX_VFIO];
};

/* Reset @cfg to defaults (128 MiB, 1 vCPU, serial on stdout). */
void config__init(struct vm_config *cfg);

/*
 * Parse a size with an optional K/M/G/T suffix (powers of 1024) into
 * bytes. Returns 0, or -EINVAL (syntax) / -ERANGE (overflow).
 */
int config__parse_size(const char *s, uint64_t *out);

/*
 * Check a complete configuration: kernel given, sizes and counts in
 * range, unique device ids. On error returns -EINVAL and writes one
 * human-readable line (no newline) into @err.
 */
int config__validate(const struct vm_config *cfg, char *err, size_t errlen);

#endif /* VMM_CONFIG_H */
