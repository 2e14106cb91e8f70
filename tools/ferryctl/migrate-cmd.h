/*
 * migrate-cmd.h: `ferryctl migrate ...`: start a live migration
 * (PUT /migration) and follow it with a live progress line until it
 * completes, fails or is cancelled; `migrate status` and
 * `migrate cancel` (GET / DELETE /migration).
 */
#ifndef TOOLS_FERRYCTL_MIGRATE_CMD_H
#define TOOLS_FERRYCTL_MIGRATE_CMD_H

#include <stdbool.h>

/*
 * @argv after "migrate": URL [key=value...] | status | cancel.
 * Keys: downtime=MS, iterations=N, timeout=MS, bandwidth=BYTES_PER_S,
 * on-timeout=switchover|fail, ignore-blockers=1, nowait=1 (start only).
 * Returns ferryctl's exit status (0 ok, 1 server error or the migration
 * failed, 2 usage, 3 unreachable).
 */
int migrate_cmd__run(const char *sock, int argc, char **argv, bool json);

#endif /* TOOLS_FERRYCTL_MIGRATE_CMD_H */
