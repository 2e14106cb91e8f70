/*
 * api-test-fixture.h: the fixture the API server tests share
 * (api-test-fixture.c): an API server on a socket in a temporary
 * directory, served by a fake VMM thread. Its fake VM runs with 2
 * vCPUs, 64 MiB and kernel "/fake/kernel", and GET /vm lists four
 * devices: serial0 (serial-8250), pci0 (pci-host, 00:00.0), vfio0
 * (vfio-pci at 00:1f.0, vfio-user on /run/testdev.sock, STOP_COPY and
 * PRE_COPY) and vfio1 (vfio-pci at 00:03.0, kernel VFIO, failed with
 * EIO, migration blocked). Pause, resume, shutdown and snapshot behave
 * as documented in vmm/request.h.
 */
#ifndef TESTS_UNIT_VMM_API_TEST_FIXTURE_H
#define TESTS_UNIT_VMM_API_TEST_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "api-test-client.h"
#include "vmm/vm.h"

struct api;

extern char tmpdir[];          /* made by group_setup */
extern char sock[128];         /* the server's socket path */
extern struct api *api;        /* the server, between setup and teardown */
extern char resp[TC_RESP_MAX]; /* the last response of req() */

extern enum vm_state fake_state;   /* the fake VM's state */
extern int fake_delay_ms;          /* atomic: each request waits this long */
extern int shutdown_seen;          /* atomic: a shutdown was executed */
extern unsigned int executed;      /* atomic: requests executed */
extern pid_t hook_tid;             /* the API thread, seen by its hook */

/* Start the server (@max_conns 0: default) and the fake VMM thread. */
void start_api(unsigned int max_conns);
/* Stop the fake VMM thread, close the queue and destroy the server. */
void stop_api(void);

/* cmocka fixtures: per test (start/stop), and per group (tmpdir). */
int setup(void **state);
int setup_limit4(void **state); /* with a limit of 4 connections */
int teardown(void **state);
int group_setup(void **state);
int group_teardown(void **state);

/* One request on a new connection into resp; returns the status or -errno. */
int req(const char *method, const char *url, const char *ctype,
	const char *body);

/* Fail the test unless @needle occurs in @hay. */
void assert_contains(const char *hay, const char *needle);

#endif /* TESTS_UNIT_VMM_API_TEST_FIXTURE_H */
