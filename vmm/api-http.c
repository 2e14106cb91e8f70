/*
 * api-http.c: the HTTP side of the API server: libmicrohttpd setup
 * (connection limit and timeout), request validation against the route
 * table of vmm/api-routes.c (method, path, content type, body size,
 * strict JSON), hand-off of VM requests to the VMM thread through the
 * queue, and sending the replies and errors. Long requests (snapshot)
 * suspend their connection while the VMM thread works, so the API
 * thread keeps serving others, e.g. the progress in GET /vm/operation,
 * which the route table answers from the operation record itself. Runs
 * on the API thread only (the completion callback that resumes a
 * suspended connection runs on the VMM thread).
 */
#include "vmm/api-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include "vmm/api-mhd.h"

#include "vmm/api-queue.h"
#include "vmm/api-routes.h"
#include "vmm/config-json.h"
#include "vmm/log.h"
#include "vmm/request.h"

/* An oversized chunked body is read and discarded up to 16x the cap. */
#define API_DISCARD_FACTOR 16

/* Per-connection buffer for headers and upload chunks (MHD's default). */
#define API_CONN_MEMORY (32 * 1024)

/* State of one request, from its headers to its completion. */
struct api_conn {
	char *body;
	size_t len;
	bool answered;    /* a response was queued early (404/405/413) */
	bool too_large;   /* the body went over the cap: 413 at the end */
	size_t discarded; /* bytes thrown away since then */
	bool suspended;   /* API_ROUTE_VMM_LONG: waiting for the VMM thread */
	struct api *api;  /* for the completion callback */
	struct MHD_Connection *conn;
	struct api_call *call; /* the posted request while suspended */
	int post_ret;     /* posting failed: -errno (no call) */
};

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status,
				 const char *text, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = strlen(text);
	char *copy = malloc(len + 1);

	if (!copy)
		return MHD_NO; /* drops the connection */
	memcpy(copy, text, len + 1);
	r = api_mhd.create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(copy);
		return MHD_NO;
	}
	api_mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	if (allow)
		api_mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = api_mhd.queue_response(c, status, r);
	api_mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status,
				 struct json_object *o)
{
	char text[] = "{\"error\": \"out of memory\"}\n";
	const char *s;
	char *buf;
	enum MHD_Result ret;
	size_t len;

	if (!o)
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, NULL);
	s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	buf = s ? malloc(len + 2) : NULL;
	if (!buf) {
		json_object_put(o);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, NULL);
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	json_object_put(o);
	ret = send_text(c, status, buf, NULL);
	free(buf);
	return ret;
}

static enum MHD_Result __printf(4, 5) send_error(struct MHD_Connection *c,
						 unsigned int status,
						 const char *allow,
						 const char *fmt, ...)
{
	struct json_object *o;
	const char *s;
	char msg[512];
	va_list ap;
	enum MHD_Result ret;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_ratelimited(LOG_LEVEL_INFO, "api: %u %s", status, msg);
	o = json_object_new_object();
	if (!o || json_object_object_add(o, "error",
					 json_object_new_string(msg))) {
		json_object_put(o);
		return MHD_NO;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		json_object_put(o);
		return MHD_NO;
	}
	/* send_text copies; add the newline curl users expect. */
	snprintf(msg, sizeof(msg), "%s\n", s);
	json_object_put(o);
	ret = send_text(c, status, msg, allow);
	return ret;
}

