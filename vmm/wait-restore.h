/*
 * wait-restore.h: `ferry --wait-restore`: serve the API socket before any
 * VM exists, until a client loads a snapshot with PUT /snapshot/load.
 */
#ifndef VMM_WAIT_RESTORE_H
#define VMM_WAIT_RESTORE_H

struct api;
struct vm;
struct vm_config;

/*
 * On the calling (VMM) thread, with @api's thread already serving: answer
 * requests from @api's queue (GET /vm reports "created", PUT
 * /vm/shutdown ends the wait, everything else but PUT /snapshot/load is
 * refused with the reason) until a snapshot loads. @host gives the
 * host-side settings and device paths, as for `ferry --restore`.
 * Returns 0 and the restored VM in *out; -ECANCELED after a shutdown
 * request; -EINTR after SIGTERM/SIGINT; other -errno.
 */
int wait_restore__run(struct api *api, const struct vm_config *host,
		      struct vm **out);

#endif /* VMM_WAIT_RESTORE_H */
