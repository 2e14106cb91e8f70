/*
 * config-json-internal.h: what the JSON reader (vmm/config-json.c) and
 * writer (vmm/config-json-emit.c) of struct vm_config share: the names
 * of the enumerated values, so both sides spell them the same. Not for
 * use outside vmm/config-json*.c.
 */
#ifndef VMM_CONFIG_JSON_INTERNAL_H
#define VMM_CONFIG_JSON_INTERNAL_H

/* Entries of each table: one per value of its enum in vmm/config.h. */
#define CONFIG_JSON_NR_SERIAL 3    /* enum serial_mode */
#define CONFIG_JSON_NR_SECCOMP 4   /* enum seccomp_mode */
#define CONFIG_JSON_NR_VFIO_KIND 2 /* enum vfio_kind */
#define CONFIG_JSON_NR_MIGRATION 3 /* enum vfio_migration_mode */

/*
 * "stdout", "file", "none", indexed by enum serial_mode ("file" is
 * written as "file:PATH").
 */
extern const char *const config_json_serial_names[CONFIG_JSON_NR_SERIAL];
/* "kill", "trap", "log", "off", indexed by enum seccomp_mode. */
extern const char *const config_json_seccomp_names[CONFIG_JSON_NR_SECCOMP];
/* "vfio-user", "vfio", indexed by enum vfio_kind. */
extern const char *const config_json_vfio_kind_names[CONFIG_JSON_NR_VFIO_KIND];
/* "auto", "on", "off", indexed by enum vfio_migration_mode. */
extern const char *const config_json_migration_names[CONFIG_JSON_NR_MIGRATION];

#endif /* VMM_CONFIG_JSON_INTERNAL_H */
