/*
 * migrate-cmd.c: ferryctl's live-migration commands. `migrate URL`
 * sends PUT /migration with the given parameters, then polls
 * GET /migration every 200 ms and redraws one progress line (phase,
 * iteration, bytes sent, bandwidth, dirty rate, pending RAM and device
 * bytes, expected downtime); at the end it prints the total time and the
 * measured downtime, or the reason it failed.
 */
#include "migrate-cmd.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define MIG_POLL_MS 200
/* Each request must come back within this; the migration itself has no limit. */
#define MIG_REQ_TIMEOUT_MS 30000

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static double mib(long long b)
{
	return (double)b / (1024.0 * 1024.0);
}

static int request(struct client *c, const char *method, const char *body,
		   struct json_object **out)
{
	char err[512];
	long status;
	int ret;

	ret = client__request(c, method, "/migration", body, &status, out, err,
			      sizeof(err));
	if (ret) {
		fprintf(stderr, "ferryctl: cannot reach ferry: %s\n", err);
		return 3;
	}
	if (status < 200 || status > 299) {
		fprintf(stderr, "ferryctl: %s (HTTP %ld)\n",
			jstr(*out, "error")[0] ? jstr(*out, "error") : "unexpected response",
			status);
		json_object_put(*out);
		*out = NULL;
		return 1;
	}
	return *out ? 0 : 1;
}

static void print_line(struct json_object *j, bool tty)
{
	printf("%s%-10s it %-3lld sent %8.1f MiB  %7.1f MiB/s  dirty %7.1f MiB/s  pending RAM %7.1f MiB dev %6.1f MiB  exp. downtime %4lld ms%s",
	       tty ? "\r" : "", jstr(j, "phase"), jint(j, "iteration"),
	       mib(jint(j, "bytes_sent")), mib(jint(j, "bandwidth")),
	       mib(jint(j, "dirty_rate")), mib(jint(j, "pending_ram")),
	       mib(jint(j, "pending_device")), jint(j, "expected_downtime_ms"),
	       tty ? "" : "\n");
	fflush(stdout);
}

/* Follow until the phase is final. Exit status 0 only for "completed". */
static int follow(struct client *c, bool json)
{
	bool tty = isatty(STDOUT_FILENO) && !json;
	struct json_object *j = NULL;
	const char *phase;
	int ret;

	for (;;) {
		ret = request(c, "GET", NULL, &j);
		if (ret)
			return ret;
		phase = jstr(j, "phase");
		if (!strcmp(phase, "completed") || !strcmp(phase, "failed") ||
		    !strcmp(phase, "cancelled") || !strcmp(phase, "none"))
			break;
		if (!json)
			print_line(j, tty);
		json_object_put(j);
		nanosleep(&(struct timespec){ 0, MIG_POLL_MS * 1000000L }, NULL);
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	} else {
		if (tty)
			printf("\n");
		if (!strcmp(phase, "completed"))
			printf("migration completed: %lld ms total, %lld ms downtime, %lld iterations, %.1f MiB sent%s%s\n",
			       jint(j, "total_ms"), jint(j, "downtime_ms"),
			       jint(j, "iteration"), mib(jint(j, "bytes_sent")),
			       jstr(j, "note")[0] ? "; " : "", jstr(j, "note"));
		else
			printf("migration %s: %s\n", phase, jstr(j, "error"));
	}
	ret = strcmp(phase, "completed") ? 1 : 0;
	json_object_put(j);
	return ret;
}

/* key=value words into the PUT body. */
static int build_body(const char *url, int argc, char **argv, char *body,
		      size_t len, bool *nowait)
{
	struct json_object *o = json_object_new_object();
	int i;

	json_object_object_add(o, "url", json_object_new_string(url));
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		static const struct { const char *word, *key; } ints[] = {
			{ "downtime", "downtime_limit_ms" },
			{ "iterations", "max_iterations" },
			{ "timeout", "timeout_ms" },
			{ "bandwidth", "max_bandwidth" },
			{ "channels", "channels" },
		};
		size_t k;
		char *end;
		long long v;

		if (!eq)
			goto bad;
		*eq = '\0';
		for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			if (!strcmp(argv[i], ints[k].word))
				break;
		if (k < sizeof(ints) / sizeof(ints[0])) {
			errno = 0;
			v = strtoll(eq + 1, &end, 10);
			if (errno || *end || eq[1] == '\0' || v < 0)
				goto bad;
			json_object_object_add(o, ints[k].key, json_object_new_int64(v));
		} else if (!strcmp(argv[i], "on-timeout")) {
			json_object_object_add(o, "on_timeout",
					       json_object_new_string(eq + 1));
		} else if (!strcmp(argv[i], "ignore-blockers")) {
			json_object_object_add(o, "ignore_blockers",
					       json_object_new_boolean(!strcmp(eq + 1, "1")));
		} else if (!strcmp(argv[i], "switchover-ack")) {
			json_object_object_add(o, "switchover_ack",
					       json_object_new_boolean(strcmp(eq + 1, "0") != 0));
		} else if (!strcmp(argv[i], "nowait")) {
			*nowait = !strcmp(eq + 1, "1");
		} else {
			goto bad;
		}
		*eq = '=';
		continue;
bad:
		fprintf(stderr, "ferryctl: migrate: bad parameter '%s' (downtime=MS iterations=N timeout=MS bandwidth=BYTES/S on-timeout=switchover|fail switchover-ack=0|1 ignore-blockers=1 nowait=1)\n",
			argv[i]);
		json_object_put(o);
		return 2;
	}
	snprintf(body, len, "%s", json_object_to_json_string(o));
	json_object_put(o);
	return 0;
}

int migrate_cmd__run(const char *sock, int argc, char **argv, bool json)
{
	struct client *c;
	struct json_object *j = NULL;
	char body[1024];
	bool nowait = false;
	int ret;

	if (argc < 1) {
		fprintf(stderr, "ferryctl: expected `migrate URL [key=value...]`, `migrate status` or `migrate cancel`\n");
		return 2;
	}
	if (strcmp(argv[0], "status") && strcmp(argv[0], "cancel")) {
		ret = build_body(argv[0], argc - 1, argv + 1, body, sizeof(body), &nowait);
		if (ret)
			return ret;
	} else if (argc != 1) {
		fprintf(stderr, "ferryctl: migrate %s takes no parameters\n", argv[0]);
		return 2;
	}
	if (client__create(sock, MIG_REQ_TIMEOUT_MS, &c)) {
		fprintf(stderr, "ferryctl: out of memory\n");
		return 3;
	}
	if (!strcmp(argv[0], "status") || !strcmp(argv[0], "cancel")) {
		ret = request(c, !strcmp(argv[0], "status") ? "GET" : "DELETE",
			      NULL, &j);
		if (!ret) {
			if (json)
				printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
			else if (!strcmp(argv[0], "cancel"))
				printf("cancelling the migration\n");
			else
				print_line(j, false);
		}
		json_object_put(j);
		client__destroy(c);
		return ret;
	}
	ret = request(c, "PUT", body, &j);
	json_object_put(j);
	if (!ret && !nowait)
		ret = follow(c, json);
	client__destroy(c);
	return ret;
}
