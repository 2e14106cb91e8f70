/*
 * progress.c: follows a long-running operation through the API and
 * draws its progress: a bar, bytes done of total, a smoothed transfer
 * rate and the time remaining. The formatting is a pure function so it
 * can be tested on its own.
 */
#include "progress.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"

/* Weight of the newest rate sample in the moving average. */
#define RATE_ALPHA 0.3
/* Non-terminal output: one progress line per this many ms. */
#define PLAIN_EVERY_MS 1000
#define BAR_WIDTH 30

static void fmt_bytes(char *buf, size_t len, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void fmt_duration(char *buf, size_t len, double s)
{
	unsigned long t = (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%luh%02lum", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, len, "%lus", t);
}

void progress__format(char *buf, size_t len, const struct progress_sample *s,
		      double rate_bps, unsigned int bar_width)
{
	char done[32], total[32], rate[32], eta[32], bar[128];
	size_t off;
	unsigned int i, fill;
	double frac;

	fmt_bytes(done, sizeof(done), (double)s->done_bytes);
	off = (size_t)snprintf(buf, len, "%s ", s->name[0] ? s->name : "operation");
	if (off >= len)
		return;
	if (s->total_bytes) {
		frac = (double)s->done_bytes / (double)s->total_bytes;
		if (frac > 1)
			frac = 1;
		if (bar_width > sizeof(bar) - 3)
			bar_width = sizeof(bar) - 3;
		fill = (unsigned int)(frac * bar_width);
		bar[0] = '[';
		for (i = 0; i < bar_width; i++)
			bar[1 + i] = i < fill ? '#' : '.';
		bar[1 + bar_width] = ']';
		bar[2 + bar_width] = '\0';
		fmt_bytes(total, sizeof(total), (double)s->total_bytes);
		off += (size_t)snprintf(buf + off, len - off, "%s %3.0f%%  %s / %s",
					bar, frac * 100, done, total);
	} else {
		off += (size_t)snprintf(buf + off, len - off, "%s", done);
	}
	if (off >= len)
		return;
	if (rate_bps > 0) {
		fmt_bytes(rate, sizeof(rate), rate_bps);
		off += (size_t)snprintf(buf + off, len - off, "  %s/s", rate);
		if (off < len && s->total_bytes > s->done_bytes) {
			fmt_duration(eta, sizeof(eta),
				     (double)(s->total_bytes - s->done_bytes) /
					     rate_bps);
			snprintf(buf + off, len - off, "  %s left", eta);
		}
	}
}

static uint64_t json_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

static void json_str(struct json_object *o, const char *key, char *dst,
		     size_t len)
{
	struct json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, key, &v))
		snprintf(dst, len, "%s", json_object_get_string(v));
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int progress__follow(struct client *c, const char *path,
		     unsigned int interval_ms, bool json, FILE *out)
{
	struct progress_sample s, prev = { 0 };
	struct json_object *o;
	bool tty = isatty(fileno(out)), have_prev = false;
	long status, last_print = 0, now;
	double rate = 0;
	char line[256], err[512], msg[256];
	int ret;

	for (;;) {
		ret = client__request(c, "GET", path, NULL, &status, &o, err,
				      sizeof(err));
		if (ret) {
			fprintf(stderr, "ferryctl: %s\n", err);
			return 3;
		}
		if (status != 200 || !o) {
			json_str(o, "error", msg, sizeof(msg));
			fprintf(stderr, "ferryctl: %s (HTTP %ld)\n",
				msg[0] ? msg : "bad response", status);
			json_object_put(o);
			return 1;
		}
		memset(&s, 0, sizeof(s));
		json_str(o, "operation", s.name, sizeof(s.name));
		json_str(o, "state", s.state, sizeof(s.state));
		s.id = json_u64(o, "id");
		s.done_bytes = json_u64(o, "done_bytes");
		s.total_bytes = json_u64(o, "total_bytes");
		s.elapsed_ms = json_u64(o, "elapsed_ms");
		json_str(o, "error", msg, sizeof(msg));
		if (json)
			fprintf(out, "%s\n", json_object_to_json_string_ext(
						     o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);

		if (have_prev && s.id == prev.id &&
		    s.elapsed_ms > prev.elapsed_ms &&
		    s.done_bytes >= prev.done_bytes) {
			double r = (double)(s.done_bytes - prev.done_bytes) *
				   1000.0 / (double)(s.elapsed_ms - prev.elapsed_ms);

			rate = rate > 0 ? RATE_ALPHA * r + (1 - RATE_ALPHA) * rate : r;
		} else if (s.elapsed_ms) {
			rate = (double)s.done_bytes * 1000.0 / (double)s.elapsed_ms;
		}
		prev = s;
		have_prev = true;

		if (strcmp(s.state, "running") != 0)
			break;
		now = mono_ms();
		if (!json && (tty || now - last_print >= PLAIN_EVERY_MS)) {
			progress__format(line, sizeof(line), &s, rate, BAR_WIDTH);
			fprintf(out, tty ? "\r\033[K%s" : "%s\n", line);
			fflush(out);
			last_print = now;
		}
		usleep(interval_ms * 1000);
	}

	if (json)
		return strcmp(s.state, "failed") == 0 ? 1 : 0;
	if (tty && last_print)
		fprintf(out, "\r\033[K");
	if (strcmp(s.state, "none") == 0) {
		fprintf(out, "no long-running operation has run\n");
		return 0;
	}
	if (s.elapsed_ms)
		rate = (double)s.done_bytes * 1000.0 / (double)s.elapsed_ms;
	progress__format(line, sizeof(line), &s, rate, BAR_WIDTH);
	if (strcmp(s.state, "failed") == 0) {
		fprintf(out, "%s\n", line);
		fprintf(stderr, "ferryctl: %s failed: %s\n",
			s.name[0] ? s.name : "operation", msg);
		return 1;
	}
	fmt_duration(msg, sizeof(msg), (double)s.elapsed_ms / 1000.0);
	fprintf(out, "%s  done in %s\n", line, msg);
	return 0;
}
