/*
 * api-mhd.h: libmicrohttpd, loaded on demand. Debian's libmicrohttpd
 * links GnuTLS and its dependencies, whose loading and constructors
 * cost a VM without an API socket about 2 ms of startup and 3 MiB of
 * resident memory. So ferry does not link it: the first api__create()
 * dlopen()s it (before any sandbox is up) and resolves the handful of
 * functions the API server uses into the table below; api*.c call
 * through it.
 */
#ifndef VMM_API_MHD_H
#define VMM_API_MHD_H

#include <microhttpd.h>

struct api_mhd {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_suspend_connection) *suspend_connection;
	__typeof__(MHD_resume_connection) *resume_connection;
};

/* The resolved functions; valid after api_mhd__load() returned 0. */
extern struct api_mhd api_mhd;

/*
 * Load libmicrohttpd and resolve every function (once; later calls
 * return the first result). Returns 0, or -ENOENT with one log line
 * naming the library or the missing symbol.
 */
int api_mhd__load(void);

#endif /* VMM_API_MHD_H */
