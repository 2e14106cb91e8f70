/*
 * ferryctl.c: the command-line client for a running ferry's API socket:
 * `ferryctl --api-sock PATH COMMAND`. Human-readable output by default,
 * the server's JSON with --json. Exit status: 0 ok, 1 the server
 * answered an error, 2 usage, 3 the server cannot be reached.
 * Long-running commands show a progress display (progress.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "progress.h"
#include "migrate-cmd.h"
#include "snapshot-cmd.h"
#include "vmm/api-version.h"

#define EXIT_OK 0
#define EXIT_SERVER 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

/* Above the server's own 30 s limit for the VMM to answer. */
#define DEFAULT_TIMEOUT_S 60
/* Polling period of the progress display. */
#define PROGRESS_INTERVAL_MS 200

struct opts {
	const char *sock;
	bool json;
	long timeout_s;
	bool timeout_set; /* --timeout given (snapshot create: else none) */
	bool replace;     /* snapshot create --replace */
};

static const char usage[] =
	"Usage: ferryctl --api-sock PATH [--json] [--timeout SECONDS] COMMAND\n"
	"\n"
	"Control a running ferry microVM through its API socket.\n"
	"\n"
	"Commands:\n"
	"  status     state, uptime, vCPUs, memory, configuration and devices\n"
	"             (GET /vm)\n"
	"  config     the VM's configuration as JSON, reusable with\n"
	"             `ferry --config FILE` (the \"config\" member of GET /vm)\n"
	"  pause      stop every vCPU and quiesce devices (PUT /vm/pause)\n"
	"  resume     continue a paused VM (PUT /vm/resume)\n"
	"  shutdown   orderly stop; ferry then exits 0 (PUT /vm/shutdown)\n"
	"  wait       follow the current long-running operation (snapshot,\n"
	"             migration) with a progress bar until it ends\n"
	"             (polls GET /vm/operation)\n"
	"  version    the server's version (GET /version)\n"
	"  snapshot create DIR [--replace]\n"
	"             write a snapshot of the paused VM to directory DIR\n"
	"             (PUT /snapshot/create) with a progress display; waits\n"
	"             until it is complete (no time limit unless --timeout)\n"
	"  migrate URL [downtime=MS] [bandwidth=BYTES/S] [iterations=N]\n"
	"          [timeout=MS] [on-timeout=switchover|fail] [ignore-blockers=1]\n"
	"          [channels=N]\n"
	"             live-migrate to `ferry --incoming URL` (tcp:ADDR:PORT or\n"
	"             unix:PATH) with a live progress line (PUT/GET /migration)\n"
	"  migrate status | migrate cancel\n"
	"             progress of / cancel the migration (GET/DELETE /migration)\n"
	"  snapshot load DIR [resume=1] [mode=copy]\n"
	"             build the VM of a ferry started with --wait-restore\n"
	"             from the snapshot in DIR (PUT /snapshot/load); it\n"
	"             comes up paused unless resume=1\n"
	"  snapshot inspect DIR\n"
	"             validate the snapshot in DIR completely (every memory\n"
	"             chunk) and print what it holds; runs locally, without\n"
	"             --api-sock. Restore with `ferry --restore DIR`\n"
	"\n"
	"Options:\n"
	"  --api-sock PATH     the socket given to `ferry --api-sock`\n"
	"                      (default: $FERRY_API_SOCK)\n"
	"  --json              print the server's JSON (for scripts)\n"
	"  --timeout SECONDS   give up on a request after this long (default 60)\n"
	"  --replace           snapshot create: replace an older snapshot in DIR\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 success, 1 the server answered an error (printed),\n"
	"2 usage error, 3 the server cannot be reached.\n";

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	const char *str;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return "";
	str = json_object_get_string(v); /* NULL for a JSON null */
	return str ? str : "";
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return (long long)json_object_get_int64(v);
}

/*
 * One request. On success *out holds the JSON body. Errors are printed
 * here; the return value is the exit status.
 */
static int call(struct client *c, const struct opts *o, const char *method,
		const char *path, struct json_object **out)
{
	struct json_object *j;
	long status;
	char err[512];
	int ret;

	*out = NULL;
	ret = client__request(c, method, path, NULL, &status, &j, err,
			      sizeof(err));
	if (ret) {
		fprintf(stderr, "ferryctl: cannot reach ferry: %s\n", err);
		return EXIT_CONNECT;
	}
	if (status < 200 || status > 299) {
		if (o->json && j)
			print_json(j);
		fprintf(stderr, "ferryctl: %s (HTTP %ld)\n",
			get_str(j, "error")[0] ? get_str(j, "error") :
						 "unexpected response",
			status);
		json_object_put(j);
		return EXIT_SERVER;
	}
	if (!j) {
		fprintf(stderr, "ferryctl: the server's answer is not JSON\n");
		return EXIT_SERVER;
	}
	*out = j;
	return EXIT_OK;
}

