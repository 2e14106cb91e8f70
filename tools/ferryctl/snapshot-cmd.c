/*
 * snapshot-cmd.c: `ferryctl snapshot create|inspect`. Create sends the
 * request on one connection and polls the progress on another from a
 * second thread (the request itself only answers at the end); the
 * display is progress.c's bar, rate and time remaining. Inspect runs
 * the restore-side validation of migration/ locally.
 */
#include "snapshot-cmd.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "migration/snapshot-load.h"
#include "progress.h"

#define EXIT_OK 0
#define EXIT_SERVER 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

/* Polling period of the progress display. */
#define POLL_MS 200
/* Non-terminal output: one progress line per this many polls (1 s). */
#define PLAIN_EVERY 5
#define BAR_WIDTH 30
/* Weight of the newest rate sample in the moving average. */
#define RATE_ALPHA 0.3

struct poller {
	struct client *c;
	uint64_t prev_id;   /* the operation before ours: ignore it */
	FILE *out;
	bool tty;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;          /* protected by lock */
	bool drawn;         /* a progress line is on the terminal */
};

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

static void sample_from(struct json_object *o, struct progress_sample *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", get_str(o, "operation"));
	snprintf(s->state, sizeof(s->state), "%s", get_str(o, "state"));
	s->id = get_u64(o, "id");
	s->done_bytes = get_u64(o, "done_bytes");
	s->total_bytes = get_u64(o, "total_bytes");
	s->elapsed_ms = get_u64(o, "elapsed_ms");
}

