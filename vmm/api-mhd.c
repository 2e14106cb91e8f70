/*
 * api-mhd.c: on-demand loading of libmicrohttpd (see api-mhd.h for why).
 * Called from api__create() on the main thread, before threads and the
 * sandbox exist; the result is then read-only.
 */
#include "vmm/api-mhd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "vmm/log.h"
#include "vmm/util.h"

/* The soname of the library Debian 12's libmicrohttpd-dev links against. */
#define API_MHD_SONAME "libmicrohttpd.so.12"

struct api_mhd api_mhd;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result;

#define SYM(field, name) { offsetof(struct api_mhd, field), #name }

static const struct {
	size_t off;
	const char *name;
} syms[] = {
	SYM(start_daemon, MHD_start_daemon),
	SYM(stop_daemon, MHD_stop_daemon),
	SYM(run, MHD_run),
	SYM(get_daemon_info, MHD_get_daemon_info),
	SYM(get_timeout, MHD_get_timeout),
	SYM(lookup_connection_value, MHD_lookup_connection_value),
	SYM(create_response_from_buffer, MHD_create_response_from_buffer),
	SYM(add_response_header, MHD_add_response_header),
	SYM(queue_response, MHD_queue_response),
	SYM(destroy_response, MHD_destroy_response),
	SYM(suspend_connection, MHD_suspend_connection),
	SYM(resume_connection, MHD_resume_connection),
};

static void load(void)
{
	void *h = dlopen(API_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h) {
		log_err("api: cannot load %s: %s (install libmicrohttpd12)",
			API_MHD_SONAME, dlerror());
		load_result = -ENOENT;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(syms); i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			log_err("api: %s lacks %s", API_MHD_SONAME, syms[i].name);
			load_result = -ENOENT;
			return;
		}
		/* POSIX guarantees data and function pointers convert. */
		*(void **)((char *)&api_mhd + syms[i].off) = p;
	}
	/* The handle stays open for the life of the process. */
}

int api_mhd__load(void)
{
	pthread_once(&load_once, load);
	return load_result;
}