static void print_uptime(long long ms)
{
	long long s = ms / 1000;

	if (s >= 86400)
		printf("%lldd %02lldh%02lldm%02llds\n", s / 86400, s / 3600 % 24,
		       s / 60 % 60, s % 60);
	else if (s >= 3600)
		printf("%lldh%02lldm%02llds\n", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		printf("%lldm%02llds\n", s / 60, s % 60);
	else
		printf("%lld.%03llds\n", s, ms % 1000);
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) &&
	       json_object_get_boolean(v);
}

/*
 * One line per device of GET /vm's "devices": id, type, PCI address,
 * VFIO backend and path, migration support, failure.
 */
static void print_device(struct json_object *d)
{
	struct json_object *vfio = NULL, *mig = NULL;

	printf("device:   %s %s", get_str(d, "id"), get_str(d, "type"));
	if (get_str(d, "pci")[0])
		printf(" pci %s", get_str(d, "pci"));
	if (json_object_object_get_ex(d, "vfio", &vfio)) {
		printf(" %s %s", get_str(vfio, "backend"), get_str(vfio, "path"));
		if (json_object_object_get_ex(vfio, "migration", &mig)) {
			printf(" migration:%s%s%s%s%s",
			       get_bool(mig, "stop_copy") ? " stop_copy" : "",
			       get_bool(mig, "pre_copy") ? " pre_copy" : "",
			       get_bool(mig, "p2p") ? " p2p" : "",
			       get_bool(mig, "dirty_tracking") ? " dirty_tracking" : "",
			       get_bool(mig, "stop_copy") ? "" : " none");
			if (get_str(mig, "blocker")[0])
				printf(" (blocked: %s)", get_str(mig, "blocker"));
		}
	}
	if (get_bool(d, "failed"))
		printf(" FAILED: %s", get_str(d, "error"));
	printf("\n");
}

static void print_status(struct json_object *j)
{
	struct json_object *cfg = NULL, *vfio = NULL, *devs = NULL;
	long long mem = get_int(j, "memory");
	size_t i, n;

	json_object_object_get_ex(j, "config", &cfg);
	printf("state:    %s\n", get_str(j, "state"));
	printf("uptime:   ");
	print_uptime(get_int(j, "uptime_ms"));
	printf("vcpus:    %lld\n", get_int(j, "vcpus"));
	if (mem % (1LL << 30) == 0)
		printf("memory:   %lld GiB\n", mem >> 30);
	else
		printf("memory:   %lld MiB\n", mem >> 20);
	printf("kernel:   %s\n", get_str(cfg, "kernel"));
	if (get_str(cfg, "initrd")[0])
		printf("initrd:   %s\n", get_str(cfg, "initrd"));
	printf("cmdline:  %s\n", get_str(cfg, "cmdline"));
	printf("serial:   %s\n", get_str(cfg, "serial"));
	printf("seccomp:  %s\n", get_str(cfg, "seccomp"));
	if (json_object_object_get_ex(j, "devices", &devs) &&
	    json_object_is_type(devs, json_type_array)) {
		n = json_object_array_length(devs);
		for (i = 0; i < n; i++)
			print_device(json_object_array_get_idx(devs, i));
		return;
	}
	/* A server without the device list: the configured VFIO devices. */
	if (cfg && json_object_object_get_ex(cfg, "vfio", &vfio)) {
		n = json_object_array_length(vfio);
		for (i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(vfio, i);

			printf("device:   %s %s %s (migration %s)\n",
			       get_str(d, "kind"), get_str(d, "id"),
			       get_str(d, "socket")[0] ? get_str(d, "socket") :
							 get_str(d, "path"),
			       get_str(d, "migration"));
		}
	}
}

static int run(struct client *c, const struct opts *o, const char *cmd)
{
	static const struct {
		const char *cmd, *path, *done;
	} puts_[] = {
		{ "pause", "/vm/pause", "VM paused" },
		{ "resume", "/vm/resume", "VM resumed" },
		{ "shutdown", "/vm/shutdown", "VM shutting down" },
	};
	struct json_object *j, *cfg;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(puts_) / sizeof(puts_[0]); i++) {
		if (strcmp(cmd, puts_[i].cmd) != 0)
			continue;
		ret = call(c, o, "PUT", puts_[i].path, &j);
		if (ret)
			return ret;
		if (o->json)
			print_json(j);
		else
			printf("%s\n", puts_[i].done);
		json_object_put(j);
		return EXIT_OK;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "config") == 0) {
		ret = call(c, o, "GET", "/vm", &j);
		if (ret)
			return ret;
		if (strcmp(cmd, "config") == 0) {
			if (json_object_object_get_ex(j, "config", &cfg))
				print_json(cfg);
		} else if (o->json) {
			print_json(j);
		} else {
			print_status(j);
		}
		json_object_put(j);
		return EXIT_OK;
	}
	if (strcmp(cmd, "version") == 0) {
		ret = call(c, o, "GET", "/version", &j);
		if (ret)
			return ret;
		if (o->json)
			print_json(j);
		else
			printf("%s %s (API version %lld)\n", get_str(j, "name"),
			       get_str(j, "version"), get_int(j, "api_version"));
		json_object_put(j);
		return EXIT_OK;
	}
	if (strcmp(cmd, "wait") == 0)
		return progress__follow(c, "/vm/operation", PROGRESS_INTERVAL_MS,
					o->json, stdout);
	fprintf(stderr, "ferryctl: unknown command '%s' (see --help)\n", cmd);
	return EXIT_USAGE;
}

