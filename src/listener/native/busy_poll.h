#ifndef LEGATE_BUSY_POLL_H
#define LEGATE_BUSY_POLL_H
#include <node_api.h>

/* busyPoll(on: boolean): see busy_poll.c. */
napi_value busy_poll_set(napi_env env, napi_callback_info info);

#endif
