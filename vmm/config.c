/*
 * config.c: defaults, size parsing and validation for struct vm_config.
 * Validation is pure: it reads the configuration and reports the first
 * problem as one line; it opens no files and changes nothing.
 */
#include "vmm/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/mem.h"
#include "vmm/util.h"

void config__init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = CONFIG_DEFAULT_MEM;
	cfg->vcpus = CONFIG_DEFAULT_VCPUS;
	cfg->serial = SERIAL_STDOUT;
	cfg->seccomp = SECCOMP_MODE_KILL;
}

int config__parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	/* Decimal, or hex with 0x; never octal ("010M" is ten MiB). */
	v = strtoull(s, &end,
		     (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -EINVAL;
	}
	/* Accept "64M", "64MB", "64MiB". */
	if (shift && (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int config__validate(const struct vm_config *cfg, char *err, size_t errlen)
{
	unsigned int i, j;

	if (!cfg->kernel[0]) {
		snprintf(err, errlen, "--kernel is required");
		return -EINVAL;
	}
	if (cfg->mem_size < MEM_MIN_SIZE || cfg->mem_size > MEM_MAX_SIZE) {
		snprintf(err, errlen,
			 "memory size %llu bytes is out of range (%llu MiB to %llu GiB)",
			 (unsigned long long)cfg->mem_size,
			 (unsigned long long)(MEM_MIN_SIZE >> 20),
			 (unsigned long long)(MEM_MAX_SIZE >> 30));
		return -EINVAL;
	}
	if (cfg->mem_size % 4096) {
		snprintf(err, errlen, "memory size must be a multiple of 4 KiB");
		return -EINVAL;
	}
	if (cfg->vcpus < 1 || cfg->vcpus > CONFIG_MAX_VCPUS) {
		snprintf(err, errlen, "vcpus must be between 1 and %d",
			 CONFIG_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->serial == SERIAL_FILE && !cfg->serial_path[0]) {
		snprintf(err, errlen, "serial file path is empty");
		return -EINVAL;
	}
	if (cfg->nr_vfio > CONFIG_MAX_VFIO) {
		snprintf(err, errlen, "at most %d VFIO devices", CONFIG_MAX_VFIO);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_vfio; i++) {
		const struct vfio_config *v = &cfg->vfio[i];

		if (!v->id[0] || !v->path[0]) {
			snprintf(err, errlen, "VFIO device %u needs an id and a %s",
				 i, v->kind == VFIO_KIND_USER ? "socket" : "path");
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->vfio[j].id, v->id) == 0) {
				snprintf(err, errlen, "duplicate device id '%s'",
					 v->id);
				return -EINVAL;
			}
		}
	}
	return 0;
}