/* `snapshot load DIR [resume=1] [mode=copy]`. */
static int snapshot_load(const struct opts *o, int argc, char **argv)
{
	bool resume = false, copy = false;
	int i;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "resume=1"))
			resume = true;
		else if (!strcmp(argv[i], "resume=0"))
			resume = false;
		else if (!strcmp(argv[i], "mode=copy"))
			copy = true;
		else if (!strcmp(argv[i], "mode=lazy"))
			copy = false;
		else {
			fprintf(stderr, "ferryctl: snapshot load: bad parameter '%s' (resume=0|1 mode=lazy|copy)\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!o->sock || !o->sock[0]) {
		fprintf(stderr, "ferryctl: --api-sock PATH is required (see --help)\n");
		return EXIT_USAGE;
	}
	return snapshot_cmd__load(o->sock, argv[1], resume, copy,
				  o->timeout_set ? o->timeout_s * 1000 : 0,
				  o->json);
}

/* `snapshot create DIR` / `snapshot inspect DIR` (@argv after "snapshot"). */
static int snapshot(const struct opts *o, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[0], "load") == 0)
		return snapshot_load(o, argc, argv);
	if (argc != 2 || (strcmp(argv[0], "create") != 0 &&
			  strcmp(argv[0], "inspect") != 0)) {
		fprintf(stderr, "ferryctl: expected `snapshot create DIR` or `snapshot inspect DIR` (see --help)\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "inspect") == 0) {
		if (o->replace) {
			fprintf(stderr, "ferryctl: --replace is for snapshot create\n");
			return EXIT_USAGE;
		}
		return snapshot_cmd__inspect(argv[1], o->json);
	}
	if (!o->sock || !o->sock[0]) {
		fprintf(stderr, "ferryctl: --api-sock PATH is required (see --help)\n");
		return EXIT_USAGE;
	}
	return snapshot_cmd__create(o->sock, argv[1], o->replace,
				    o->timeout_set ? o->timeout_s * 1000 : 0,
				    o->json);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "api-sock", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .sock = getenv("FERRY_API_SOCK"),
			  .timeout_s = DEFAULT_TIMEOUT_S };
	struct client *c;
	char *end;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.sock = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 't':
			errno = 0;
			o.timeout_s = strtol(optarg, &end, 10);
			if (errno || *end || o.timeout_s < 1 || o.timeout_s > 86400) {
				fprintf(stderr, "ferryctl: --timeout '%s': expected 1 to 86400 seconds\n",
					optarg);
				return EXIT_USAGE;
			}
			o.timeout_set = true;
			break;
		case 'r':
			o.replace = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case 'V':
			printf("ferryctl %s\n", FERRY_VERSION);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "snapshot") == 0)
		return snapshot(&o, argc - optind - 1, argv + optind + 1);
	/* live migration (issue 6): tools/ferryctl/migrate-cmd.c */
	if (optind < argc && strcmp(argv[optind], "migrate") == 0) {
		if (!o.sock || !o.sock[0]) {
			fprintf(stderr, "ferryctl: --api-sock PATH is required (see --help)\n");
			return EXIT_USAGE;
		}
		return migrate_cmd__run(o.sock, argc - optind - 1, argv + optind + 1,
					o.json);
	}
	if (o.replace) {
		fprintf(stderr, "ferryctl: --replace is for snapshot create\n");
		return EXIT_USAGE;
	}
	if (!o.sock || !o.sock[0]) {
		fprintf(stderr, "ferryctl: --api-sock PATH is required (see --help)\n");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ferryctl: expected exactly one command (see --help)\n");
		return EXIT_USAGE;
	}
	ret = client__create(o.sock, o.timeout_s * 1000, &c);
	if (ret) {
		fprintf(stderr, "ferryctl: cannot set up the HTTP client: %s\n",
			strerror(-ret));
		return EXIT_CONNECT;
	}
	ret = run(c, &o, argv[optind]);
	client__destroy(c);
	return ret;
}
