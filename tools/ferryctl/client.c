/*
 * client.c: one HTTP/1.1 request to the ferry API over its UNIX
 * socket, through libcurl; the response body is collected (bounded)
 * and parsed with json-c.
 */
#include "client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <json-c/json.h>

struct client {
	char *sock_path;
	long timeout_ms;
	CURL *curl;
};

struct body_buf {
	char *data;
	size_t len;
	bool overflow;
};

int client__create(const char *sock_path, long timeout_ms,
		   struct client **out)
{
	struct client *c;

	if (curl_global_init(CURL_GLOBAL_NOTHING))
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sock_path = strdup(sock_path);
	c->curl = curl_easy_init();
	if (!c->sock_path || !c->curl) {
		client__destroy(c);
		return -ENOMEM;
	}
	c->timeout_ms = timeout_ms;
	*out = c;
	return 0;
}

void client__destroy(struct client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->sock_path);
	free(c);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque)
{
	struct body_buf *b = opaque;
	size_t n = size * nmemb;
	char *nd;

	if (b->len + n > CLIENT_MAX_BODY) {
		b->overflow = true;
		return 0; /* makes curl fail the transfer */
	}
	nd = realloc(b->data, b->len + n + 1);
	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int client__request(struct client *c, const char *method, const char *path,
		    const char *body, long *status, struct json_object **json,
		    char *err, size_t errlen)
{
	char url[256], cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct body_buf b = { 0 };
	struct stat st;
	CURLcode rc;
	int ret = 0;

	*json = NULL;
	/* curl says "Couldn't connect" for both; tell the user which. */
	if (stat(c->sock_path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", c->sock_path, strerror(-ret));
		return ret;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->sock_path);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (strcmp(method, "GET") != 0) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
	}
	/* No "Expect: 100-continue" round trip for tiny bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		ret = rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED :
		      rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		snprintf(err, errlen, "%s: %s", c->sock_path,
			 b.overflow ? "response too large" :
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		free(b.data);
		return ret;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (b.data)
		*json = json_tokener_parse(b.data);
	free(b.data);
	return 0;
}
