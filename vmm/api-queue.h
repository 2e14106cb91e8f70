/*
 * api-queue.h: the channel between the API thread and the VMM thread.
 * The API thread posts a struct vmm_request and blocks (bounded) for
 * the answer; the VMM thread is woken through an eventfd, executes the
 * queued requests one by one and completes them. The queue owns every
 * request in flight, so a caller that gives up (timeout) never leaves
 * the VMM side writing into freed memory.
 *
 * Requests that run long (a snapshot) are posted instead: the caller
 * gets a completion callback and collects the answer later, so the API
 * thread keeps serving other clients meanwhile.
 *
 * Threads: api_queue__call/post/result/release from any number of
 * client threads; api_queue__drain from the single VMM thread;
 * api_queue__close from any thread.
 */
#ifndef VMM_API_QUEUE_H
#define VMM_API_QUEUE_H

#include "vmm/util.h"

struct api_queue;
struct api_call;
struct vmm_request;
struct vmm_response;

/*
 * Executes one request on the VMM thread: fills @resp (zeroed before
 * the call) with ret = 0 or -errno and, on error, a message.
 */
typedef void (*api_exec_fn)(void *opaque, const struct vmm_request *req,
			    struct vmm_response *resp);

/* Create an open, empty queue with its eventfd. Returns 0 or -errno. */
int __must_check api_queue__create(struct api_queue **out);

/*
 * Close the queue (api_queue__close) and free it. No thread may be
 * inside api_queue__call or api_queue__drain. NULL-safe.
 */
void api_queue__destroy(struct api_queue *q);

/*
 * The eventfd (owned by the queue; nonblocking) that becomes readable
 * when requests are pending. Register it with EPOLLIN on the VMM loop.
 */
int api_queue__fd(const struct api_queue *q);

/*
 * Post @req and wait up to @timeout_ms for the VMM thread to execute
 * it; the answer is copied into @resp. Returns 0 when @resp holds the
 * answer (check resp->ret), -ETIMEDOUT when the VMM thread did not
 * answer in time (a request already being executed still completes,
 * its answer is dropped; one still queued is withdrawn), -ESHUTDOWN
 * when the queue is closed, or -ENOMEM.
 */
int __must_check api_queue__call(struct api_queue *q,
				 const struct vmm_request *req,
				 struct vmm_response *resp,
				 unsigned int timeout_ms);

/*
 * Runs once when a posted call completes (executed, or refused because
 * the queue closed), on the completing thread (the VMM thread, or the
 * one calling api_queue__close), with no queue lock held. Must not
 * block; typically wakes the poster.
 */
typedef void (*api_done_fn)(void *opaque);

/*
 * Post @req without waiting: @notify(@opaque) runs when it completes;
 * then api_queue__result gives the answer. The caller owns *out until
 * api_queue__release. Returns 0, -ESHUTDOWN (queue closed; @notify is
 * not called) or -ENOMEM.
 */
int __must_check api_queue__post(struct api_queue *q,
				 const struct vmm_request *req,
				 api_done_fn notify, void *opaque,
				 struct api_call **out);

/*
 * Copy the answer of posted @call into @resp. Returns 0, or -EAGAIN
 * when it has not completed yet.
 */
int api_queue__result(struct api_queue *q, struct api_call *call,
		      struct vmm_response *resp);

/*
 * Give up the caller's hold on posted @call (after reading its result,
 * or to abandon it: one still queued is withdrawn and never executed
 * nor notified; one being executed completes and is dropped).
 * NULL-safe.
 */
void api_queue__release(struct api_queue *q, struct api_call *call);

/*
 * VMM thread: clear the eventfd, then execute every queued request
 * with @exec, in order. Returns the number executed.
 */
unsigned int api_queue__drain(struct api_queue *q, api_exec_fn exec,
			      void *opaque);

/*
 * Refuse further calls with -ESHUTDOWN and complete every queued one
 * with resp.ret = -ESHUTDOWN. A request being executed still completes.
 * Idempotent.
 */
void api_queue__close(struct api_queue *q);

#endif /* VMM_API_QUEUE_H */