/* GET /vm/operation: 0 and the sample, or -1 (no answer / not JSON). */
static int poll_op(struct client *c, struct progress_sample *s)
{
	struct json_object *o = NULL;
	char err[256];
	long status;

	if (client__request(c, "GET", "/vm/operation", NULL, &status, &o, err,
			    sizeof(err)) || status != 200 || !o) {
		json_object_put(o);
		return -1;
	}
	sample_from(o, s);
	json_object_put(o);
	return 0;
}

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct progress_sample s, prev = { 0 };
	struct timespec until;
	double rate = 0;
	unsigned int n = 0;
	char line[256];

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		pthread_mutex_unlock(&p->lock);
		if (poll_op(p->c, &s) == 0 && s.id > p->prev_id &&
		    strcmp(s.state, "running") == 0) {
			if (prev.id == s.id && s.elapsed_ms > prev.elapsed_ms &&
			    s.done_bytes >= prev.done_bytes) {
				double r = (double)(s.done_bytes - prev.done_bytes) *
					   1000.0 /
					   (double)(s.elapsed_ms - prev.elapsed_ms);

				rate = rate > 0 ? RATE_ALPHA * r +
							  (1 - RATE_ALPHA) * rate :
						  r;
			} else if (s.elapsed_ms) {
				rate = (double)s.done_bytes * 1000.0 /
				       (double)s.elapsed_ms;
			}
			prev = s;
			if (p->tty || n % PLAIN_EVERY == 0) {
				progress__format(line, sizeof(line), &s, rate,
						 BAR_WIDTH);
				fprintf(p->out, p->tty ? "\r\033[K%s" : "%s\n",
					line);
				fflush(p->out);
				p->drawn = p->tty;
			}
			n++;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&p->lock);
		if (!p->stop)
			pthread_cond_timedwait(&p->cond, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/*
 * After a request: @ret from client__request, then the HTTP status.
 * Prints the JSON reply with @json and the server's error on failure.
 * Returns EXIT_OK, EXIT_CONNECT or EXIT_SERVER.
 */
static int check_reply(int ret, const char *err, long status,
		       struct json_object *reply, bool json)
{
	if (ret) {
		fprintf(stderr, "ferryctl: cannot reach ferry: %s\n", err);
		return EXIT_CONNECT;
	}
	if (json && reply)
		printf("%s\n", json_object_to_json_string_ext(
				       reply, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	if (status < 200 || status > 299) {
		fprintf(stderr, "ferryctl: %s (HTTP %ld)\n",
			get_str(reply, "error")[0] ? get_str(reply, "error") :
						     "unexpected response",
			status);
		return EXIT_SERVER;
	}
	return EXIT_OK;
}

/* @dir against our working directory: ferry has its own. */
static int absolute(const char *dir, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/') {
		if ((size_t)snprintf(out, len, "%s", dir) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(out, len, "%s/%s", cwd, dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void fmt_size(char *buf, size_t len, double v)
{
	if (v >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", v / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, len, "%.1f MiB", v / (1024.0 * 1024));
}

int snapshot_cmd__create(const char *sock, const char *dir, bool replace,
			 long timeout_ms, bool json)
{
	struct poller p = { .out = stdout };
	struct progress_sample before, s;
	struct client *c = NULL;
	struct json_object *body, *reply = NULL;
	char path[PATH_MAX], err[512], size[32], rate[32];
	pthread_t tid;
	bool started = false;
	long status;
	int ret;

	ret = absolute(dir, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "ferryctl: %s: %s\n", dir, strerror(-ret));
		return EXIT_USAGE;
	}
	body = json_object_new_object();
	if (!body || json_object_object_add(body, "path",
					    json_object_new_string(path)) ||
	    json_object_object_add(body, "replace",
				   json_object_new_boolean(replace))) {
		json_object_put(body);
		fprintf(stderr, "ferryctl: out of memory\n");
		return EXIT_SERVER;
	}
	if (client__create(sock, timeout_ms, &c) ||
	    client__create(sock, POLL_MS * 10, &p.c)) {
		fprintf(stderr, "ferryctl: cannot set up the HTTP client\n");
		ret = EXIT_CONNECT;
		goto out;
	}
	/* Where the operation counter stands, so we follow only ours. */
	if (poll_op(p.c, &before) == 0)
		p.prev_id = before.id;
	if (!json) {
		p.tty = isatty(fileno(stdout));
		pthread_mutex_init(&p.lock, NULL);
		pthread_cond_init(&p.cond, NULL);
		started = pthread_create(&tid, NULL, poll_thread, &p) == 0;
	}
	ret = client__request(c, "PUT", "/snapshot/create",
			      json_object_to_json_string(body), &status, &reply,
			      err, sizeof(err));
	if (started) {
		pthread_mutex_lock(&p.lock);
		p.stop = true;
		pthread_cond_signal(&p.cond);
		pthread_mutex_unlock(&p.lock);
		pthread_join(tid, NULL);
		if (p.drawn)
			fputs("\r\033[K", stdout);
	}
	ret = check_reply(ret, err, status, reply, json);
	if (ret != EXIT_OK)
		goto out;
	if (!json) {
		sample_from(reply, &s);
		fmt_size(size, sizeof(size), (double)s.total_bytes);
		fmt_size(rate, sizeof(rate),
			 s.elapsed_ms ? (double)s.total_bytes * 1000.0 /
						(double)s.elapsed_ms :
					0);
		printf("snapshot saved to %s: %s in %.3f s (%s/s)\n", path,
		       size, (double)s.elapsed_ms / 1000.0, rate);
	}
	ret = EXIT_OK;
out:
	if (started) {
		pthread_cond_destroy(&p.cond);
		pthread_mutex_destroy(&p.lock);
	}
	json_object_put(reply);
	json_object_put(body);
	client__destroy(p.c);
	client__destroy(c);
	return ret;
}

/* Split @text into an array of its lines. */
static struct json_object *lines_json(const char *text)
{
	struct json_object *a = json_object_new_array();
	const char *p = text, *nl;

	while (a && *p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		json_object_array_add(a, json_object_new_string_len(
						 p, (int)(nl - p)));
		p = *nl ? nl + 1 : nl;
	}
	return a;
}

int snapshot_cmd__inspect(const char *dir, bool json)
{
	struct json_object *o, *cfg = NULL;
	struct snapshot *s = NULL;
	char err[512] = "", *text = NULL;
	size_t len = 0;
	uint64_t mem = 0;
	FILE *f;
	int ret;

	if (!json) {
		ret = snapshot__inspect(dir, stdout, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ferryctl: invalid snapshot: %s\n", err);
			return EXIT_SERVER;
		}
		return EXIT_OK;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		fprintf(stderr, "ferryctl: out of memory\n");
		return EXIT_SERVER;
	}
	ret = snapshot__inspect(dir, f, err, sizeof(err));
	fclose(f);
	if (!ret && snapshot__open(dir, &s, err, sizeof(err)) == 0) {
		mem = snapshot__mem_size(s);
		if (snapshot__config_json(s))
			cfg = json_tokener_parse(snapshot__config_json(s));
		snapshot__close(s);
	}
	o = json_object_new_object();
	if (!o) {
		free(text);
		json_object_put(cfg);
		return EXIT_SERVER;
	}
	json_object_object_add(o, "path", json_object_new_string(dir));
	json_object_object_add(o, "valid", json_object_new_boolean(ret == 0));
	if (ret)
		json_object_object_add(o, "error", json_object_new_string(err));
	else
		json_object_object_add(o, "memory_bytes",
				       json_object_new_int64((int64_t)mem));
	if (cfg)
		json_object_object_add(o, "config", cfg);
	json_object_object_add(o, "report", lines_json(text ? text : ""));
	printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	free(text);
	return ret ? EXIT_SERVER : EXIT_OK;
}

int snapshot_cmd__load(const char *sock, const char *dir, bool resume,
		       bool copy, long timeout_ms, bool json)
{
	struct json_object *body, *reply = NULL;
	struct client *c = NULL;
	char path[PATH_MAX], err[512];
	long status;
	int ret;

	ret = absolute(dir, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "ferryctl: %s: %s\n", dir, strerror(-ret));
		return EXIT_USAGE;
	}
	body = json_object_new_object();
	if (!body ||
	    json_object_object_add(body, "path", json_object_new_string(path)) ||
	    json_object_object_add(body, "resume", json_object_new_boolean(resume)) ||
	    json_object_object_add(body, "mode",
				   json_object_new_string(copy ? "copy" : "lazy"))) {
		json_object_put(body);
		fprintf(stderr, "ferryctl: out of memory\n");
		return EXIT_SERVER;
	}
	if (client__create(sock, timeout_ms, &c)) {
		fprintf(stderr, "ferryctl: cannot set up the HTTP client\n");
		ret = EXIT_CONNECT;
		goto out;
	}
	ret = client__request(c, "PUT", "/snapshot/load",
			      json_object_to_json_string(body), &status, &reply,
			      err, sizeof(err));
	ret = check_reply(ret, err, status, reply, json);
	if (ret != EXIT_OK)
		goto out;
	if (!json)
		printf("snapshot %s loaded: the VM is %s\n", path,
		       get_str(reply, "state"));
	ret = EXIT_OK;
out:
	json_object_put(reply);
	json_object_put(body);
	client__destroy(c);
	return ret;
}
