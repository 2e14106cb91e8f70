/*
 * cli.h: ferry's command line. Turns argv into a validated struct
 * vm_config plus process-level options (logging, sandbox). Pure: opens
 * no files except a --config file, prints nothing; main() reports.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmm/config.h"
#include "vmm/log.h"

struct cli_options {
	struct vm_config vm;
	enum log_level log_level;
	char chroot_dir[PATH_MAX]; /* empty: none */
	char restore_dir[PATH_MAX]; /* --restore: empty when booting a kernel */
	bool resume;                /* --resume: run right after restoring */
	bool wait_restore;          /* --wait-restore: load through the API */
	bool restore_copy;          /* --restore-mode=copy */
	/* live migration (issue 6): --incoming URL; empty when not receiving */
	char incoming[PATH_MAX];
	/* --memory with --incoming: guest memory to make while waiting */
	uint64_t incoming_mem;
	bool memory_given;          /* --memory was on the command line */
	bool have_user;
	uid_t uid;
	gid_t gid;
};

enum cli_result {
	CLI_RUN = 0,    /* options valid: run the VM */
	CLI_HELP = 1,   /* --help given: print cli__usage() and exit 0 */
	CLI_VERSION = 2 /* --version given */
};

/*
 * Parse @argv into @opts. Returns a cli_result, or -EINVAL with one
 * human-readable line (no trailing newline) in @err.
 */
int cli__parse(int argc, char **argv, struct cli_options *opts, char *err,
	       size_t errlen);

/* The --help text. */
const char *cli__usage(void);

#endif /* VMM_CLI_H */
