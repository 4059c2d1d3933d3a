/*
 * Busy polling for the calling thread's event loop, as HAProxy's `busy-polling`: an idle
 * handle that is always started makes libuv poll with a zero timeout, so the thread never
 * sleeps in epoll_wait. A core that sleeps between requests wakes late (through the
 * hypervisor on a VM) and runs the next request with cold caches; a spinning one does not,
 * at the price of the whole core. The handle is unref'd (it never keeps a loop alive) and
 * closed by an async cleanup hook when the thread's environment goes away.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdlib.h>
#include <uv.h>
#include "busy_poll.h"

typedef struct {
  uv_idle_t idle;
  napi_async_cleanup_hook_handle hook;
} busy_poll;

/* One per thread: each worker thread has its own loop and its own instance of the addon. */
static __thread busy_poll *current;

static void on_idle(uv_idle_t *handle) { (void)handle; }

static void free_handle(uv_handle_t *handle) { free(handle->data); }

static void on_closed(uv_handle_t *handle) {
  busy_poll *bp = handle->data;
  napi_remove_async_cleanup_hook(bp->hook);
  free(bp);
}

static void on_cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  (void)hook;
  busy_poll *bp = arg;
  if (current == bp) current = NULL;
  uv_idle_stop(&bp->idle);
  uv_close((uv_handle_t *)&bp->idle, on_closed);
}

/* busyPoll(on) -> whether this thread's loop now busy-polls. */
napi_value busy_poll_set(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  bool on = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "busyPoll(on: boolean)");
    return NULL;
  }
  if (on && current == NULL) {
    struct uv_loop_s *loop;
    busy_poll *bp = calloc(1, sizeof *bp);
    if (bp == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_idle_init(loop, &bp->idle) != 0) {
      free(bp);
      napi_throw_error(env, "ESYSCALL", "busyPoll: cannot create an idle handle on this thread's loop");
      return NULL;
    }
    bp->idle.data = bp;
    uv_unref((uv_handle_t *)&bp->idle);
    if (napi_add_async_cleanup_hook(env, on_cleanup, bp, &bp->hook) != napi_ok) {
      uv_close((uv_handle_t *)&bp->idle, free_handle);
      napi_throw_error(env, "ESYSCALL", "busyPoll: cannot register the cleanup hook");
      return NULL;
    }
    current = bp;
  }
  if (current != NULL) {
    if (on) uv_idle_start(&current->idle, on_idle);
    else uv_idle_stop(&current->idle);
  }
  napi_get_boolean(env, on, &out);
  return out;
}
