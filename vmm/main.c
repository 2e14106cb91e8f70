/*
 * main.c: ferry's entry point: command line -> VM -> run -> exit
 * status. The only place in ferry that ends the process; every other
 * function returns an error for main() to report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api.h"
#include "vmm/cli.h"
#include "vmm/control.h"
#include "vmm/log.h"
#include "vmm/vm-migrate.h"
#include "vmm/vm-snapshot.h"
#include "vmm/wait-restore.h"
#include "vmm/vm.h"
#include "seccomp/policy.h"
#include "seccomp/sandbox.h"

/* Exit statuses (documented in --help and README). */
#define EXIT_SHUTDOWN 0
#define EXIT_USAGE 2
#define EXIT_RESET 4
#define EXIT_SIGNAL 6
#define EXIT_VM_ERROR 8
#define EXIT_START_FAILED 10

/* First thing on the API thread: its seccomp filter. */
static int api_thread_start(void *opaque)
{
	(void)opaque;
	return sandbox__enter(SC_ROLE_API);
}

/*
 * Everything privileged is open: drop capabilities (and chroot/switch
 * user when asked). The main thread keeps one narrow file right: stat
 * and unlink in the API socket's directory, to remove the socket at exit.
 */
static int enter_sandbox(const struct cli_options *o, struct api *api)
{
	struct sandbox_user user = { .uid = o->uid, .gid = o->gid };
	int ret;

	if (api) {
		int dfd = api__dir_fd(api);
		const struct sc_rule stat_rule = SC_ALLOW1(newfstatat, SC_EQ(0, dfd),
			"stat the API socket before removing it at exit");
		const struct sc_rule unlink_rule = SC_ALLOW2(unlinkat, SC_EQ(0, dfd),
			SC_EQ(2, 0), "remove the API socket at exit");

		ret = sandbox__add_rule(SC_ROLE_MAIN, &stat_rule);
		if (!ret)
			ret = sandbox__add_rule(SC_ROLE_MAIN, &unlink_rule);
		if (ret)
			return ret;
	}
	return sandbox__drop_privileges(o->chroot_dir[0] ? o->chroot_dir : NULL,
					o->have_user ? &user : NULL);
}

/* What main() sets up around a built VM before running it. */
struct launch {
	const struct cli_options *opts;
	struct api *api;
	struct control *ctl;
	bool ready; /* finish_setup done */
};

/*
 * The VM is built: attach the API, drop privileges, start the worker
 * and migration threads (each confines itself) and the API thread. For
 * an incoming migration this runs before the state is loaded, so it
 * is not part of the source's downtime.
 */
static int finish_setup(struct launch *l, struct vm *vm)
{
	int ret = 0;

	if (l->ready)
		return 0;
	if (l->api)
		ret = control__attach(l->api, vm, &l->ctl);
	if (!ret && !l->opts->wait_restore) /* --wait-restore: done already */
		ret = enter_sandbox(l->opts, l->api);
	/* Before vm__run confines this thread: the worker needs its own role. */
	if (!ret)
		ret = control__start(l->ctl);
	/* live migration (issue 6): its thread confines itself, like the worker. */
	if (!ret)
		ret = vm__migrate_init(vm);
	if (!ret && l->api && !l->opts->wait_restore)
		ret = api__start(l->api, &(struct api_params){
						 .thread_start = api_thread_start,
					 });
	l->ready = !ret;
	return ret;
}

static int incoming_ready(void *opaque, struct vm *vm)
{
	return finish_setup(opaque, vm);
}

/* The loader thread, before it parses the (untrusted) migrated state. */
static int incoming_confine(void *opaque)
{
	(void)opaque;
	return sandbox__enter(SC_ROLE_INCOMING);
}

/*
 * A closed stdin, stdout or stderr would hand its number to the next
 * open() (e.g. /dev/kvm), and the console would then read or write
 * that file. Point any closed one at /dev/null first.
 */
static void ensure_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
			return;
	}
}

static int exit_status(const struct vm_stop *stop)
{
	switch (stop->reason) {
	case VM_STOP_GUEST_EXIT:
		/* isa-debug-exit semantics; the shell keeps the low 8 bits. */
		return ((stop->guest_status << 1) | 1) & 0xff;
	case VM_STOP_SHUTDOWN:
	case VM_STOP_MIGRATED: /* live migration (issue 6): runs elsewhere now */
		return EXIT_SHUTDOWN;
	case VM_STOP_RESET:
		return EXIT_RESET;
	case VM_STOP_SIGNAL:
		return EXIT_SIGNAL;
	case VM_STOP_ERROR:
	case VM_STOP_NONE:
	default:
		return EXIT_VM_ERROR;
	}
}

