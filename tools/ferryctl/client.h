/*
 * client.h: ferryctl's HTTP client for the ferry API socket, a thin
 * wrapper around libcurl (CURLOPT_UNIX_SOCKET_PATH) that sends one
 * request and returns the status and the JSON body.
 */
#ifndef TOOLS_FERRYCTL_CLIENT_H
#define TOOLS_FERRYCTL_CLIENT_H

#include <stddef.h>

struct client;
struct json_object;

/* Largest response accepted (GET /vm is a few KiB). */
#define CLIENT_MAX_BODY (1U << 20)

/*
 * Prepare a client for the socket @sock_path (copied) with a per-request
 * @timeout_ms. Returns 0 or -errno.
 */
int client__create(const char *sock_path, long timeout_ms,
		   struct client **out);

/* Free the client. NULL-safe. */
void client__destroy(struct client *c);

/*
 * Send @method @path with the JSON @body (NULL: none). On 0, *status is
 * the HTTP status and *json the parsed body (caller puts it; NULL when
 * the body was not JSON). On failure to reach the server returns
 * -ECONNREFUSED / -ENOENT / -ETIMEDOUT / -EIO with a reason in @err.
 */
int client__request(struct client *c, const char *method, const char *path,
		    const char *body, long *status, struct json_object **json,
		    char *err, size_t errlen);

#endif /* TOOLS_FERRYCTL_CLIENT_H */
