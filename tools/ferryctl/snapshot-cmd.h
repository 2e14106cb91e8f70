/*
 * snapshot-cmd.h: ferryctl's `snapshot` commands. `create` asks a
 * running ferry to write a snapshot (PUT /snapshot/create, which
 * answers when the snapshot is complete) and meanwhile draws its
 * progress from GET /vm/operation on a second connection. `inspect`
 * needs no ferry: it validates a snapshot directory locally with the
 * same code ferry restores with (snapshot__inspect) and prints what it
 * holds.
 */
#ifndef TOOLS_FERRYCTL_SNAPSHOT_CMD_H
#define TOOLS_FERRYCTL_SNAPSHOT_CMD_H

#include <stdbool.h>

/*
 * Snapshot the paused VM behind @sock to @dir (made absolute against
 * the caller's working directory, since ferry resolves paths against
 * its own), replacing an older snapshot there with @replace. Requests
 * time out after @timeout_ms (0: the create request waits as long as
 * it takes). @json: print the server's JSON instead of the progress
 * display. Returns ferryctl's exit status (0, 1 server error, 2 usage,
 * 3 unreachable).
 */
int snapshot_cmd__create(const char *sock, const char *dir, bool replace,
			 long timeout_ms, bool json);

/*
 * Validate the snapshot in @dir completely (every memory chunk
 * included) and print its summary, or with @json one JSON object
 * (valid, error, memory size, configuration, the summary lines).
 * Returns 0 when valid, 1 when not (reason on stderr).
 */
int snapshot_cmd__inspect(const char *dir, bool json);

/*
 * `ferryctl snapshot load DIR [resume=1] [mode=copy]`: PUT /snapshot/load
 * to a ferry started with --wait-restore. Prints the VM's state.
 * Returns the ferryctl exit status.
 */
int snapshot_cmd__load(const char *sock, const char *dir, bool resume,
		       bool copy, long timeout_ms, bool json);

#endif /* TOOLS_FERRYCTL_SNAPSHOT_CMD_H */