int main(int argc, char **argv)
{
	struct cli_options opts;
	struct vm_stop stop = { 0 };
	struct vm *vm = NULL;
	struct api *api = NULL;
	struct control *ctl = NULL;
	struct launch launch = { .opts = &opts };
	char err[512];
	int ret;

	ensure_std_fds();
	/* Before any thread exists: every thread inherits the mask. */
	ret = vm__block_signals();
	if (ret) {
		fprintf(stderr, "ferry: cannot set up signals: %s\n", strerror(-ret));
		return EXIT_START_FAILED;
	}
	ret = cli__parse(argc, argv, &opts, err, sizeof(err));
	if (ret == CLI_HELP) {
		fputs(cli__usage(), stdout);
		return 0;
	}
	if (ret == CLI_VERSION) {
		printf("ferry %s\n", FERRY_VERSION);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "ferry: %s\n", err);
		return EXIT_USAGE;
	}
	log__set_level(opts.log_level);
	ret = sandbox__init(opts.vm.seccomp);
	if (ret) {
		log_err("cannot set up the sandbox: %s", strerror(-ret));
		return EXIT_START_FAILED;
	}

	/* The API socket first, so a bad path fails before the VM is built. */
	if (opts.vm.api_sock[0]) {
		ret = api__create(opts.vm.api_sock, &api);
		if (ret)
			return EXIT_START_FAILED;
	}
	launch.api = api;
	if (opts.wait_restore) {
		/*
		 * The API serves before any VM exists: drop privileges and
		 * start its thread now; the VM comes from PUT /snapshot/load.
		 */
		ret = enter_sandbox(&opts, api);
		if (!ret)
			ret = api__start(api, &(struct api_params){
						      .thread_start = api_thread_start,
					      });
		if (!ret)
			ret = wait_restore__run(api, &opts.vm, &vm);
		if (ret == -ECANCELED || ret == -EINTR) {
			api__destroy(api);
			return ret == -ECANCELED ? EXIT_SHUTDOWN : EXIT_SIGNAL;
		}
		if (ret)
			log_err("cannot wait for a snapshot: %s", strerror(-ret));
	} else if (opts.incoming[0]) { /* live migration (issue 6) */
		ret = vm__migrate_incoming(&opts.vm, opts.incoming,
					   opts.incoming_mem, incoming_ready,
					   incoming_confine, &launch, &vm, err,
					   sizeof(err));
		if (ret)
			log_err("incoming migration on %s failed: %s", opts.incoming,
				err);
	} else if (opts.restore_dir[0]) {
		ret = vm__restore(&opts.vm, opts.restore_dir,
				  opts.restore_copy ? VM_RESTORE_COPY : VM_RESTORE_LAZY,
				  opts.resume, &vm, err, sizeof(err));
		if (ret)
			log_err("cannot restore: %s", err); /* err names the dir */
	} else {
		ret = vm__create(&opts.vm, &vm);
		if (ret)
			log_err("cannot start the VM: %s", strerror(-ret));
	}
	if (ret) {
		control__detach(launch.ctl);
		api__destroy(api);
		vm__destroy(vm); /* a failed incoming migration may leave one */
		return EXIT_START_FAILED;
	}
	ret = finish_setup(&launch, vm);
	ctl = launch.ctl;
	if (ret) {
		log_err("cannot start the VM: %s", strerror(-ret));
		control__detach(ctl);
		api__destroy(api);
		vm__destroy(vm);
		return EXIT_START_FAILED;
	}
	ret = vm__run(vm, &stop);
	/* Late requests now get 503; the shutdown reply still goes out. */
	control__detach(ctl);
	api__destroy(api);
	vm__destroy(vm);
	if (ret) {
		log_err("VM run failed: %s", strerror(-ret));
		return EXIT_VM_ERROR;
	}
	if (stop.reason == VM_STOP_MIGRATED)
		log_info("the VM migrated; exiting");
	if (stop.reason == VM_STOP_GUEST_EXIT)
		log_debug("guest wrote %d to the debug-exit port", stop.guest_status);
	return exit_status(&stop);
}