static unsigned int status_for(int ret)
{
	switch (ret) {
	case -EBUSY:
		return MHD_HTTP_CONFLICT;
	case -EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	case -ENOTSUP:
		return MHD_HTTP_NOT_IMPLEMENTED;
	case -ESHUTDOWN:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case -ETIMEDOUT:
		return MHD_HTTP_GATEWAY_TIMEOUT;
	case -EEXIST:
		return MHD_HTTP_CONFLICT;
	case -ENOENT:
	case -ENOTDIR:
		return MHD_HTTP_NOT_FOUND;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return MHD_HTTP_FORBIDDEN;
	case -ENOSPC:
	case -EDQUOT:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	case -ENAMETOOLONG:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/*
 * The body, if any, must be a JSON object: {} for routes without
 * parameters, else what the route's parser accepts (into @req).
 */
static enum MHD_Result check_body(struct MHD_Connection *c,
				  const struct api_route *rt, struct api_conn *ac,
				  struct vmm_request *req, bool *ok)
{
	const char *ctype;
	struct json_object *o;
	char err[256];

	*ok = false;
	if (ac->len == 0) {
		if (rt->parse && rt->parse(NULL, req, err, sizeof(err)))
			return send_error(c, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
		*ok = true;
		return MHD_YES;
	}
	ctype = api_mhd.lookup_connection_value(c, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ctype || strncasecmp(ctype, "application/json", 16) != 0 ||
	    (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))
		return send_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
				  "request body must be application/json (got %s)",
				  ctype ? ctype : "no Content-Type");
	o = config__json_parse_text(ac->body, ac->len, err, sizeof(err));
	if (!o)
		return send_error(c, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return send_error(c, MHD_HTTP_BAD_REQUEST, NULL,
				  "$: expected a JSON object");
	}
	if (rt->parse) {
		if (rt->parse(o, req, err, sizeof(err))) {
			json_object_put(o);
			return send_error(c, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
		}
		json_object_put(o);
		*ok = true;
		return MHD_YES;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		snprintf(err, sizeof(err), "$.%.40s: unknown key", key);
		json_object_put(o);
		return send_error(c, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
	}
	json_object_put(o);
	*ok = true;
	return MHD_YES;
}

/* The VMM thread's answer (or the queue's refusal) as an HTTP reply. */
static enum MHD_Result send_answer(struct api *api, struct MHD_Connection *c,
				   const struct api_route *rt, int ret,
				   const struct vmm_response *resp)
{
	if (ret == -ETIMEDOUT)
		return send_error(c, MHD_HTTP_GATEWAY_TIMEOUT, NULL,
				  "the VMM did not answer within %u ms",
				  api->params.request_timeout_ms);
	if (ret == -ESHUTDOWN)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
				  "the VM is shutting down");
	if (ret)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
				  "%s", strerror(-ret));
	if (resp->ret)
		return send_error(c, status_for(resp->ret), NULL, "%s",
				  resp->message[0] ? resp->message :
						     strerror(-resp->ret));
	return send_json(c, MHD_HTTP_OK, rt->reply(api, resp));
}

/* VMM thread (or whoever closes the queue): the long request is done. */
static void resume_conn(void *opaque)
{
	struct api_conn *ac = opaque;
	struct api *api = ac->api; /* @ac may be gone once resumed */

	api_mhd.resume_connection(ac->conn);
	api__wake(api);
}

/*
 * A long request: suspend the connection first (resuming one that is
 * not suspended is undefined), then post; the completion resumes it and
 * libmicrohttpd calls on_request again, which lands in finish_long.
 */
static enum MHD_Result start_long(struct api *api, struct MHD_Connection *c,
				  struct api_conn *ac,
				  const struct vmm_request *req)
{
	ac->api = api;
	ac->conn = c;
	api_mhd.suspend_connection(c);
	ac->suspended = true;
	ac->post_ret = api_queue__post(api->queue, req, resume_conn, ac,
				       &ac->call);
	if (ac->post_ret) {
		ac->call = NULL;
		resume_conn(ac);
	}
	return MHD_YES;
}

static enum MHD_Result finish_long(struct api *api, struct MHD_Connection *c,
				   const struct api_route *rt, struct api_conn *ac)
{
	struct vmm_response *resp;
	enum MHD_Result mret;
	int ret = ac->post_ret;

	ac->suspended = false;
	ac->answered = true;
	resp = calloc(1, sizeof(*resp));
	if (!resp) {
		api_queue__release(api->queue, ac->call);
		ac->call = NULL;
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
				  "out of memory");
	}
	if (ac->call) {
		ret = api_queue__result(api->queue, ac->call, resp);
		api_queue__release(api->queue, ac->call);
		ac->call = NULL;
	}
	mret = send_answer(api, c, rt, ret, resp);
	free(resp);
	return mret;
}

static enum MHD_Result dispatch(struct api *api, struct MHD_Connection *c,
				const struct api_route *rt, struct api_conn *ac)
{
	struct vmm_request req;
	struct vmm_response *resp;
	enum MHD_Result mret;
	bool ok;
	int ret;

	memset(&req, 0, sizeof(req));
	req.type = rt->req;
	mret = check_body(c, rt, ac, &req, &ok);
	if (!ok)
		return mret;
	if (rt->kind == API_ROUTE_LOCAL)
		return send_json(c, MHD_HTTP_OK, rt->reply(api, NULL));
	if (rt->kind == API_ROUTE_VMM_LONG)
		return start_long(api, c, ac, &req);

	resp = malloc(sizeof(*resp)); /* ~60 KiB with the config copy */
	if (!resp)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
				  "out of memory");
	ret = api_queue__call(api->queue, &req, resp,
			      api->params.request_timeout_ms);
	mret = send_answer(api, c, rt, ret, resp);
	free(resp);
	return mret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct api *api = cls;
	struct api_conn *ac = *con_cls;
	const struct api_route *rt;
	const char *allow, *clen;
	char *nb;

	rt = api_routes__find(url, method, &allow);
	if (!ac) {
		/* First call: headers only. Reject early, before any body. */
		ac = calloc(1, sizeof(*ac));
		if (!ac)
			return MHD_NO;
		*con_cls = ac;
		__atomic_add_fetch(&api->inflight, 1, __ATOMIC_ACQ_REL);
		ac->answered = true;
		if (!rt && !allow)
			return send_error(c, MHD_HTTP_NOT_FOUND, NULL,
					  "no such endpoint: %.64s", url);
		if (!rt)
			return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
					  "%.16s is not allowed on %s (use %s)",
					  method, url, allow);
		clen = api_mhd.lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen && strtoull(clen, NULL, 10) > api->params.max_body)
			return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
					  "request body larger than %zu bytes",
					  api->params.max_body);
		ac->answered = false;
		return MHD_YES;
	}
	if (ac->suspended)
		return finish_long(api, c, rt, ac);
	if (ac->answered) {
		*upload_size = 0; /* discard whatever still arrives */
		return MHD_YES;
	}
	if (*upload_size && ac->too_large) {
		/*
		 * libmicrohttpd cannot answer in mid-upload: discard up to
		 * API_DISCARD_FACTOR times the cap, then drop the client.
		 */
		ac->discarded += *upload_size;
		*upload_size = 0;
		return ac->discarded > API_DISCARD_FACTOR * api->params.max_body ?
			       MHD_NO : MHD_YES;
	}
	if (*upload_size) {
		/* Chunked uploads carry no length up front: cap as we go. */
		if (*upload_size > api->params.max_body - ac->len) {
			ac->too_large = true;
			ac->discarded = *upload_size;
			*upload_size = 0;
			return MHD_YES;
		}
		nb = realloc(ac->body, ac->len + *upload_size + 1);
		if (!nb)
			return MHD_NO;
		ac->body = nb;
		memcpy(ac->body + ac->len, upload, *upload_size);
		ac->len += *upload_size;
		ac->body[ac->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	ac->answered = true;
	if (ac->too_large)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				  "request body larger than %zu bytes",
				  api->params.max_body);
	return dispatch(api, c, rt, ac);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct api *api = cls;
	struct api_conn *ac = *con_cls;

	if (!ac)
		return;
	/* Only reached once resumed; a call not collected is dropped. */
	api_queue__release(api->queue, ac->call);
	free(ac->body);
	free(ac);
	*con_cls = NULL;
	__atomic_sub_fetch(&api->inflight, 1, __ATOMIC_ACQ_REL);
}

/* libmicrohttpd's own diagnostics (bad requests, timeouts, limits). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_ratelimited(LOG_LEVEL_INFO, "api: http: %s", msg);
}

void api_http__prewarm(void)
{
	struct json_object *o;

	tzset();
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "warm", json_object_new_int(1));
		free(strdup(json_object_to_json_string(o)));
		json_object_put(o);
	}
}

int api_http__start(struct api *api)
{
	/* No internal thread: the API thread drives MHD (api.c). */
	api->daemon = api_mhd.start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
		NULL, NULL,
		on_request, api,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api, /* must be first */
		MHD_OPTION_LISTEN_SOCKET, api->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, api->params.max_conns,
		MHD_OPTION_CONNECTION_TIMEOUT, api->params.conn_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
		MHD_OPTION_END);
	if (!api->daemon) {
		log_err("api: cannot start the HTTP server on %s", api->path);
		return -EIO;
	}
	return 0;
}

void api_http__stop(struct api *api)
{
	if (api->daemon) {
		api_mhd.stop_daemon(api->daemon);
		api->daemon = NULL;
	}
}
